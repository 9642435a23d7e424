"""Real task worker processes (`manage.py run_worker`) on the test database.

On PostgreSQL the workers use the test database itself (the test must commit:
`transactional_db`). On SQLite the test database is in memory: it is copied to
a file for the workers (`publish`) and copied back when they are done
(`collect`), so that the test reads their work through the ORM either way.
"""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings
from django.db import connection
from django_tasks_db.models import DBTaskResult

BASE_DIR = Path(settings.BASE_DIR)
TASKS_TABLE = DBTaskResult._meta.db_table


class SharedDatabase:
    def __init__(self, folder):
        self.sqlite = connection.vendor == "sqlite"
        if self.sqlite:
            self.path = Path(folder) / "workers.sqlite3"
            self.url = f"sqlite:///{self.path}"
        else:
            db = connection.settings_dict
            password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
            self.url = (
                f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:"
                f"{db['PORT'] or 5432}/{db['NAME']}"
            )

    def publish(self):
        """The test's data, for the workers (SQLite: the file they use)."""
        if self.sqlite:
            connection.ensure_connection()
            self.path.unlink(missing_ok=True)
            target = sqlite3.connect(self.path)
            connection.connection.backup(target)
            target.close()

    def collect(self):
        """The workers' work, for the test's ORM (SQLite: copied back)."""
        if self.sqlite:
            source = sqlite3.connect(self.path, timeout=20)
            source.backup(connection.connection)
            source.close()

    def statuses(self):
        """{status: count} of the task results, as the workers left them."""
        query = f"SELECT status, COUNT(*) FROM {TASKS_TABLE} GROUP BY status"
        if self.sqlite:
            source = sqlite3.connect(self.path, timeout=20)
            try:
                return dict(source.execute(query).fetchall())
            finally:
                source.close()
        with connection.cursor() as cursor:
            cursor.execute(query)
            return dict(cursor.fetchall())

    def tasks(self):
        """[(status, task path, arguments)] of the task results, as the workers
        left them."""
        query = f"SELECT status, task_path, args_kwargs FROM {TASKS_TABLE}"
        if self.sqlite:
            source = sqlite3.connect(self.path, timeout=20)
            try:
                rows = source.execute(query).fetchall()
            finally:
                source.close()
        else:
            with connection.cursor() as cursor:
                cursor.execute(query)
                rows = cursor.fetchall()
        return [(s, path, json.loads(a) if isinstance(a, str) else a) for s, path, a in rows]

    def wait(self, condition, timeout=90, what="the workers"):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            statuses = self.statuses()
            if condition(statuses):
                return statuses
            time.sleep(0.2)
        raise AssertionError(f"Timed out waiting for {what}: {self.statuses()}")

    def wait_until_done(self, timeout=90):
        """Until no task is ready or running (tasks retried later included)."""
        return self.wait(
            lambda s: not s.get("READY") and not s.get("RUNNING"), timeout, "an empty queue"
        )


class Workers:
    """Starts `manage.py run_worker` processes; all killed at the end."""

    def __init__(self, database, folder, smtp_port=None, **environment):
        self.database = database
        self.folder = Path(folder)
        self.smtp_port = smtp_port
        self.environment = environment
        self.processes = {}
        self.documents = self.folder / "documents"

    def start(self, worker_id, **environment):
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.settings",
            "DATABASE_URL": self.database.url,
            "MEDIA_ROOT": str(settings.MEDIA_ROOT),
            # Their own, so that the test sees the files they store.
            "DOCUMENTS_ROOT": str(self.documents),
            "TASK_WORKER_TIMEOUT": "2",
            "EMAIL_RETRY_BASE_SECONDS": "1",
            "EMAIL_TIMEOUT": "60",
            **self.environment,
            **environment,
        }
        env.pop("DEBUG", None)
        if self.smtp_port:
            env.update(EMAIL_HOST="127.0.0.1", EMAIL_PORT=str(self.smtp_port), EMAIL_USE_TLS="0")
        log = open(self.folder / f"{worker_id}.log", "wb")  # noqa: SIM115 (closed with it)
        process = subprocess.Popen(
            [
                sys.executable,
                "manage.py",
                "run_worker",
                "--no-startup-delay",
                "--interval",
                "0.1",
                "--worker-id",
                worker_id,
            ],
            cwd=BASE_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        process.log = log
        self.processes[worker_id] = process
        return process

    def kill(self, worker_id):
        """SIGKILL: no cleanup, as when a node is lost."""
        process = self.processes[worker_id]
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)

    def stop(self):
        """SIGTERM, then the end of the current task (SIGKILL after 30 s)."""
        for process in self.processes.values():
            if process.poll() is None:
                process.terminate()
        for process in self.processes.values():
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            process.log.close()

    def log(self, worker_id):
        return (self.folder / f"{worker_id}.log").read_text(errors="replace")
