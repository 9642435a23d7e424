"""Accounts without passwords: the admin opens them without one, and the first
connection goes through a link, sent by e-mail (through the worker) or printed
on a letter for a window envelope; the `send_invitations` command and the
admin share one code path (families/onboarding.py)."""

import io
import re
from datetime import timedelta
from email.header import decode_header, make_header

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django_tasks_db.models import DBTaskResult
from pypdf import PdfReader

from extranet.models import InvitationCode, User
from families import onboarding
from families.models import Family

from .factories import make_parent, payer, signed_in, staff
from .mail_sink import SMTPSink
from .test_html_valid import validate

ACCOUNT_PERMISSIONS = ["view_user", "add_user", "change_user"]
BASE_URL = "http://testserver"
CODE = re.compile(r"[A-Z2-9]{4}-[A-Z2-9]{4}")
NEW_PASSWORD = "Une-phrase-de-bienvenue-2026"
CHANGELIST = reverse("admin:extranet_user_changelist")


def family_account(site, username, name, email="", external_ref="", **address):
    """A family with its paying responsable and an account without a password."""
    family = Family.objects.create(
        site=site, name=name, reference_email=email, external_ref=external_ref
    )
    payer(family, **address)
    return User.objects.create_user(username, site=site, family=family, password=None)


def send_link_url(account):
    return reverse("admin:extranet_user_first_connection_link", args=[account.pk])


def letter_url(account):
    return reverse("admin:extranet_user_first_connection_letter", args=[account.pk])


def action(client, name, accounts):
    return client.post(
        CHANGELIST,
        {"action": name, "_selected_action": [account.pk for account in accounts]},
        follow=name == "send_first_connection_link",
    )


# The admin's own markup, not this project's: a required select whose only choice
# is the secretary's site, the autocomplete's empty option, the password widget.
ADMIN_OWN = [
    "The first “option” element in a “select” element with a “required” attribute",
    "Element “option” without attribute “label” must not be empty.",
    "Attribute “disabled” not allowed on element “div” at this point.",
]


def ours(errors):
    return [e for e in errors if not any(e["message"].startswith(m) for m in ADMIN_OWN)]


def messages_of(response):
    return [str(message) for message in response.context["messages"]]


def pdf_text(response_or_bytes):
    content = getattr(response_or_bytes, "getvalue", lambda: response_or_bytes)()
    reader = PdfReader(io.BytesIO(content))
    return reader, "\n".join(page.extract_text() for page in reader.pages)


@pytest.fixture
def secretary(combs):
    return staff(combs, ACCOUNT_PERMISSIONS)


@pytest.fixture
def dupont(combs):
    return family_account(combs, "dupont", "Dupont", email="famille.dupont@example.org")


@pytest.fixture
def sans_mail(combs):
    return family_account(
        combs,
        "sans-mail",
        "Sans Mail",
        external_ref="F0042",
        address_line2="Résidence Les Tilleuls, bât. B",
    )


@pytest.fixture
def martin(combs):
    """A family whose holder has chosen a password already."""
    return make_parent(combs, username="martin", family_name="Martin")


# The add form.


def test_the_add_form_asks_for_no_password_and_opens_the_account_without_one(
    combs, secretary, tmp_path
):
    client = signed_in(secretary)
    page = client.get(reverse("admin:extranet_user_add"))
    fields = page.context["adminform"].form.fields
    assert set(fields) == {"site", "username", "family", "email"}
    assert "Aucun mot de passe à choisir" in page.text
    family = Family.objects.create(site=combs, name="Durand")
    response = client.post(
        reverse("admin:extranet_user_add"),
        {"site": combs.pk, "username": "durand", "family": family.pk, "email": ""},
        follow=True,
    )
    account = User.objects.get(site=combs, username="durand")
    assert not account.has_usable_password() and account.invited_at is None
    assert not DBTaskResult.objects.exists()  # The family's link leaves when asked.
    assert any("le lien de première connexion" in m for m in messages_of(response))
    # Its page offers the link and the letter.
    assert send_link_url(account) in response.text and letter_url(account) in response.text
    assert ours(validate({"add": page.text, "change": response.text}, tmp_path)) == []


