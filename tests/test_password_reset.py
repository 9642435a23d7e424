import re
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from .factories import PASSWORD, make_parent
from .mail_sink import SMTPSink

RESET = reverse("password_reset")
NEW_PASSWORD = "Un-nouveau-mot-de-passe-2026"

pytestmark = pytest.mark.django_db(transaction=True)


def ask_reset(client, site, identifier):
    return client.post(RESET, {"site": site.slug, "identifier": identifier})


def reset_link(message):
    return re.search(r"https?://[^\s\"<]+/nouveau-mot-de-passe/[^\s\"<]+", message.body).group(0)


def test_reset_mail_goes_through_the_task_queue(client, parent, combs, run_worker):
    response = ask_reset(client, combs, "demo")
    assert response.status_code == 302
    assert response["Location"] == reverse("password_reset_done")
    assert len(mail.outbox) == 0
    assert DBTaskResult.objects.count() == 1
    run_worker()
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [parent.email]
    assert combs.name in message.subject
    assert "demo" in message.body
    assert combs.email in message.body and "01 64 88 77 00" in message.body
    assert message.reply_to == [combs.email]
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html" and reset_link(message) in html.replace("&amp;", "&")
    assert PASSWORD not in message.body and PASSWORD not in html
    # The token is made by the worker, never stored in the queue.
    token = reset_link(message).rstrip("/").split("/")[-1]
    assert not DBTaskResult.objects.filter(args_kwargs__icontains=token).exists()


def test_reset_by_email_address(client, parent, combs, run_worker):
    ask_reset(client, combs, parent.email.upper())
    run_worker()
    assert [m.to for m in mail.outbox] == [[parent.email]]


def test_link_sets_the_password_logs_in_and_works_once(client, parent, combs, run_worker):
    ask_reset(client, combs, "demo")
    run_worker()
    link = reset_link(mail.outbox[0])
    form_page = client.get(link, follow=True)
    assert form_page.context["validlink"]
    set_url = form_page.redirect_chain[-1][0]
    done = client.post(set_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert done.status_code == 302 and done["Location"] == reverse("home")
    assert client.get(reverse("home")).context["user"] == parent
    parent.refresh_from_db()
    assert parent.check_password(NEW_PASSWORD)
    again = Client().get(link, follow=True)
    assert not again.context["validlink"]
    assert "Demander un nouveau lien" in again.text or "new link" in again.text


def test_link_expires(client, parent, combs, run_worker, settings):
    ask_reset(client, combs, "demo")
    run_worker()
    link = reset_link(mail.outbox[0])
    with time_machine.travel(timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT + 60), tick=False):
        assert not client.get(link, follow=True).context["validlink"]


def test_link_cannot_be_used_for_another_account(client, parent, combs, run_worker):
    victim = make_parent(combs, username="voisin", family_name="Voisin")
    ask_reset(client, combs, "demo")
    run_worker()
    link = reset_link(mail.outbox[0])
    uid, token = link.rstrip("/").split("/")[-2:]
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    forged = reverse(
        "password_reset_confirm",
        kwargs={"uidb64": urlsafe_base64_encode(force_bytes(victim.pk)), "token": token},
    )
    assert not client.get(forged, follow=True).context["validlink"]


def test_unknown_identifiant_gets_the_same_answer(client, parent, combs, run_worker):
    known = ask_reset(client, combs, "demo")
    unknown = ask_reset(Client(), combs, "personne")
    wrong_site_account = ask_reset(Client(), combs, "someone@example.org")
    assert known["Location"] == unknown["Location"] == wrong_site_account["Location"]
    run_worker()
    assert len(mail.outbox) == 1


def test_account_of_another_site_is_not_reached(client, other_parent, combs, run_worker):
    ask_reset(client, combs, "demo")
    run_worker()
    assert mail.outbox == []


def test_reset_queues_the_same_work_for_unknown_identifiants(client, parent, combs):
    # The page does no account lookup: nothing to time, nothing to compare.
    ask_reset(client, combs, "demo")
    ask_reset(Client(), combs, "personne")
    tasks = DBTaskResult.objects.order_by("enqueued_at")
    assert [t.task_path for t in tasks] == ["extranet.tasks.request_password_reset"] * 2


def test_reset_reaches_an_account_through_its_family_reference_email(client, combs, run_worker):
    user = make_parent(combs, username="sans-mail", email="")
    user.family.reference_email = "reference@example.org"
    user.family.save()
    ask_reset(client, combs, "REFERENCE@example.org")
    run_worker()
    assert [m.to for m in mail.outbox] == [["reference@example.org"]]


def test_reset_requests_are_rate_limited(parent, combs, run_worker):
    client = Client()
    for _ in range(3):
        assert ask_reset(client, combs, "demo").status_code == 302
    blocked = ask_reset(client, combs, "demo")
    assert blocked.status_code == 200
    assert blocked.context["form"].has_error("__all__", code="throttled")
    run_worker()
    assert len(mail.outbox) == 3


def test_empty_and_overlong_values(client, combs):
    response = client.post(RESET, {"site": "", "identifier": "x" * 300})
    errors = response.context["form"].errors
    assert "site" in errors and "identifier" in errors


def test_smtp_down_keeps_the_mail_queued_and_retries(
    client, parent, combs, run_worker, settings, free_port
):
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": free_port, "timeout": 5},
        }
    }
    ask_reset(client, combs, "demo")
    run_worker()  # Nobody listens on the port: the delivery fails...
    lookup, failed, retry = DBTaskResult.objects.order_by("enqueued_at")
    assert lookup.status == "SUCCESSFUL"
    assert failed.status == "FAILED"
    assert retry.status == "READY"  # ...and a later attempt is queued.
    assert retry.args_kwargs["kwargs"]["attempt"] == 2
    assert retry.run_after > timezone.now()
    run_worker()
    assert DBTaskResult.objects.get(pk=retry.pk).status == "READY"  # Not due yet.

    with SMTPSink(free_port) as sink:
        with time_machine.travel(retry.run_after - timezone.now() + timedelta(seconds=1)):
            run_worker()
        assert DBTaskResult.objects.get(pk=retry.pk).status == "SUCCESSFUL"
        assert len(sink.messages) == 1
        received = sink.messages[0]
        assert received["To"] == parent.email
        body = received.get_payload(0).get_payload(decode=True).decode()
        link = re.search(r"https?://\S+/nouveau-mot-de-passe/\S+", body).group(0)
    # The link sent after the outage works.
    assert client.get(link, follow=True).context["validlink"]
