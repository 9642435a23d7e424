"""The login remembers the site, each site has its own login address, and the
family is told by e-mail when its password changes."""

import re
from email.header import decode_header, make_header

import pytest
from django.core import mail
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from extranet.tasks import send_password_changed

from .factories import PASSWORD
from .mail_sink import SMTPSink

LOGIN = reverse("login")
RESET = reverse("password_reset")
NEW_PASSWORD = "Un-nouveau-mot-de-passe-2026"


def site_choice(response):
    return response.context["form"]["site"].value()


def test_each_site_has_its_own_login_address(client, combs, ploufragan):
    page = client.get(reverse("site_login", args=[ploufragan.slug]))
    assert page.status_code == 200
    assert site_choice(page) == ploufragan.slug
    assert ploufragan.get_login_path() == "/connexion/ploufragan/"
    # The address wins over the site remembered on this browser.
    client.cookies["extranet_site"] = combs.slug
    assert site_choice(client.get("/connexion/ploufragan/")) == ploufragan.slug
    assert site_choice(client.get(LOGIN)) == combs.slug


def test_an_unknown_or_closed_site_login_address_is_a_404(client, combs, ploufragan):
    assert client.get("/connexion/nowhere/").status_code == 404
    ploufragan.is_active = False
    ploufragan.save()
    assert client.get("/connexion/ploufragan/").status_code == 404


def test_signing_in_from_a_site_address(client, parent, combs, ploufragan):
    response = client.post(
        reverse("site_login", args=[combs.slug]),
        {"site": combs.slug, "username": "demo", "password": PASSWORD},
    )
    assert response.status_code == 302 and response["Location"] == reverse("home")
    assert client.cookies["extranet_site"].value == combs.slug


def test_the_site_chosen_is_remembered_even_after_a_wrong_password(
    client, parent, combs, ploufragan
):
    page = client.post(LOGIN, {"site": ploufragan.slug, "username": "demo", "password": "wrong"})
    assert page.status_code == 200
    assert client.cookies["extranet_site"].value == ploufragan.slug
    assert f'href="{RESET}?site={ploufragan.slug}"' in page.text
    # And « Mot de passe perdu » offers it.
    assert site_choice(client.get(RESET)) == ploufragan.slug


def test_the_site_is_carried_to_lost_password(client, combs, ploufragan):
    assert site_choice(client.get(RESET, {"site": ploufragan.slug})) == ploufragan.slug
    # Anything else is ignored.
    assert site_choice(client.get(RESET, {"site": "nowhere"})) is None
    login = client.get("/connexion/ploufragan/")
    assert f'href="{RESET}?site=ploufragan"' in login.text


def test_the_remembered_site_is_only_a_slug(client, parent, combs, ploufragan):
    client.post(LOGIN, {"site": combs.slug, "username": "demo", "password": PASSWORD})
    cookie = client.cookies["extranet_site"]
    assert cookie.value == combs.slug and cookie["httponly"] and cookie["samesite"] == "Lax"
    assert int(cookie["max-age"]) >= 300 * 24 * 3600


def test_password_fields_offer_the_show_button(client, parent_client, combs):
    for page in [client.get(LOGIN), parent_client.get(reverse("password_change"))]:
        assert 'data-password-toggle="Afficher le mot de passe"' in page.text
        assert "/static/js/password.js" in page.text
        # The field itself is a plain password field: it works without script.
        assert 'type="password"' in page.text


def change_password(client):
    return client.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )


@pytest.mark.django_db(transaction=True)
def test_password_change_is_told_by_email_through_the_worker(
    parent_client, parent, combs, run_worker, settings, free_port, tmp_path
):
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": free_port},
        }
    }
    response = change_password(parent_client)
    assert response.status_code == 302
    # Queued after the commit, not sent by the page.
    assert DBTaskResult.objects.filter(task_path__endswith="send_password_changed").count() == 1
    with SMTPSink(free_port) as sink:
        run_worker()
    assert len(sink.messages) == 1
    message = sink.messages[0]
    assert message["To"] == parent.email
    subject = str(make_header(decode_header(message["Subject"])))
    assert subject == f"{combs.name} – votre mot de passe a été modifié"
    text = message.get_payload()[0].get_payload(decode=True).decode()
    html = message.get_payload()[1].get_payload(decode=True).decode()
    assert "demo" in text and "/connexion/combs-la-ville/" in text
    assert f"{RESET}?site=combs-la-ville" in text
    assert NEW_PASSWORD not in text and NEW_PASSWORD not in html
    assert PASSWORD not in text and PASSWORD not in html
    assert re.search(r"\d{1,2} \w+ \d{4} à \d{1,2}:\d{2}", text), text
    from .test_html_valid import validate

    assert validate({"password-changed": html}, tmp_path) == []


@pytest.mark.django_db(transaction=True)
def test_no_email_when_the_change_is_refused(parent_client, parent, run_worker):
    parent_client.post(
        reverse("password_change"),
        {"old_password": "wrong", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    run_worker()
    assert mail.outbox == []


@pytest.mark.django_db(transaction=True)
def test_password_reset_is_told_by_email(client, parent, combs, run_worker):
    client.post(RESET, {"site": combs.slug, "identifier": "demo"})
    run_worker()
    link = re.search(r"https?://\S+/nouveau-mot-de-passe/\S+", mail.outbox[0].body).group(0)
    assert "/connexion/combs-la-ville/" in mail.outbox[0].body
    mail.outbox.clear()
    form_page = client.get(link, follow=True)
    set_url = form_page.redirect_chain[-1][0]
    client.post(set_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    run_worker()
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [parent.email] and NEW_PASSWORD not in message.body
    assert "modifié" in message.subject


@pytest.mark.django_db
def test_the_email_never_goes_to_a_deleted_account(parent):
    from django.utils import timezone

    pk = parent.pk
    parent.delete()
    result = send_password_changed.call(pk, timezone.now().isoformat(), "http://testserver")
    assert result == "no address" and mail.outbox == []


def test_login_pages_are_valid_html(client, parent_client, combs, ploufragan, tmp_path):
    from .test_html_valid import validate

    pages = {
        "login": client.get(LOGIN).text,
        "site-login": client.get("/connexion/ploufragan/").text,
        "wrong-password": client.post(
            LOGIN, {"site": combs.slug, "username": "demo", "password": "x"}
        ).text,
        "password-change": parent_client.get(reverse("password_change")).text,
    }
    assert validate(pages, tmp_path) == []