def test_the_add_form_refuses_bad_input_with_french_messages(combs, secretary, dupont):
    client = signed_in(secretary)
    for data, field, message in [
        ({"username": ""}, "username", "Ce champ est obligatoire."),
        ({"username": "x" * 151}, "username", "au plus 150 caractères"),
        (
            {"username": "Dupont"},
            "username",
            "a déjà un compte avec cet identifiant",
        ),  # Case-insensitive, per site.
        ({"username": "a b<script>"}, "username", "Saisissez un nom d’utilisateur valide"),
        ({"username": "ok", "email": "pas-une-adresse"}, "email", "adresse de courriel valide"),
    ]:
        response = client.post(reverse("admin:extranet_user_add"), {"site": combs.pk, **data})
        assert response.status_code == 200, data
        errors = response.context["adminform"].form.errors
        assert field in errors and message in " ".join(errors[field]), (data, errors)
    assert User.objects.filter(site=combs).count() == 2  # The secretary and dupont.


@pytest.mark.django_db(transaction=True)
def test_a_network_admin_opens_a_staff_account_whose_link_leaves_at_once(
    combs, admin_user, run_worker
):
    client = signed_in(admin_user)
    fields = client.get(reverse("admin:extranet_user_add")).context["adminform"].form.fields
    assert "is_staff" in fields and "password1" not in fields
    response = client.post(
        reverse("admin:extranet_user_add"),
        {
            "site": combs.pk,
            "username": "directrice",
            "email": "directrice@example.org",
            "is_staff": "on",
        },
        follow=True,
    )
    colleague = User.objects.get(username="directrice")
    assert colleague.is_staff and not colleague.has_usable_password()
    assert colleague.invited_at is not None
    task = DBTaskResult.objects.get()
    assert (
        task.task_path.endswith("send_invitation") and task.args_kwargs["args"][0] == colleague.pk
    )
    assert any("1 e-mail de première connexion" in m for m in messages_of(response))
    run_worker()
    (message,) = mail.outbox
    assert message.to == ["directrice@example.org"]
    assert message.subject == f"{combs.name} – votre accès à l’administration du secrétariat"
    assert "Un compte vous est ouvert dans l’administration du portail" in message.body
    assert "Votre identifiant\u00a0: directrice" in message.body


# The e-mail, through the admin and the real worker.


