"""Task workers on several nodes: real `manage.py run_worker` processes, a real
SMTP server; a task is run once by one worker, the task of a worker killed
mid-way is run again by another, its e-mail and PDF made once."""

from collections import Counter
from datetime import timedelta
from email.header import decode_header, make_header
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from billing.models import Invoice
from directdebit.mandate_tasks import send_code
from directdebit.models import Mandate
from extranet.files import stored_name
from extranet.models import SentEmail, WorkerHeartbeat
from extranet.tasks import send_email
from extranet.workers import forget_old, recover_stalled

from . import factories
from .mail_sink import Hold, SMTPSink
from .workers import SharedDatabase, Workers

pytestmark = pytest.mark.django_db(transaction=True)


def payload(n):
    return {
        "subject": f"Message {n}",
        "body": f"Corps {n}",
        "html": None,
        "from_email": "Extranet <extranet@example.org>",
        "to": [f"famille{n}@example.org"],
        "reply_to": [],
    }


def subjects(sink):
    return Counter(str(make_header(decode_header(m["Subject"]))) for m in sink.messages)


@pytest.fixture
def database(tmp_path):
    return SharedDatabase(tmp_path)


@pytest.fixture
def workers(database, tmp_path, free_port):
    workers = Workers(database, tmp_path, smtp_port=free_port)
    try:
        yield workers
    finally:
        workers.stop()


def test_two_workers_run_each_task_once(database, workers, free_port):
    for n in range(200):
        send_email.enqueue(payload(n))
    database.publish()
    with SMTPSink(free_port, delay=0.02) as sink:
        workers.start("worker-a")
        workers.start("worker-b")
        statuses = database.wait_until_done(timeout=180)
        workers.stop()
    database.collect()
    assert statuses == {"SUCCESSFUL": 200}
    assert subjects(sink) == {f"Message {n}": 1 for n in range(200)}
    assert len({m["Message-ID"] for m in sink.messages}) == 200
    runs = Counter(tuple(ids) for ids in DBTaskResult.objects.values_list("worker_ids", flat=True))
    # Each task claimed once, and both workers worked.
    assert set(runs) == {("worker-a",), ("worker-b",)}, runs
    assert SentEmail.objects.count() == 200
    assert not WorkerHeartbeat.objects.exists()  # Both stopped cleanly.


def kill_while_held(database, workers, free_port, command):
    """One e-mail; the first worker killed while the SMTP server holds its
    answer to `command`; a second worker finishes."""
    send_email.enqueue(payload(1))
    database.publish()
    hold = Hold(command)
    with SMTPSink(free_port, hold=hold) as sink:
        workers.start("worker-a")
        assert hold.reached.wait(60), workers.log("worker-a")
        workers.kill("worker-a")
        hold.released.set()
        assert database.statuses() == {"RUNNING": 1}  # Left so by the dead worker.
        workers.start("worker-b")
        database.wait_until_done()
        workers.stop()
    database.collect()
    (task,) = DBTaskResult.objects.all()
    assert task.status == "SUCCESSFUL" and task.worker_ids == ["worker-a", "worker-b"]
    return sink


def test_a_task_killed_before_the_smtp_server_accepted_is_sent_once(database, workers, free_port):
    sink = kill_while_held(database, workers, free_port, "RCPT")
    assert subjects(sink) == {"Message 1": 1}
    (sent,) = SentEmail.objects.all()
    assert sink.messages[0]["Message-ID"] == sent.message_id


def test_a_task_killed_after_the_smtp_server_accepted_is_not_sent_again(
    database, workers, free_port
):
    sink = kill_while_held(database, workers, free_port, "QUIT")
    assert subjects(sink) == {"Message 1": 1}
    assert SentEmail.objects.count() == 1
    assert DBTaskResult.objects.get().return_value == "already sent"


def fresh_name(invoice):
    """The invoice PDF's name, free: an earlier test whose database was rolled
    back may have stored a file for an invoice of the same ids."""
    name = stored_name(invoice, "pdf", f"{invoice.number}.pdf")
    invoice.pdf.storage.delete(name)
    return name


def documents(folder):
    return sorted(p.name for p in Path(folder).iterdir()) if Path(folder).exists() else []


