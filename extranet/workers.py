"""Task workers on several nodes: a task is run by one worker at a time, and a
task whose worker died is run again, its side effects not repeated.

- Claiming is django-tasks-db's: SELECT … FOR UPDATE SKIP LOCKED (an exclusive
  transaction on SQLite) then status RUNNING, in one transaction.
- Liveness is a heartbeat: `manage.py run_worker` touches its WorkerHeartbeat
  row every TASK_WORKER_TIMEOUT / 4 seconds from a thread of its own, so a long
  task does not look dead. Every worker also looks for tasks RUNNING for longer
  than TASK_WORKER_TIMEOUT whose worker has not been seen for that long, and
  gives them back to the queue (READY), or marks them FAILED once
  TASK_MAX_RUNS workers have died on them. The update is conditional on the
  claim it saw (status and started_at), so two workers recovering the same
  task, or a task claimed again meanwhile, cannot make it run twice at once.
- A task run again repeats its code: its side effects are made idempotent by
  keys derived from the task's id, stable from one run to the next: e-mails
  (extranet/mail.py, SentEmail) and the tasks it enqueues (DatabaseBackend
  extranet/task_backend.py). Stored PDFs have deterministic names (extranet/files.py).
"""

import logging
import os
import socket
import threading
from datetime import timedelta

from django.conf import settings
from django.db import close_old_connections, connection
from django.utils import timezone
from django_tasks_db.compat import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from .models import SentEmail, WorkerHeartbeat

SENT_EMAILS_KEPT_DAYS = 30

logger = logging.getLogger(__name__)


def beat(worker_id):
    now = timezone.now()
    updated = WorkerHeartbeat.objects.filter(pk=worker_id).update(last_seen=now)
    if not updated:
        WorkerHeartbeat.objects.create(
            worker_id=worker_id,
            hostname=socket.gethostname()[:255],
            pid=os.getpid(),
            started_at=now,
            last_seen=now,
        )


def recover_stalled(now=None):
    """Give back to the queue the tasks whose worker died while running them.
    Returns the ids given back and the ids given up."""
    now = now or timezone.now()
    limit = now - timedelta(seconds=settings.TASK_WORKER_TIMEOUT)
    alive = set(
        WorkerHeartbeat.objects.filter(last_seen__gte=limit).values_list("worker_id", flat=True)
    )
    requeued, failed = [], []
    stalled = DBTaskResult.objects.running().filter(started_at__lt=limit)
    for task in stalled.only("id", "started_at", "worker_ids"):
        if task.worker_ids and task.worker_ids[-1] in alive:
            continue  # A long task of a live worker.
        claim = DBTaskResult.objects.filter(
            pk=task.pk, status=TaskResultStatus.RUNNING, started_at=task.started_at
        )
        runs = len(task.worker_ids)
        if runs >= settings.TASK_MAX_RUNS:
            done = claim.update(
                status=TaskResultStatus.FAILED,
                finished_at=now,
                exception_class_path="extranet.workers.WorkerLost",
                traceback=f"The worker running this task stopped, {runs} times.\n",
            )
            (failed if done else []).append(task.pk)
            if done:
                logger.error("Task %s given up: its worker died %d times", task.pk, runs)
        elif claim.update(status=TaskResultStatus.READY):
            requeued.append(task.pk)
            logger.warning("Task %s given back to the queue: its worker died", task.pk)
    return requeued, failed


def forget_old(now=None):
    """Workers gone for a day, and e-mail records older than any task that
    could still run again, are forgotten."""
    now = now or timezone.now()
    WorkerHeartbeat.objects.filter(last_seen__lt=now - timedelta(days=1)).delete()
    SentEmail.objects.filter(sent_at__lt=now - timedelta(days=SENT_EMAILS_KEPT_DAYS)).delete()


class Heartbeat(threading.Thread):
    """Touches the worker's heartbeat and recovers the tasks of dead workers,
    every TASK_WORKER_TIMEOUT / 4 seconds, until stopped."""

    def __init__(self, worker_id):
        super().__init__(name="heartbeat", daemon=True)
        self.worker_id = worker_id
        self.period = settings.TASK_WORKER_TIMEOUT / 4
        self.stopping = threading.Event()

    def start(self):
        beat(self.worker_id)  # Seen before it claims anything.
        connection.close()
        super().start()

    def run(self):
        try:
            while not self.stopping.wait(self.period):
                try:
                    close_old_connections()
                    beat(self.worker_id)
                    recover_stalled()
                    forget_old()
                except Exception:
                    # The database is away: the next beat tries again.
                    logger.exception("Task worker heartbeat failed")
        finally:
            connection.close()

    def stop(self):
        self.stopping.set()
        self.join(timeout=10)
        try:
            WorkerHeartbeat.objects.filter(pk=self.worker_id).delete()
        except Exception:
            logger.exception("Could not remove the heartbeat of %s", self.worker_id)