@pytest.mark.django_db(transaction=True)
def test_the_admin_sends_the_link_through_the_worker_and_it_lets_the_holder_choose_a_password(
    combs, run_worker, settings, free_port, tmp_path
):
    secretary = staff(combs, ACCOUNT_PERMISSIONS)
    dupont = family_account(combs, "dupont", "Dupont", email="famille.dupont@example.org")
    durand = family_account(combs, "durand", "Durand", email="famille.durand@example.org")
    sans_mail = family_account(combs, "sans-mail", "Sans Mail")
    martin = make_parent(combs, username="martin", family_name="Martin")
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": free_port},
        }
    }
    response = action(
        signed_in(secretary), "send_first_connection_link", [dupont, durand, sans_mail, martin]
    )
    said = messages_of(response)
    assert (
        "2 e-mails de première connexion mis en file d’envoi, 60 par minute\u00a0: chacun "
        "contient l’identifiant et un lien pour choisir le mot de passe." in said
    )
    assert any(m.startswith("1 compte ignoré\u00a0: son titulaire a déjà choisi") for m in said)
    assert any("sans-mail (Sans Mail)" in m and "pas d’adresse e-mail" in m for m in said), said
    # Spread by the rate, invited_at recorded for the e-mails queued only.
    runs = sorted(DBTaskResult.objects.values_list("run_after", flat=True))
    assert len(runs) == 2 and runs[1] - runs[0] == timedelta(seconds=1)
    invited = set(User.objects.filter(invited_at__isnull=False).values_list("username", flat=True))
    assert invited == {"dupont", "durand"}

    with SMTPSink(free_port) as sink, time_machine.travel(timedelta(minutes=1)):
        run_worker()
    assert sorted(m["To"] for m in sink.messages) == [
        "famille.dupont@example.org",
        "famille.durand@example.org",
    ]
    message = next(m for m in sink.messages if m["To"] == "famille.dupont@example.org")
    subject = str(make_header(decode_header(message["Subject"])))
    assert subject == f"{combs.name} – votre accès au portail des familles"
    text = message.get_payload()[0].get_payload(decode=True).decode()
    html = message.get_payload()[1].get_payload(decode=True).decode()
    assert "Votre identifiant\u00a0: dupont" in text
    assert validate({"invitation": html}, tmp_path) == []
    for body in (text, html):
        assert "mot de passe\u00a0:" not in body.lower()  # Never a password given.
    link = re.search(r"http://testserver(/bienvenue/\S+/)", text).group(1)
    client = Client()
    page = client.get(link, follow=True)
    assert page.context["validlink"]
    client.post(
        page.redirect_chain[-1][0], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )
    assert User.objects.get(username="dupont").check_password(NEW_PASSWORD)
    assert not Client().get(link, follow=True).context["validlink"]  # Once.


def test_the_button_sends_one_account_its_link(secretary, dupont, martin, tmp_path):
    client = signed_in(secretary)
    page = client.get(reverse("admin:extranet_user_change", args=[dupont.pk]))
    assert "Envoyer le lien de première connexion" in page.text
    assert "Imprimer la lettre" in page.text
    assert client.get(send_link_url(dupont)).status_code == 405  # Posted only.
    response = client.post(send_link_url(dupont), follow=True)
    assert response.redirect_chain[-1][0] == reverse("admin:extranet_user_change", args=[dupont.pk])
    assert any(
        m.startswith("1 e-mail de première connexion mis en file") for m in messages_of(response)
    )
    assert DBTaskResult.objects.get().args_kwargs["args"] == [dupont.pk, BASE_URL]
    dupont.refresh_from_db()
    assert dupont.invited_at is not None
    # A holder with a password: no buttons, and a post tells why nothing left.
    page = client.get(reverse("admin:extranet_user_change", args=[martin.pk]))
    assert send_link_url(martin) not in page.text
    response = client.post(send_link_url(martin), follow=True)
    assert any("a déjà choisi un mot de passe" in m for m in messages_of(response))
    assert DBTaskResult.objects.count() == 1
    changelist = client.get(CHANGELIST + "?first_connection=waiting")
    assert [a.username for a in changelist.context["cl"].result_list] == ["dupont"]
    assert ours(validate({"account": page.text, "list": changelist.text}, tmp_path)) == []


def test_the_list_finds_the_families_to_post_a_letter_to(secretary, dupont, sans_mail, martin):
    client = signed_in(secretary)
    found = client.get(CHANGELIST + "?first_connection=letter").context["cl"].result_list
    assert [a.username for a in found] == ["sans-mail"]
    found = client.get(CHANGELIST + "?first_connection=chosen").context["cl"].result_list
    assert {a.username for a in found} == {"martin", "secretariat"}


# The letters.

# A French DL window envelope (220 × 110 mm), window on the right: 100 × 45 mm, 20 mm
# from the right edge and 15 mm from the bottom edge. The A4 sheet folded in three
# (panels of 99 mm) moves up to 10 mm sideways and 11 mm up or down inside: the window
# always shows the sheet's zone from 100 to 190 mm from its left edge and from 50 to
# 84 mm from its top.
WINDOW = {"left": 220 - 20 - 100, "top": 110 - 15 - 45}
ALWAYS_SHOWN = {
    "left": WINDOW["left"],
    "right": 220 - 20 - 10,
    "top": WINDOW["top"],
    "bottom": 110 - 15 - 11,
}
MM = 25.4 / 72


