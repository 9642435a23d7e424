"""The task worker to run in production, one or more per node:
django-tasks-db's `db_worker` with a heartbeat, so that the tasks of a worker
that died (killed, node lost) are run again by another (extranet/workers.py)."""

import os

from django.utils.autoreload import DJANGO_AUTORELOAD_ENV
from django_tasks_db.management.commands import db_worker

from extranet.workers import Heartbeat


class Command(db_worker.Command):
    help = (
        "Run the task worker (db_worker) with a heartbeat; tasks left running by "
        "a dead worker are given back to the queue after TASK_WORKER_TIMEOUT seconds."
    )

    def add_arguments(self, parser):
        super().add_arguments(parser)
        # Reloading on code changes restarts a worker mid-task: never by default.
        parser.set_defaults(reload=False)

    def handle(self, *args, worker_id, reload, **options):
        # With --reload the parent process only watches files: its child works.
        works = not reload or os.environ.get(DJANGO_AUTORELOAD_ENV) == "true"
        heartbeat = Heartbeat(worker_id) if works else None
        if heartbeat:
            heartbeat.start()
        try:
            super().handle(*args, worker_id=worker_id, reload=reload, **options)
        finally:
            if heartbeat:
                heartbeat.stop()