def test_a_pdf_task_killed_mid_way_stores_one_file_and_sends_one_email(
    database, workers, free_port, parent
):
    factories.payer(parent.family)
    invoice = factories.issued(parent.family)  # Queues the PDF after the commit.
    folder = workers.documents / "billing" / str(invoice.site_id)
    database.publish()
    with SMTPSink(free_port) as sink:
        workers.start("worker-a")
        database.wait(
            lambda _: (
                ("RUNNING", "billing.tasks.render_invoice_pdf")
                in [(status, path) for status, path, _arguments in database.tasks()]
            ),
            what="the PDF task to start",
        )
        workers.kill("worker-a")  # While WeasyPrint renders.
        workers.start("worker-b")
        database.wait_until_done()
        workers.stop()
    database.collect()
    invoice.refresh_from_db()
    assert documents(folder) == [Path(invoice.pdf.name).name]
    assert invoice.pdf.name == stored_name(invoice, "pdf", f"{invoice.number}.pdf")
    tasks = {t.task_path.rsplit(".", 1)[1]: t for t in DBTaskResult.objects.all()}
    assert set(tasks) == {"render_invoice_pdf", "send_invoice"}
    assert tasks["render_invoice_pdf"].worker_ids == ["worker-a", "worker-b"]
    assert tasks["send_invoice"].status == "SUCCESSFUL"
    assert len(sink.messages) == 1


def test_emails_wait_for_the_smtp_server_and_are_all_delivered_once(database, workers, free_port):
    for n in range(10):
        send_email.enqueue(payload(n))
    database.publish()
    workers.start("worker-a")
    workers.start("worker-b")
    # The server is down: every e-mail fails once and is queued again.
    database.wait(
        lambda _: (
            sum(
                status == "FAILED" and "attempt" not in arguments["kwargs"]
                for status, _path, arguments in database.tasks()
            )
            == 10
        ),
        what="the first failures",
    )
    with SMTPSink(free_port) as sink:
        database.wait_until_done(timeout=120)
        workers.stop()
    database.collect()
    assert subjects(sink) == {f"Message {n}": 1 for n in range(10)}
    failed = DBTaskResult.objects.filter(status="FAILED")
    assert failed.count() >= 10  # Each failure stays visible in the results.
    assert all("ConnectionRefusedError" in t.exception_class_path for t in failed)
    retried = DBTaskResult.objects.filter(status="SUCCESSFUL")
    assert retried.count() == 10
    assert all(t.args_kwargs["kwargs"].get("attempt", 1) > 1 for t in retried)


# Recovery, in the test's process.


def claimed(worker_id, minutes_ago, runs=1):
    result = send_email.enqueue(payload(0))
    DBTaskResult.objects.filter(pk=result.id).update(
        status="RUNNING",
        started_at=timezone.now() - timedelta(minutes=minutes_ago),
        worker_ids=[f"earlier-{n}" for n in range(runs - 1)] + [worker_id],
    )
    return DBTaskResult.objects.get(pk=result.id)


def heartbeat(worker_id, minutes_ago):
    WorkerHeartbeat.objects.create(
        worker_id=worker_id, last_seen=timezone.now() - timedelta(minutes=minutes_ago)
    )


def test_only_the_tasks_of_dead_workers_are_given_back(settings):
    settings.TASK_WORKER_TIMEOUT = 60
    settings.TASK_MAX_RUNS = 3
    heartbeat("alive", 0)
    heartbeat("dead", 5)
    long_task = claimed("alive", 10)
    orphan = claimed("dead", 10)
    unknown_recent = claimed("never-seen", 0)
    unknown_old = claimed("never-seen", 10)
    too_many = claimed("dead", 10, runs=3)
    requeued, failed = recover_stalled()
    assert set(requeued) == {orphan.pk, unknown_old.pk}
    assert failed == [too_many.pk]
    status = dict(DBTaskResult.objects.values_list("pk", "status"))
    assert status[long_task.pk] == "RUNNING" and status[unknown_recent.pk] == "RUNNING"
    assert status[orphan.pk] == "READY" and status[too_many.pk] == "FAILED"
    assert DBTaskResult.objects.get(pk=too_many.pk).exception_class_path.endswith("WorkerLost")
    # Given back once: a second look changes nothing.
    assert recover_stalled() == ([], [])


