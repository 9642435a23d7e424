import io
import os
import subprocess
import sys
from pathlib import Path

import polib
import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from PIL import Image

from extranet.models import User

from . import billing_data, students_data
from .factories import PASSWORD, make_parent

BASE_DIR = Path(__file__).resolve().parent.parent
PRIVATE_PAGES = ["home", "accessibility", "password_change"]


@pytest.mark.parametrize("name", PRIVATE_PAGES)
def test_private_pages_send_strangers_to_login(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("name", PRIVATE_PAGES)
def test_private_pages_show_the_owner_family_only(parent_client, other_parent, name):
    response = parent_client.get(reverse(name))
    assert response.status_code == 200
    assert "Famille Martin" in response.text
    assert "Le Goff" not in response.text
    assert "Centre culturel de Ploufragan" not in response.text


def test_home_shows_site_welcome_text_and_contacts(parent_client, combs):
    page = parent_client.get(reverse("home"))
    assert "Bienvenue à Combs-la-Ville." in page.text
    assert "01 64 88 77 00" in page.text
    for tab in ["Accueil", "Accessibilité", "Mot de passe", "Déconnexion"]:
        assert tab in page.text


@pytest.mark.parametrize("families", [1, 30])
def test_home_query_count_is_bounded(combs, django_assert_max_num_queries, families):
    for n in range(families):
        make_parent(combs, username=f"parent{n}", family_name=f"Famille {n}")
    client = Client()
    client.force_login(User.objects.get(username="parent0"))
    # The to-do list's queries (tests/test_home.py), none per family, and the
    # database cache's read and write (the tests' cache; production's is Redis).
    with django_assert_max_num_queries(10 + 5):
        assert client.get(reverse("home")).status_code == 200
    # Then read from the cache: the session, the account, the cache, the campaign.
    with django_assert_max_num_queries(4):
        assert client.get(reverse("home")).status_code == 200


def test_accessibility_preferences_are_saved_and_applied(parent_client, parent, other_parent):
    response = parent_client.post(
        reverse("accessibility"), {"pref_large_text": "on", "pref_dyslexia_font": "on"}
    )
    assert response.status_code == 302
    parent.refresh_from_db()
    assert parent.pref_large_text and parent.pref_dyslexia_font
    assert not parent.pref_high_contrast
    page = parent_client.get(reverse("home"))
    assert 'class="pref-large-text pref-dyslexia-font"' in page.text
    other_parent.refresh_from_db()
    assert not other_parent.pref_large_text


def test_accessibility_form_ignores_foreign_fields(parent_client, parent):
    parent_client.post(
        reverse("accessibility"), {"pref_high_contrast": "on", "is_staff": "on", "site": ""}
    )
    parent.refresh_from_db()
    assert parent.pref_high_contrast and not parent.is_staff and parent.site_id


def test_password_change_requires_the_old_password(parent_client, parent):
    response = parent_client.post(
        reverse("password_change"),
        {"old_password": "wrong", "new_password1": "x", "new_password2": "y"},
    )
    errors = response.context["form"].errors
    assert "old_password" in errors and "new_password2" in errors
    parent.refresh_from_db()
    assert parent.check_password(PASSWORD)


@pytest.mark.parametrize(
    "new_password, message",
    [
        ("court", "12 caractères"),
        ("qwerty123456", "trop courant"),
        ("123456789012345", "entièrement numérique"),
    ],
)
def test_password_rules_follow_cnil_in_french(parent_client, parent, new_password, message):
    response = parent_client.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": new_password, "new_password2": new_password},
    )
    assert message in " ".join(response.context["form"].errors["new_password2"])


def test_password_change_keeps_the_session(parent_client, parent):
    new = "Une-autre-phrase-secrete-2026"
    response = parent_client.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": new, "new_password2": new},
    )
    assert response.status_code == 302
    assert parent_client.get(reverse("home")).status_code == 200
    parent.refresh_from_db()
    assert parent.check_password(new)