def placed_text(page):
    """[(text, left, baseline, font size)] in millimetres from the sheet's top-left
    corner, from pypdf's text extraction."""
    height = float(page.mediabox.height)
    found = []

    def visit(text, cm, tm, font, size):
        if not text.strip():
            return
        x = cm[0] * tm[4] + cm[2] * tm[5] + cm[4]
        y = cm[1] * tm[4] + cm[3] * tm[5] + cm[5]
        # WeasyPrint writes one line of a block at a time.
        found.append((text.strip(), x * MM, (height - y) * MM, size * abs(tm[3] * cm[3]) * MM))

    page.extract_text(visitor_text=visit)
    return found


def test_the_address_shows_through_the_window_of_a_dl_envelope(secretary, sans_mail):
    sans_mail.family.guardians.update(postal_code="1000", city="Bruxelles", country="Belgique")
    response = action(signed_in(secretary), "print_invitation_letter", [sans_mail])
    assert response["Content-Type"] == "application/pdf"
    assert "no-store" in response["Cache-Control"]
    reader, text = pdf_text(response)
    expected = [
        "Mme Claire Sans Mail",
        "12 rue des Tilleuls",
        "Résidence Les Tilleuls, bât. B",
        "1000 Bruxelles",
        "Belgique",
    ]
    placed = placed_text(reader.pages[0])
    address = [entry for entry in placed if entry[0] in expected]
    assert [entry[0] for entry in address] == expected
    zone = ALWAYS_SHOWN
    for line, left, baseline, size in address:
        assert left >= zone["left"] + 2, line
        assert baseline - size >= zone["top"], line  # The capitals' top.
        assert baseline + size * 0.25 <= zone["bottom"], line  # The descenders.
        # DejaVu Sans: 0.62 em a character on average, generously.
        assert left + len(line) * 0.62 * size <= zone["right"], line
    # Nothing else shows through the window, whatever the sheet's play.
    window = [
        entry[0]
        for entry in placed
        if WINDOW["left"] - 10 <= entry[1] <= WINDOW["left"] + 100
        and WINDOW["top"] - 11 <= entry[2] <= WINDOW["top"] + 45
    ]
    assert window == expected


def test_the_letter_holds_the_site_the_reference_the_identifiant_and_the_code(
    combs, secretary, sans_mail
):
    response = action(signed_in(secretary), "print_invitation_letter", [sans_mail])
    reader, text = pdf_text(response)
    assert len(reader.pages) == 1
    flat = re.sub(r"[ \n]+", " ", text)
    assert combs.name in flat and "Rue Baptiste Marcet" in flat and "01 64 88 77 00" in flat
    assert "Réf. famille\u00a0: F0042" in flat
    assert "Identifiant\u00a0: sans-mail" in flat
    code = InvitationCode.objects.get(user=sans_mail)
    assert f"Code personnel\u00a0: {code.display}" in flat
    assert f"http://testserver/b/{code.display}/" in flat
    assert "http://testserver/connexion/combs-la-ville/" in flat
    assert "mot de passe\u00a0:" not in flat.lower()
    sans_mail.refresh_from_db()
    assert sans_mail.invited_at is not None
    # The short address leads to a first-connection link.
    client = Client()
    page = client.get(f"/b/{code.display}/", follow=True)
    assert page.context["validlink"]


def test_one_page_per_letter_and_the_reference_defaults_to_the_name(combs, secretary, sans_mail):
    other = family_account(combs, "durand", "Durand")
    response = action(signed_in(secretary), "print_invitation_letter", [sans_mail, other])
    reader, _ = pdf_text(response)
    assert len(reader.pages) == 2
    texts = [re.sub(r"[ \n]+", " ", page.extract_text()) for page in reader.pages]
    assert "Identifiant\u00a0: durand" in texts[0] and "Réf. famille\u00a0: Durand" in texts[0]
    assert "Identifiant\u00a0: sans-mail" in texts[1]


