"""Keys that stay the same when a task is run again after its worker died,
and the task backend that uses them so that a task enqueues its follow-ups
once (see extranet/workers.py)."""

import uuid
from contextvars import ContextVar

import django_tasks_db
from django.db import IntegrityError, transaction
from django.tasks.signals import task_finished, task_started

# The task this worker is running, and how many keys it has derived so far.
_current = ContextVar("current_task", default=None)


class _Running:
    def __init__(self, task_id):
        self.task_id = str(task_id)
        self.counts = {}
        self.enqueued_id = None

    def next_key(self, kind):
        index = self.counts.get(kind, 0)
        self.counts[kind] = index + 1
        return f"{self.task_id}:{kind}:{index}"


def _on_task_started(sender, task_result, **kwargs):
    _current.set(_Running(task_result.id))


def _on_task_finished(sender, task_result, **kwargs):
    _current.set(None)


task_started.connect(_on_task_started, dispatch_uid="extranet.workers.started")
task_finished.connect(_on_task_finished, dispatch_uid="extranet.workers.finished")


def peek_key(kind):
    """The key `next_key(kind)` will give, without taking it."""
    running = _current.get()
    return f"{running.task_id}:{kind}:{running.counts.get(kind, 0)}" if running else None


def next_key(kind):
    """A key for the next side effect of `kind` of the running task: the same
    in every run of that task (its side effects come in the same order), None
    outside a task."""
    running = _current.get()
    return running.next_key(kind) if running else None


class DatabaseBackend(django_tasks_db.DatabaseBackend):
    """django-tasks-db's backend; a task enqueued by a running task gets an id
    derived from that task's, so that the task run again after its worker died
    does not enqueue it a second time: the first one is returned."""

    def _get_id(self):
        running = _current.get()
        if running is None:
            return super()._get_id()
        running.enqueued_id = uuid.uuid5(
            uuid.NAMESPACE_URL, f"extranet-task:{running.next_key('enqueue')}"
        )
        return running.enqueued_id

    def _task_to_db_task(self, task, args, kwargs):
        if _current.get() is None:
            return super()._task_to_db_task(task, args, kwargs)
        try:
            with transaction.atomic():
                return super()._task_to_db_task(task, args, kwargs)
        except IntegrityError:
            # Only a derived id can already exist: enqueued by a previous run.
            running = _current.get()
            if running is None or running.enqueued_id is None:
                raise
            from django_tasks_db.models import DBTaskResult

            return DBTaskResult.objects.get(pk=running.enqueued_id)


def retried_already():
    """Whether a previous run of the running task already enqueued its next
    task (a retry queued just before its worker died): then that retry, not
    this run, does the work."""
    running = _current.get()
    if running is None:
        return False
    from django_tasks_db.models import DBTaskResult

    index = running.counts.get("enqueue", 0)
    next_id = uuid.uuid5(uuid.NAMESPACE_URL, f"extranet-task:{running.task_id}:enqueue:{index}")
    return DBTaskResult.objects.filter(pk=next_id).exists()