def test_a_task_claimed_again_meanwhile_is_not_given_back(settings):
    settings.TASK_WORKER_TIMEOUT = 60
    heartbeat("dead", 5)
    orphan = claimed("dead", 10)
    # Seen stalled, then claimed by a live worker before the update.
    DBTaskResult.objects.filter(pk=orphan.pk).update(started_at=timezone.now())
    stale = DBTaskResult.objects.filter(pk=orphan.pk, started_at=orphan.started_at)
    assert stale.update(status="READY") == 0  # The update recovery makes.
    assert recover_stalled() == ([], [])


def test_a_task_run_again_enqueues_its_follow_up_and_sends_its_email_once(
    parent, run_worker, mailoutbox
):
    factories.payer(parent.family)
    invoice = factories.issued(parent.family)
    fresh_name(invoice)
    folder = Path(settings.DOCUMENTS_ROOT) / "billing" / str(invoice.site_id)
    before = documents(folder)
    run_worker()
    assert len(mailoutbox) == 1
    # As recovery leaves the task of a worker that died after its work.
    render = DBTaskResult.objects.get(task_path__endswith="render_invoice_pdf")
    DBTaskResult.objects.filter(pk=render.pk).update(status="READY")
    send = DBTaskResult.objects.get(task_path__endswith="send_invoice")
    DBTaskResult.objects.filter(pk=send.pk).update(status="READY")
    run_worker()
    assert DBTaskResult.objects.filter(task_path__endswith="send_invoice").count() == 1
    assert len(mailoutbox) == 1
    invoice.refresh_from_db()
    assert set(documents(folder)) - set(before) == {Path(invoice.pdf.name).name}


def test_a_file_left_by_a_dead_worker_is_replaced_not_doubled(parent, run_worker):
    factories.payer(parent.family)
    invoice = factories.issued(parent.family)  # Its PDF not rendered yet.
    assert not Invoice.objects.get(pk=invoice.pk).pdf
    name = fresh_name(invoice)
    folder = Path(settings.DOCUMENTS_ROOT) / "billing" / str(invoice.site_id)
    before = documents(folder)
    # Written, not recorded: the worker died between the two.
    invoice.pdf.storage.save(name, ContentFile(b"%PDF-1.7 half"))
    run_worker()
    invoice.refresh_from_db()
    assert invoice.pdf.name == name
    assert set(documents(folder)) - set(before) == {Path(name).name}
    with invoice.pdf.open("rb") as file:
        content = file.read()
    assert content.startswith(b"%PDF") and b"half" not in content


def test_a_code_task_run_again_keeps_the_code_it_sent(parent, run_worker, mailoutbox):
    factories.payer(parent.family)
    mandate = factories.mandate(parent.family)
    run_worker()
    mailoutbox.clear()
    result = send_code.enqueue(mandate.pk, "http://testserver", "FR76 **** 0189", True)
    run_worker()
    assert len(mailoutbox) == 1
    sent_hash = Mandate.objects.get(pk=mandate.pk).code_hash
    assert sent_hash
    # As recovery leaves the task of a worker that died after sending.
    DBTaskResult.objects.filter(pk=result.id).update(status="READY")
    run_worker()
    assert len(mailoutbox) == 1
    assert Mandate.objects.get(pk=mandate.pk).code_hash == sent_hash
    assert DBTaskResult.objects.get(pk=result.id).return_value == "already sent"


def test_old_heartbeats_and_email_records_are_forgotten():
    heartbeat("gone", 60 * 25)
    heartbeat("alive", 0)
    now = timezone.now()
    SentEmail.objects.create(key="old", message_id="<old@x>", sent_at=now - timedelta(days=31))
    SentEmail.objects.create(key="recent", message_id="<recent@x>", sent_at=now - timedelta(days=2))
    forget_old()
    assert list(WorkerHeartbeat.objects.values_list("pk", flat=True)) == ["alive"]
    assert list(SentEmail.objects.values_list("key", flat=True)) == ["recent"]
