"""The figures behind README "Capacity", measured on a database the load test left
(bench/campaign_load.py --keep: the families seeded, then their campaign visits: documents,
requests, payments, receipts, task results).

    .venv/bin/python bench/campaign_load.py --users 50 --duration 120 --keep
    DATABASE_URL=postgres://…/extranet_campaign_NNN DOCUMENTS_ROOT=var/campaign-…/documents \\
        .venv/bin/python bench/capacity.py size
    DATABASE_URL=… DOCUMENTS_ROOT=… .venv/bin/python bench/capacity.py queue [--invoices 100]

`size`: the database's size per family (pg_database_size and pg_total_relation_size of the
largest tables, divided by the families) and the stored files per family (documents, invoice
and receipt PDFs). `queue`: one task worker renders and e-mails invoices whose PDF is not
stored yet (to a real SMTP server started here): PDFs and e-mails per second per worker,
then plain e-mails alone.
"""

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def size():
    from django.conf import settings
    from django.db import connection

    from families.models import Family

    families = Family.objects.count()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_database_size(current_database())")
        (database,) = cursor.fetchone()
        cursor.execute(
            "SELECT relname, pg_total_relation_size(c.oid) FROM pg_class c"
            " JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = 'public' AND c.relkind = 'r' ORDER BY 2 DESC LIMIT 12"
        )
        tables = cursor.fetchall()
        # A fresh database's own size (catalogue, empty tables) is not per family.
        cursor.execute("SELECT pg_database_size('template1')")
        (empty,) = cursor.fetchone()
    files = [p for p in Path(settings.DOCUMENTS_ROOT).rglob("*") if p.is_file()]
    stored = sum(p.stat().st_size for p in files)
    print(f"families: {families}")
    print(
        f"database: {database / 1e6:.1f} MB, {(database - empty) / families / 1e3:.1f} kB "
        f"per family (less an empty database's {empty / 1e6:.1f} MB)"
    )
    for name, total in tables:
        print(f"  {name:<45} {total / 1e6:8.2f} MB {total / families / 1e3:8.2f} kB/family")
    kinds = {}
    for path in files:
        top = path.relative_to(settings.DOCUMENTS_ROOT).parts[0]
        kinds.setdefault(top, []).append(path.stat().st_size)
    per_family = stored / families / 1e3
    print(f"stored files: {len(files)}, {stored / 1e6:.1f} MB, {per_family:.1f} kB per family")
    for folder, sizes in sorted(kinds.items()):
        print(f"  {folder:<20} {len(sizes):6} files, {sum(sizes) / len(sizes) / 1e3:7.1f} kB each")


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def drain(env, expected_done, label, started):
    from django_tasks_db.models import DBTaskResult

    worker = subprocess.Popen(
        [sys.executable, "manage.py", "db_worker", "--interval", "0.1"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        while DBTaskResult.objects.filter(status__in=["READY", "RUNNING"]).exists():
            time.sleep(0.2)
    finally:
        worker.terminate()
        worker.wait(30)
    elapsed = time.monotonic() - started
    print(
        f"{label}: {expected_done} in {elapsed:.1f} s, {expected_done / elapsed:.1f}/s, one worker"
    )


def queue(invoices, emails):
    from django_tasks_db.models import DBTaskResult

    from billing.models import Invoice
    from billing.tasks import render_invoice_pdf
    from extranet.tasks import send_email

    port = free_port()
    folder = Path(tempfile.mkdtemp(prefix="capacity-mail-"))
    sink = subprocess.Popen(
        [sys.executable, str(ROOT / "bench" / "smtp_sink.py"), "--port", str(port)]
        + ["--out", str(folder / "mail.jsonl")]
    )
    env = {
        **os.environ,
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(port),
        "EMAIL_USE_TLS": "0",
        "LOG_LEVEL": "WARNING",
    }
    try:
        time.sleep(1)
        DBTaskResult.objects.filter(status__in=["READY", "RUNNING"]).delete()
        ids = list(
            Invoice.objects.filter(status=Invoice.Status.ISSUED, pdf="").values_list(
                "pk", flat=True
            )[:invoices]
        )
        for pk in ids:
            render_invoice_pdf.enqueue(pk, "http://127.0.0.1")
        drain(env, len(ids), "invoice PDFs rendered, stored and e-mailed", time.monotonic())
        payload = {
            "subject": "Réinscription reçue",
            "body": "Bonjour,\n" + "Votre demande est bien reçue.\n" * 20,
            "html": None,
            "from_email": "Extranet <extranet@localhost>",
            "to": ["famille@example.org"],
            "reply_to": [],
        }
        for _ in range(emails):
            send_email.enqueue(payload)
        drain(env, emails, "e-mails sent", time.monotonic())
        with open(folder / "mail.jsonl") as handle:
            print(f"SMTP server received {sum(1 for _ in handle)} messages")
    finally:
        sink.terminate()
        sink.wait(10)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=["size", "queue"])
    parser.add_argument("--invoices", type=int, default=100)
    parser.add_argument("--emails", type=int, default=500)
    args = parser.parse_args()
    from bench.environment import ready

    ready()
    if args.what == "size":
        size()
    else:
        queue(args.invoices, args.emails)


if __name__ == "__main__":
    main()