def test_printing_again_keeps_the_code_of_the_letter_already_printed(secretary, sans_mail):
    client = signed_in(secretary)
    first = CODE.search(pdf_text(client.post(letter_url(sans_mail)))[1]).group()
    again = CODE.search(pdf_text(action(client, "print_invitation_letter", [sans_mail]))[1]).group()
    assert first == again
    assert InvitationCode.objects.filter(user=sans_mail).count() == 1
    assert Client().get(f"/b/{first}/").status_code == 302


def test_an_expired_code_is_replaced(secretary, sans_mail, settings):
    client = signed_in(secretary)
    first = CODE.search(pdf_text(client.post(letter_url(sans_mail)))[1]).group()
    with time_machine.travel(timedelta(days=settings.INVITATION_VALID_DAYS + 1)):
        client = signed_in(secretary)  # The first session has expired since.
        later = CODE.search(pdf_text(client.post(letter_url(sans_mail)))[1]).group()
    assert later != first
    assert list(InvitationCode.objects.values_list("code", flat=True)) == [later.replace("-", "")]


def test_a_family_without_a_postal_address_is_pointed_out(combs, secretary):
    family = Family.objects.create(site=combs, name="Durand")
    account = User.objects.create_user("durand", site=combs, family=family, password=None)
    client = signed_in(secretary)
    response = client.post(letter_url(account))
    assert "Durand" in pdf_text(response)[1]
    said = messages_of(client.get(CHANGELIST))
    assert (
        "Pas d’adresse postale pour durand (Durand)\u00a0: complétez la lettre à la main." in said
    )


def test_no_letter_for_a_holder_with_a_password(secretary, martin):
    response = signed_in(secretary).post(letter_url(martin), follow=True)
    said = messages_of(response)
    assert "Aucune lettre à imprimer." in said
    assert any("a déjà choisi un mot de passe" in m for m in said)
    assert not InvitationCode.objects.exists()


# The sites, families and responsables; the codes read, the stale ones deleted, the new
# ones created; the accounts marked as invited; a savepoint and its release: the same
# for one letter or many.
# With the families' content versions moved by the accounts' update (two queries).
LETTER_QUERIES = 11


def test_letters_take_a_fixed_number_of_queries(combs, secretary, django_assert_max_num_queries):
    accounts = [family_account(combs, "a", "A")]
    with django_assert_max_num_queries(LETTER_QUERIES):
        onboarding.invitation_letters(accounts, BASE_URL)
    accounts += [family_account(combs, name, name.upper()) for name in ["b", "c", "d"]]
    accounts = list(User.objects.filter(pk__in=[a.pk for a in accounts]))
    with django_assert_max_num_queries(LETTER_QUERIES):
        letters = onboarding.invitation_letters(accounts, BASE_URL)
    assert len(PdfReader(io.BytesIO(letters.pdf)).pages) == 4


# The command and the admin share the codes.


def run_command(*args):
    out = io.StringIO()
    call_command(
        "send_invitations", "--site", "combs-la-ville", "--base-url", BASE_URL, *args, stdout=out
    )
    return out.getvalue()


def test_the_command_keeps_printed_codes_unless_renewed(
    secretary, sans_mail, dupont, martin, tmp_path
):
    letters = tmp_path / "lettres.pdf"
    out = run_command("--letters", str(letters))
    assert "1 compte ignoré\u00a0: son titulaire a déjà choisi un mot de passe." in out
    assert "1 invitation(s) mise(s) en file d’envoi." in out
    first = CODE.search(pdf_text(letters.read_bytes())[1]).group()
    run_command("--letters", str(letters))
    assert CODE.search(pdf_text(letters.read_bytes())[1]).group() == first
    # The admin prints the same code too.
    admin_letter = signed_in(secretary).post(letter_url(sans_mail))
    assert CODE.search(pdf_text(admin_letter)[1]).group() == first
    run_command("--letters", str(letters), "--renew")
    renewed = CODE.search(pdf_text(letters.read_bytes())[1]).group()
    assert renewed != first
    assert Client().get(f"/b/{first}/").status_code == 404
    assert Client().get(f"/b/{renewed}/").status_code == 302


