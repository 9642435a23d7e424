"""The health check for load balancers and monitoring: /sante/.

It answers « ok » (200) when this node can serve families: the database
answers, the shared cache keeps a value, the file storage answers, and no
task ready to run has been waiting longer than HEALTH_MAX_QUEUE_AGE seconds
(the task workers are running and keeping up). Otherwise 503, with a body
that says nothing more: which part failed is written to this server's log
only, never to whoever asks (no versions, host names, counts or errors).
"""

import logging
import os
import threading
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.core.files.storage import storages
from django.db import connection
from django.db.models import Case, F, Min, When
from django.http import HttpResponse
from django.utils import timezone
from django.views.decorators.http import require_safe
from django_tasks_db.models import DBTaskResult, get_date_max

from .storage import check_storage

logger = logging.getLogger(__name__)


def check_database():
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def check_cache():
    # A key per process and thread: two checks at once do not race.
    key = f"health:{os.getpid()}:{threading.get_ident()}"
    value = timezone.now().isoformat()
    cache.set(key, value, timeout=60)
    if cache.get(key) != value:
        raise RuntimeError("the cache did not keep a value")


def check_storages():
    for alias in ("documents", "default"):
        check_storage(storages[alias])


def check_queue():
    """The oldest task ready to run (queued without delay, or whose delay
    has passed) must not have waited too long."""
    now = timezone.now()
    oldest = DBTaskResult.objects.ready().aggregate(
        since=Min(
            Case(When(run_after=get_date_max(), then=F("enqueued_at")), default=F("run_after"))
        )
    )["since"]
    if oldest is not None and now - oldest > timedelta(seconds=settings.HEALTH_MAX_QUEUE_AGE):
        raise RuntimeError(f"a task has been waiting since {oldest.isoformat()}")


CHECKS = [
    ("database", check_database),
    ("cache", check_cache),
    ("storage", check_storages),
    ("queue", check_queue),
]


@require_safe
def health(request):
    failed = []
    for name, check in CHECKS:
        if name == "queue" and "database" in failed:
            failed.append(name)
            continue
        try:
            check()
        except Exception as error:  # Whatever the cause, this node is not healthy.
            logger.warning("Health check: %s unavailable: %s", name, error)
            failed.append(name)
    response = HttpResponse(
        "unavailable\n" if failed else "ok\n",
        content_type="text/plain; charset=utf-8",
        status=503 if failed else 200,
    )
    response["Cache-Control"] = "no-store"
    # A dependency down is reported above as a warning, once per check; the
    # 503 itself is expected, not an error of the application.
    response._has_been_logged = True
    return response