def test_accessibility_statement_is_public_and_per_site(client, combs, ploufragan):
    combs.accessibility_statement = "Audit réalisé en octobre 2026."
    combs.save()
    page = client.get(reverse("accessibility_statement", args=[combs.slug]))
    assert page.status_code == 200
    assert "Audit réalisé en octobre 2026." in page.text
    assert "partiellement conforme" in page.text
    assert "Défenseur des droits" in page.text
    assert combs.email in page.text
    ploufragan.is_active = False
    ploufragan.save()
    assert client.get(reverse("accessibility_statement", args=["ploufragan"])).status_code == 404
    assert client.get(reverse("accessibility_statement", args=["nope"])).status_code == 404


def test_statement_index_lists_sites_or_redirects(client, combs, ploufragan, parent_client):
    assert combs.name in client.get(reverse("accessibility_statement_index")).text
    response = parent_client.get(reverse("accessibility_statement_index"))
    assert response["Location"] == reverse("accessibility_statement", args=[combs.slug])


def png_bytes():
    buffer = io.BytesIO()
    Image.new("RGB", (40, 20), "navy").save(buffer, "PNG")
    return buffer.getvalue()


def test_site_logo(client, combs, parent_client):
    assert client.get(reverse("site_logo", args=[combs.slug])).status_code == 404
    combs.logo = SimpleUploadedFile("logo.png", png_bytes(), content_type="image/png")
    combs.save()
    response = client.get(reverse("site_logo", args=[combs.slug]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == png_bytes()
    assert f'src="{reverse("site_logo", args=[combs.slug])}"' in parent_client.get("/").text


def test_security_headers(client, combs):
    response = client.get(reverse("login"))
    csp = response["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


def test_hsts_over_https(client, combs, settings):
    settings.SECURE_HSTS_SECONDS = 31536000
    response = client.get(reverse("login"), secure=True)
    assert response["Strict-Transport-Security"].startswith("max-age=31536000")


TEST_ONLY_VARIABLES = {
    "DEBUG",
    "DJANGO_SETTINGS_MODULE",
    "SECURE_SSL_REDIRECT",
    "SECURE_COOKIES",
    "DJANGO_ALLOW_ASYNC_UNSAFE",
}


def test_production_settings_pass_check_deploy():
    env = {
        **{k: v for k, v in os.environ.items() if k not in TEST_ONLY_VARIABLES},
        "DJANGO_SETTINGS_MODULE": "extranet.settings",
        "DEBUG": "0",
        "SECRET_KEY": "a-long-random-production-secret-key-0123456789-abcdefghijklmnop",
        "ALLOWED_HOSTS": "extranet.example.org",
        "EMAIL_HOST": "smtp.example.org",
        "REDIS_URL": "redis://127.0.0.1:6379/0",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_production_refuses_to_start_without_secret_key():
    env = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "SECRET_KEY"}}
    env["DJANGO_SETTINGS_MODULE"] = "extranet.settings"
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_interface_is_french_by_default_and_english_on_request(combs):
    client = Client()
    assert "Se connecter" in client.get(reverse("login")).text
    response = client.post(reverse("set_language"), {"language": "en", "next": "/connexion/"})
    assert response.status_code == 302
    assert "Sign in" in client.get(reverse("login")).text


def test_french_catalogue_is_complete():
    catalogue = polib.pofile(str(BASE_DIR / "extranet/locale/fr/LC_MESSAGES/django.po"))
    assert catalogue.untranslated_entries() == []
    assert catalogue.fuzzy_entries() == []
    # The compiled catalogue says the same as its source.
    compiled = polib.mofile(str(BASE_DIR / "extranet/locale/fr/LC_MESSAGES/django.mo"))

    def pairs(entries):
        return {(e.msgid, e.msgstr or tuple(sorted(e.msgstr_plural.items()))) for e in entries}

    assert pairs(catalogue.translated_entries()) == pairs(e for e in compiled if e.msgid)


def test_dates_use_french_formats(combs):
    from datetime import date

    from django.utils import formats, translation

    with translation.override("fr"):
        assert formats.date_format(date(2026, 9, 14), "SHORT_DATE_FORMAT") == "14/09/2026"
        assert formats.date_format(date(2026, 9, 14)) == "14 septembre 2026"


# Signed-in pages are not stored: the back button of a shared computer shows
# nothing once the family has signed out.


@pytest.fixture
def secretariat(combs):
    from django.contrib.auth.models import Permission

    user = User.objects.create_user(
        "secretariat-combs",
        password=PASSWORD,
        site=combs,
        is_staff=True,
        email="secretariat@example.org",
    )
    user.user_permissions.add(Permission.objects.get(codename="view_family"))
    return user


@time_machine.travel("2026-10-05 10:00 +0200", tick=False)
def test_signed_in_pages_are_not_stored(parent_client, parent, combs, secretariat):
    year = students_data.school_year(combs)
    student = students_data.student(
        parent.family, courses=students_data.structure(combs, year)["courses"][:1]
    )
    billing_data.payer(parent.family)
    invoice = billing_data.issued(parent.family)
    pages = [
        reverse("home"),
        reverse("families:family"),
        reverse("students:list"),
        reverse("students:detail", args=[student.pk]),
        reverse("billing:statement"),
    ]
    for url in pages:
        response = parent_client.get(url)
        assert response.status_code == 200, url
        assert response["Cache-Control"] == "private, no-store", url
    assert invoice.number in parent_client.get(reverse("billing:statement")).text
    staff = Client()
    staff.force_login(secretariat)
    for url in [reverse("admin:index"), reverse("admin:families_family_changelist")]:
        response = staff.get(url)
        assert response.status_code == 200, url
        assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]


def test_a_page_that_chose_its_cache_control_keeps_it(parent_client, combs):
    combs.logo = SimpleUploadedFile("logo.png", png_bytes(), content_type="image/png")
    combs.save()
    response = parent_client.get(reverse("site_logo", args=[combs.slug]))
    assert response["Cache-Control"] == "public, max-age=3600"


def test_public_pages_for_strangers_are_unchanged(client, combs):
    login = client.get(reverse("login"))
    assert login.status_code == 200
    # The login page keeps its own never_cache header.
    assert "no-cache" in login["Cache-Control"] and "max-age=0" in login["Cache-Control"]
    statement = client.get(reverse("accessibility_statement", args=[combs.slug]))
    assert statement.status_code == 200
    assert not statement.has_header("Cache-Control")


# The admin sends a signed-in person it refuses to its login page; the portal
# must not send them back (a redirect loop).


def test_a_parent_opening_the_admin_lands_home_with_a_message(parent_client):
    response = parent_client.get("/admin/", follow=True)  # a loop raises RedirectCycleError
    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == reverse("home")
    assert "Famille Martin" in response.text
    assert "Cette partie du portail est réservée au secrétariat." in response.text
    assert "_auth_user_id" in parent_client.session


def test_a_parent_signing_in_towards_the_admin_lands_home(client, parent, combs):
    response = client.post(
        reverse("login") + "?next=/admin/",
        {"site": combs.slug, "username": "demo", "password": PASSWORD},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == reverse("home")
    assert "réservée au secrétariat" in response.text


def test_staff_reach_the_admin_and_strangers_its_login(client, secretariat):
    anonymous = client.get("/admin/", follow=True)
    assert anonymous.status_code == 200
    assert anonymous.redirect_chain[-1][0] == reverse("login") + "?next=%2Fadmin%2F"
    assert "Se connecter" in anonymous.text
    staff = Client()
    staff.force_login(secretariat)
    assert staff.get("/admin/").status_code == 200
    assert staff.get("/admin/login/?next=/admin/").url == "/admin/"