# Strangers.


def test_staff_of_another_site_cannot_act_on_foreign_accounts(ploufragan, dupont, sans_mail):
    stranger = signed_in(staff(ploufragan, ACCOUNT_PERMISSIONS, username="sec-ploufragan"))
    assert stranger.post(send_link_url(dupont)).status_code == 404
    assert stranger.post(letter_url(sans_mail)).status_code == 404
    response = action(stranger, "send_first_connection_link", [dupont])
    assert response.status_code == 200
    response = action(stranger, "print_invitation_letter", [sans_mail])
    assert response["Content-Type"].startswith("text/html")
    assert not DBTaskResult.objects.exists() and not InvitationCode.objects.exists()
    assert not User.objects.filter(invited_at__isnull=False).exists()


def test_a_secretary_cannot_act_on_a_colleague_account(combs, secretary):
    colleague = User.objects.create_user(
        "directrice", site=combs, is_staff=True, email="d@example.org", password=None
    )
    client = signed_in(secretary)
    assert client.post(send_link_url(colleague)).status_code == 404
    assert client.post(letter_url(colleague)).status_code == 404
    assert not DBTaskResult.objects.exists()


def test_a_staff_member_without_the_right_to_change_accounts_cannot(combs, dupont):
    reader = signed_in(staff(combs, ["view_user"], username="lecture"))
    assert reader.post(send_link_url(dupont)).status_code == 403
    assert reader.post(letter_url(dupont)).status_code == 403
    page = reader.get(CHANGELIST)
    assert "send_first_connection_link" not in page.text
    assert not DBTaskResult.objects.exists()


def test_a_parent_cannot_reach_the_admin_actions(dupont, martin):
    client = signed_in(martin)
    response = client.post(send_link_url(dupont))
    assert response.status_code == 302 and "/login/" in response["Location"]
    assert not DBTaskResult.objects.exists()


def test_a_code_near_its_end_is_not_printed_again(secretary, sans_mail, settings):
    client = signed_in(secretary)
    first = CODE.search(pdf_text(client.post(letter_url(sans_mail)))[1]).group()
    # Still valid, but a letter posted now would arrive with days left at most.
    with time_machine.travel(timedelta(days=settings.INVITATION_VALID_DAYS * 2 // 3)):
        client = signed_in(secretary)
        later = CODE.search(pdf_text(client.post(letter_url(sans_mail)))[1]).group()
    assert later != first
    assert Client().get(f"/b/{first}/").status_code == 404


def test_links_on_paper_and_in_mail_use_the_portals_address(secretary, sans_mail, settings):
    # The admin may be reached by another name (an internal address): the
    # letters and e-mails carry the public one.
    settings.PORTAL_URL = "https://portail.example.org"
    settings.ALLOWED_HOSTS = ["*"]
    client = signed_in(secretary)
    text = pdf_text(client.post(letter_url(sans_mail), HTTP_HOST="admin.intranet.local"))[1]
    assert "https://portail.example.org/b/" in text.replace("\n", "")
    assert "admin.intranet.local" not in text


def test_too_many_letters_at_once_point_to_the_command(
    combs, secretary, sans_mail, dupont, monkeypatch
):
    from families import admin_accounts

    monkeypatch.setattr(admin_accounts, "MAX_LETTERS", 1)
    client = signed_in(secretary)
    response = action(client, "print_invitation_letter", [sans_mail, dupont])
    assert response.status_code == 302
    said = messages_of(client.get(CHANGELIST))
    assert any("send_invitations" in m for m in said)
    assert not InvitationCode.objects.exists()
