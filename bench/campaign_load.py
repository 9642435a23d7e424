"""Load test "opening of the re-enrollment campaign": N parents at once, each signing in,
opening Accueil, sending both children's re-enrollment requests with an upload, opening
Facturation and paying through the simulated bank (bench/locustfile.py).

    .venv/bin/python bench/campaign_load.py [--users 200] [--duration 300]
        [--smtp-outage | --restart-node] [--families 1000] [--json var/load/result.json]

On loopback only. It creates a throwaway PostgreSQL database (dropped at the end unless
--keep), migrates it, loads the demo network and seeds the families (bench/campaign_data.py),
starts a real SMTP server (bench/smtp_sink.py), the portal (deploy/cluster.py: nginx, two
gunicorn nodes of two workers, two task workers) with production settings, Redis and the
simulated bank, then runs locust headless. Scenarios:

    (default)       the campaign opening as it is
    --smtp-outage   the SMTP server stopped for the middle minute (the middle third of a
                    shorter run), then started again
    --restart-node  one node restarted gracefully in the middle of the run: gunicorn's
                    reload (SIGHUP: new workers with the new code, the listening socket
                    kept), or with `--restart-node replace` a new process for the node

It prints requests per second, p50/p95/p99 per step and overall, the failures, and the
e-mails expected against those delivered (once the queue has drained, within
--drain-timeout seconds), writes the same as JSON, and exits non-zero if any request failed,
any e-mail was lost or delivered twice, or the queue did not drain.
"""

import argparse
import csv
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
SITE = "combs-la-ville"
PG = os.environ.get("LOAD_PG", "postgres://postgres@127.0.0.1:5432")
REDIS = os.environ.get("LOAD_REDIS_URL", "redis://127.0.0.1:6379/7")


def log(text):
    print(f"[{datetime.now(UTC):%H:%M:%S}] {text}", flush=True)


def free_port(start=None):
    if start:
        for port in range(start, start + 100):
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) != 0:
                    return port
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_port(port, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise RuntimeError(f"nothing listens on port {port} after {timeout} s")


def warm_up(url, requests=8):
    """Each gunicorn worker imports the application on its first request: not measured."""
    from urllib.request import urlopen

    for _ in range(requests):
        with urlopen(f"{url}/connexion/{SITE}/", timeout=60) as response:
            response.read()


def run(args, env, **kwargs):
    subprocess.run(args, env=env, cwd=ROOT, check=True, **kwargs)


# The database.


def psql(database, *commands):
    import psycopg

    with psycopg.connect(f"{PG}/{database}", autocommit=True) as connection:
        return [connection.execute(command).fetchall() for command in commands]


def create_database(name):
    import psycopg

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
        connection.execute(f'CREATE DATABASE "{name}"')


def drop_database(name):
    import psycopg

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def prepare(env, families, password):
    log("migrating")
    run([PY, "manage.py", "migrate", "--no-input", "-v0"], env)
    run([PY, "manage.py", "createcachetable"], env)
    run([PY, "manage.py", "collectstatic", "--no-input", "-v0"], env)
    log("demo network")
    run([PY, "manage.py", "load_demo_data", "--force"], env, stdout=subprocess.DEVNULL)
    log(f"seeding {families} families")
    started = time.monotonic()
    run([PY, "bench/campaign_data.py", "--families", str(families), "--password", password], env)
    log(f"seeded in {time.monotonic() - started:.0f} s")


# The SMTP server, a process of its own so that it can be stopped and started again.


class Sink:
    def __init__(self, port, out):
        self.port, self.out, self.process = port, out, None

    def start(self):
        self.process = subprocess.Popen(
            [PY, str(ROOT / "bench" / "smtp_sink.py"), "--port", str(self.port), "--out", self.out]
        )
        wait_for_port(self.port)

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)
        self.process = None

    def messages(self):
        if not Path(self.out).exists():
            return []
        with open(self.out, encoding="utf-8") as handle:
            return [json.loads(line) for line in handle if line.strip()]


# The portal.


def restart(portal, mode):
    log(f"node 0 restarting ({mode})")
    if mode == "reload":
        os.kill(portal.node_pids(0), signal.SIGHUP)
    else:
        portal.restart_node(0)
    log("node 0 restarted")


def start_portal(workdir, port, env):
    sys.path.insert(0, str(ROOT))
    from deploy.cluster import Cluster

    cluster = Cluster(workdir, port, nodes=2, workers_per_node=2, env=env, task_workers=2)
    cluster.start()
    warm_up(cluster.url)
    return cluster


# Locust.


def run_locust(url, users, duration, workdir, env, events):
    prefix = str(Path(workdir) / "locust")
    process = subprocess.Popen(
        [
            str(Path(PY).parent / "locust"),
            "-f",
            str(ROOT / "bench" / "locustfile.py"),
            "--headless",
            "--host",
            url,
            "--users",
            str(users),
            "--spawn-rate",
            str(users),
            "--run-time",
            f"{duration}s",
            "--stop-timeout",
            "30",
            "--csv",
            prefix,
            "--only-summary",
            "--loglevel",
            "WARNING",
        ],
        env=env,
        cwd=ROOT,
    )
    started = time.monotonic()
    try:
        for at, action in sorted(events, key=lambda event: event[0]):
            delay = started + at - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            action()
        process.wait()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    return read_stats(prefix + "_stats.csv"), read_failures(prefix + "_failures.csv")


def read_stats(path):
    steps = {}
    with open(path, encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            steps[row["Name"]] = {
                "requests": int(row["Request Count"]),
                "failures": int(row["Failure Count"]),
                "rps": round(float(row["Requests/s"]), 2),
                "p50_ms": float(row["50%"] or 0),
                "p95_ms": float(row["95%"] or 0),
                "p99_ms": float(row["99%"] or 0),
            }
    return steps


def read_failures(path):
    if not Path(path).exists():
        return []
    with open(path, encoding="utf-8") as handle:
        return [
            {"step": row["Name"], "error": row["Error"], "count": int(row["Occurrences"])}
            for row in csv.DictReader(handle)
        ]


# The e-mails.


def queue_state(database):
    (rows,) = psql(
        database,
        "SELECT task_path, args_kwargs, status, return_value"
        " FROM django_tasks_database_dbtaskresult",
    )
    return rows


def pending(rows):
    return sum(1 for _, _, status, _ in rows if status in ("READY", "RUNNING"))


def mail_chains(rows):
    """Each e-mail is a chain of task attempts (the same task and arguments, `attempt`
    counting up): sent when one attempt returned "sent"."""
    chains = {}
    for path, args_kwargs, status, value in rows:
        if not path.rsplit(".", 1)[-1].startswith(("send_", "notify_")):
            continue
        kwargs = dict(args_kwargs.get("kwargs", {}))
        kwargs.pop("attempt", None)
        key = json.dumps([path, args_kwargs.get("args", []), kwargs], sort_keys=True)
        chain = chains.setdefault(key, {"attempts": 0, "sent": 0, "other": 0})
        chain["attempts"] += 1
        if status == "SUCCESSFUL" and value == "sent":
            chain["sent"] += 1
        elif status == "SUCCESSFUL":
            chain["other"] += 1
    return chains


def mail_report(database, sink, drain_timeout):
    deadline = time.monotonic() + drain_timeout
    rows = queue_state(database)
    while pending(rows) and time.monotonic() < deadline:
        time.sleep(2)
        rows = queue_state(database)
    chains = [c for c in mail_chains(rows).values() if not c["other"]]
    delivered = sink.messages()
    identities = {(tuple(m["to"]), m["subject"], m["sha256"]) for m in delivered}
    return {
        "queue_drained": not pending(rows),
        "tasks_left": pending(rows),
        "expected": len(chains),
        "sent_by_workers": sum(c["sent"] for c in chains),
        "retried": sum(1 for c in chains if c["attempts"] > 1),
        "delivered": len(delivered),
        "lost": sum(1 for c in chains if not c["sent"]),
        "sent_twice": sum(1 for c in chains if c["sent"] > 1),
        "delivered_twice": len(delivered) - len(identities),
    }


def business_counts(database):
    (sent,), (payments,), (uploads,) = psql(
        database,
        "SELECT count(*) FROM reenrollment_reenrollmentrequest WHERE submitted_at IS NOT NULL",
        "SELECT count(*) FROM billing_payment WHERE mode = 'online_card'",
        "SELECT (SELECT count(*) FROM families_familydocument)"
        " + (SELECT count(*) FROM students_studentdocument)",
    )
    return {
        "requests_sent": sent[0],
        "online_payments": payments[0],
        "documents": uploads[0],
    }


def summary(steps):
    total = steps.get("Aggregated", {})
    width = max(len(name) for name in steps) if steps else 10
    lines = [
        f"{'step':<{width}}  {'requests':>8} {'fail':>5} {'req/s':>7} "
        f"{'p50':>6} {'p95':>6} {'p99':>6}  (ms)"
    ]
    for name, row in steps.items():
        if name == "Aggregated":
            continue
        lines.append(
            f"{name:<{width}}  {row['requests']:>8} {row['failures']:>5} {row['rps']:>7} "
            f"{row['p50_ms']:>6.0f} {row['p95_ms']:>6.0f} {row['p99_ms']:>6.0f}"
        )
    if total:
        lines.append(
            f"{'all':<{width}}  {total['requests']:>8} {total['failures']:>5} {total['rps']:>7} "
            f"{total['p50_ms']:>6.0f} {total['p95_ms']:>6.0f} {total['p99_ms']:>6.0f}"
        )
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--duration", type=int, default=300, help="seconds")
    parser.add_argument("--families", type=int, default=1000)
    parser.add_argument("--think", type=float, default=1.0, help="mean think time, seconds")
    scenario = parser.add_mutually_exclusive_group()
    scenario.add_argument("--smtp-outage", action="store_true")
    scenario.add_argument(
        "--restart-node",
        nargs="?",
        const="reload",
        choices=["reload", "replace"],
        help="reload: gunicorn's graceful reload of node 0 (SIGHUP: new workers, the socket "
        "kept); replace: a new process for the node (Cluster.restart_node)",
    )
    parser.add_argument("--port", type=int, default=8700, help="first port to try")
    parser.add_argument("--drain-timeout", type=int, default=300, help="seconds")
    parser.add_argument("--json", default=str(ROOT / "var" / "load" / "campaign.json"))
    parser.add_argument("--keep", action="store_true", help="keep the database and workdir")
    args = parser.parse_args(argv)

    (ROOT / "var").mkdir(exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="campaign-", dir=ROOT / "var"))
    database = f"extranet_campaign_{os.getpid()}"
    password = "Campagne-" + secrets.token_urlsafe(12)
    port = free_port(args.port)
    smtp_port = free_port(port + 1)
    env = {
        **os.environ,
        # The production settings, whoever calls (the tests run with their own).
        "DJANGO_SETTINGS_MODULE": "extranet.settings",
        "DATABASE_URL": f"{PG}/{database}",
        "CONN_MAX_AGE": "60",
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "CSRF_TRUSTED_ORIGINS": "http://127.0.0.1,http://localhost",
        # Plain HTTP on loopback: no redirection to HTTPS, cookies without Secure.
        "SECURE_SSL_REDIRECT": "0",
        "SECURE_COOKIES": "0",
        "SECURE_HSTS_SECONDS": "0",
        "REDIS_URL": REDIS,
        "PAYMENT_SIMULATOR": "1",
        "PAYMENT_ALLOW_TEST": "1",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(smtp_port),
        "EMAIL_USE_TLS": "0",
        "EMAIL_TIMEOUT": "5",
        "EMAIL_RETRY_BASE_SECONDS": "5",
        "EMAIL_MAX_ATTEMPTS": "12",
        "STATIC_ROOT": str(workdir / "static"),
        "MEDIA_ROOT": str(workdir / "media"),
        "DOCUMENTS_ROOT": str(workdir / "documents"),
        "LOG_LEVEL": "WARNING",
        "LOAD_FAMILIES": str(args.families),
        "LOAD_PASSWORD": password,
        "LOAD_SITE": SITE,
        "LOAD_THINK_SECONDS": str(args.think),
    }
    import redis

    redis.Redis.from_url(REDIS).flushdb()
    create_database(database)
    portal = sink = None
    result = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "arguments": vars(args),
        "database": database,
        "workdir": str(workdir),
    }
    try:
        prepare(env, args.families, password)
        sink = Sink(smtp_port, str(workdir / "mail.jsonl"))
        sink.start()
        portal = start_portal(workdir, port, env)
        env["PORTAL_URL"] = portal.url
        log(f"portal on {portal.url}; {args.users} users for {args.duration} s")
        events = []
        if args.smtp_outage:
            outage = min(60, args.duration // 3)
            middle = args.duration / 2
            events += [
                (middle - outage / 2, lambda: (log("SMTP server stopped"), sink.stop())),
                (middle + outage / 2, lambda: (sink.start(), log("SMTP server started again"))),
            ]
        if args.restart_node:
            events.append((args.duration / 2, lambda: restart(portal, args.restart_node)))
        steps, failures = run_locust(portal.url, args.users, args.duration, workdir, env, events)
        log("load over; waiting for the task queue to drain")
        result["steps"] = steps
        result["failures"] = failures
        result["mail"] = mail_report(database, sink, args.drain_timeout)
        result["done"] = business_counts(database)
    finally:
        if portal:
            portal.stop()
        if sink:
            sink.stop()
        if args.keep:
            log(f"kept: database {database}, files in {workdir}")
        else:
            drop_database(database)
            shutil.rmtree(workdir, ignore_errors=True)
    total = steps.get("Aggregated", {})
    mail = result["mail"]
    print(summary(steps))
    print(
        f"visits done: {result['done']}; e-mails expected {mail['expected']}, delivered "
        f"{mail['delivered']} (retried {mail['retried']}, lost {mail['lost']}, twice "
        f"{mail['delivered_twice'] + mail['sent_twice']}, tasks left {mail['tasks_left']})"
    )
    for failure in failures:
        print(f"FAILED {failure['count']}× {failure['step']}: {failure['error']}")
    ok = (
        total.get("requests", 0) > 0
        and total.get("failures", 1) == 0
        and mail["queue_drained"]
        and mail["lost"] == 0
        and mail["sent_twice"] == 0
        and mail["delivered_twice"] == 0
        and mail["delivered"] == mail["expected"]
    )
    result["ok"] = ok
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(result, indent=2, ensure_ascii=False))
    print(f"{'OK' if ok else 'FAILED'}; results in {args.json}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
