"""The secretariat's overview of a family (workspace app): everything about
the family on one page, scoped to the secretary's site, with the links and
actions she needs, in a fixed number of queries."""

import re
from datetime import timedelta
from decimal import Decimal
from html.parser import HTMLParser
from urllib.parse import urljoin

import pytest
from django.contrib.auth.models import Permission
from django.core import mail
from django.core.files.base import ContentFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from billing import ledger
from billing.models import Payment
from extranet.models import User
from families.models import Family, FamilyDocument
from reenrollment.models import ReenrollmentRequest, Wish
from students.models import StudentDocument

from . import factories, files
from .mail_sink import SMTPSink
from .test_billing_admin import links_of
from .test_html_valid import validate

PERMISSIONS = [
    "view_family",
    "change_family",
    "view_guardian",
    "view_student",
    "view_enrollment",
    "view_familydocument",
    "view_studentdocument",
    "view_reenrollmentrequest",
    "view_invoice",
    "add_invoice",
    "view_payment",
    "add_payment",
    "view_refund",
    "view_familyaccount",
    "view_user",
    "change_user",
]


def overview_url(family):
    return reverse("admin:family_overview", args=[family.pk])


def document(model, kind, status="pending", **owner):
    created = model(
        kind=kind,
        original_name="piece.pdf",
        content_type="application/pdf",
        size=100,
        status=status,
        **owner,
    )
    created.file.save("piece.pdf", ContentFile(files.pdf()), save=False)
    created.save()
    return created


def fill(family, data, size):
    """`size` students (formation musicale and dance), each with a medical
    certificate to check and a re-enrollment request; `size` invoices, a
    payment, a draft; `size` changes to the family's record."""
    factories.payer(
        family,
        mobile_phone="+33612345678",
        home_phone="+33164887711",
        email="claire.martin@example.org",
    )
    document(FamilyDocument, data["proof"], "accepted", family=family)
    courses = data["courses"]
    for n in range(size):
        student = factories.student(family, f"Élève{n}", courses=[courses[0], courses[2]])
        document(StudentDocument, data["medical"], student=student)
        request = ReenrollmentRequest.objects.create(
            campaign=data["campaign"],
            student=student,
            status=ReenrollmentRequest.Status.SUBMITTED,
            submitted_at=timezone.now(),
        )
        Wish.objects.create(request=request, choice=Wish.Choice.CONTINUE, discipline=data["fm"])
        Wish.objects.create(
            request=request, choice=Wish.Choice.NEW, discipline=data["piano"], rank=1
        )
    invoices = [
        factories.issued(family, label=f"Cotisations {n}", lines=[("Piano", "186.00")])
        for n in range(size)
    ]
    ledger.record_payment(
        family, Decimal("50.00"), Payment.Mode.CHEQUE, [(invoices[0], Decimal("50.00"))]
    )
    factories.draft(family, label="Cotisations à venir")
    for n in range(size):
        family.name = f"{family.name.split()[0]} {n}"
        family.save()


@pytest.fixture
def data(combs):
    return factories.campaign(combs)


@pytest.fixture
def martin(combs, data):
    parent = factories.make_parent(combs, email="famille.martin@example.org")
    family = parent.family
    family.reference_mobile = "+33612345678"
    family.save()
    fill(family, data, 2)
    return Family.objects.get(pk=family.pk)


@pytest.fixture
def secretary(combs):
    return factories.signed_in(factories.staff(combs, PERMISSIONS))


# Seeing.


def test_the_overview_shows_the_whole_family(secretary, martin, data):
    response = secretary.get(overview_url(martin))
    assert response.status_code == 200
    page = response.text
    # Responsables, with their phones in French.
    assert "Mme Claire Martin" in page and "06 12 34 56 78" in page and "01 64 88 77 11" in page
    assert "+33612345678" not in page
    # Students and this year's courses.
    assert "Élève0 Martin" in page and "Élève1 Martin" in page
    assert "Formation musicale" in page and "Danse classique" in page and "Salle Debussy" in page
    # Documents: the family's checklist and each student's.
    assert "Justificatif de domicile" in page and "Accepté" in page
    assert page.count('<th scope="row">Certificat médical (danse)') == 2 and "À valider" in page
    assert "Attestation de responsabilité civile" in page
    # Re-enrollment requests and wishes.
    assert page.count("Formation musicale – poursuite") == 2
    assert "Piano – nouvelle discipline" in page
    # Statement and balance: 2 × 186 billed, 50 paid.
    assert "372,00\u00a0€" in page and "50,00\u00a0€" in page and "-322,00\u00a0€" in page
    assert "Cotisations à venir" in page
    # The account: identifiant, never signed in, a password chosen.
    assert "demo" in page and "famille.martin@example.org" in page
    assert "Mot de passe choisi" in page
    # History, newest first.
    history = response.context["history"]
    assert [r.history_date for r in history] == sorted(
        (r.history_date for r in history), reverse=True
    )
    assert {r.model_name for r in history} == {"family", "guardian", "student"}


def test_every_object_links_to_its_admin_page(secretary, martin):
    page = secretary.get(overview_url(martin)).text
    guardian = martin.guardians.get()
    student = martin.students.order_by("pk").first()
    request = ReenrollmentRequest.objects.filter(student=student).get()
    invoice = martin.invoices.filter(status="issued").first()
    payment = martin.payments.get()
    expected = [
        reverse("admin:families_family_change", args=[martin.pk]),
        reverse("admin:families_guardian_change", args=[guardian.pk]),
        reverse("admin:students_student_change", args=[student.pk]),
        reverse("admin:students_enrollment_change", args=[student.enrollments.first().pk]),
        reverse("admin:families_familydocument_change", args=[martin.documents.get().pk]),
        reverse("admin:students_studentdocument_change", args=[student.documents.get().pk]),
        reverse("admin:reenrollment_reenrollmentrequest_change", args=[request.pk]),
        reverse("admin:billing_invoice_change", args=[invoice.pk]),
        reverse("admin:billing_payment_change", args=[payment.pk]),
        reverse("admin:billing_familyaccount_change", args=[martin.pk]),
        reverse("admin:extranet_user_change", args=[martin.accounts.get().pk]),
        reverse("admin:families_family_history", args=[martin.pk]),
        reverse("admin:students_student_history", args=[student.pk]),
    ]
    for url in expected:
        assert f'href="{url}"' in page, url


def test_no_link_of_the_overview_is_dead(secretary, martin):
    url = overview_url(martin)
    page = secretary.get(url).text
    links = [
        link
        for link in links_of(page, "http://testserver" + url)
        if link != "http://testserver/" and "/static/" not in link
    ]
    assert len(links) > 20
    for link in links:
        assert secretary.get(link).status_code == 200, link


def test_a_family_of_another_site_is_not_found(secretary, ploufragan):
    le_goff = factories.make_parent(ploufragan, family_name="Le Goff").family
    assert secretary.get(overview_url(le_goff)).status_code == 404
    assert secretary.get(reverse("admin:family_overview", args=[999999])).status_code == 404


def test_staff_of_another_site_gets_not_found(martin, ploufragan):
    other = factories.signed_in(factories.staff(ploufragan, PERMISSIONS, username="plouf"))
    assert other.get(overview_url(martin)).status_code == 404
    response = other.post(overview_url(martin), {"action": "password_reset", "account": 1})
    assert response.status_code == 404
    assert DBTaskResult.objects.count() == 0


def test_a_network_administrator_sees_every_site(martin):
    admin = User.objects.create_superuser("reseau", "reseau@example.org", "x" * 16)
    client = factories.signed_in(admin)
    assert client.get(overview_url(martin)).status_code == 200


def test_a_parent_is_sent_to_the_admin_login(martin):
    parent = martin.accounts.get()
    response = factories.signed_in(parent).get(overview_url(martin))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))
    anonymous = Client().get(overview_url(martin))
    assert anonymous["Location"].startswith(reverse("admin:login"))


def test_staff_without_the_view_permission_is_refused(combs, martin):
    client = factories.signed_in(factories.staff(combs, ["view_invoice"], username="compta"))
    assert client.get(overview_url(martin)).status_code == 403


def test_what_a_secretary_may_not_see_or_do_is_not_offered(combs, martin):
    client = factories.signed_in(factories.staff(combs, ["view_family"], username="accueil"))
    page = client.get(overview_url(martin)).text
    assert "Élève0 Martin" in page and "Mme Claire Martin" in page
    # No statement, no actions, no links to pages out of reach.
    assert "372,00" not in page
    assert (
        "Factures en préparation" not in page and reverse("admin:billing_invoice_add") not in page
    )
    assert reverse("admin:billing_payment_add") not in page
    assert 'name="action"' not in page
    assert reverse("admin:extranet_user_change", args=[martin.accounts.get().pk]) not in page
    assert reverse("admin:families_guardian_change", args=[martin.guardians.get().pk]) not in page
    response = client.post(
        overview_url(martin), {"action": "password_reset", "account": martin.accounts.get().pk}
    )
    assert response.status_code == 403
    assert DBTaskResult.objects.count() == 0


def test_the_page_is_valid_html(secretary, martin, tmp_path):
    page = secretary.get(overview_url(martin)).text
    empty = factories.make_parent(martin.site, username="vide", family_name="Vide").family
    empty_page = secretary.get(overview_url(empty)).text
    assert "Aucun élève" in empty_page
    assert validate({"overview": page, "overview-empty": empty_page}, tmp_path) == []


def test_no_inline_style(secretary, martin):
    page = secretary.get(overview_url(martin)).text
    assert "style=" not in page
    assert "/static/css/workspace-admin.css" in page
    assert secretary.get("/static/css/workspace-admin.css").status_code == 200


def test_query_count_does_not_grow(combs, data):
    small = factories.make_parent(combs, username="petite", family_name="Petite").family
    large = factories.make_parent(combs, username="grande", family_name="Grande").family
    fill(small, data, 1)
    fill(large, data, 6)
    client = factories.signed_in(factories.staff(combs, PERMISSIONS))

    def count(family):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(overview_url(family)).status_code == 200
        return len(queries)

    count(small)  # The permissions' cache and the session, once.
    assert count(small) == count(large)
    assert count(large) <= 25, count(large)


# Acting.


def account_action(client, family, action, account):
    return client.post(overview_url(family), {"action": action, "account": account.pk}, follow=True)


def messages_of(response):
    return [str(m) for m in response.context["messages"]]


@pytest.mark.django_db(transaction=True)
def test_first_connection_link_goes_through_the_worker(
    combs, settings, run_worker, free_port, data
):
    parent = factories.make_parent(combs, username="nouveau", family_name="Nouveau")
    parent.set_unusable_password()
    parent.save()
    family = parent.family
    client = factories.signed_in(factories.staff(combs, PERMISSIONS))
    page = client.get(overview_url(family)).text
    assert "Pas encore de mot de passe\u00a0; jamais invité" in page
    assert "Lien de première connexion" in page and "Lien de réinitialisation" not in page
    response = account_action(client, family, "first_connection", parent)
    assert messages_of(response) == [
        "Le lien de première connexion du compte nouveau part à nouveau.combs-la-ville@example.org."
    ]
    parent.refresh_from_db()
    assert parent.invited_at is not None and not parent.has_usable_password()
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": free_port, "timeout": 5},
        }
    }
    with SMTPSink(free_port) as sink:
        run_worker()
    assert len(sink.messages) == 1
    message = sink.messages[0]
    assert message["To"] == "nouveau.combs-la-ville@example.org"
    body = message.get_payload(0).get_payload(decode=True).decode()
    assert "Votre identifiant\u00a0: nouveau" in body
    assert re.search(r"http://testserver/bienvenue/[^/\s]+/[^/\s]+/", body)
    parent.refresh_from_db()
    assert not parent.has_usable_password()  # Never set by the secretariat.
    page = client.get(overview_url(family)).text
    assert "lien de première connexion envoyé le" in page


@pytest.mark.django_db(transaction=True)
def test_password_reset_link_goes_through_the_worker(combs, run_worker, data):
    parent = factories.make_parent(combs)
    hashed = parent.password
    client = factories.signed_in(factories.staff(combs, PERMISSIONS))
    response = account_action(client, parent.family, "password_reset", parent)
    assert messages_of(response) == [
        "Un lien de réinitialisation du mot de passe du compte demo part à "
        "demo.combs-la-ville@example.org."
    ]
    assert mail.outbox == []
    run_worker()
    assert [m.to for m in mail.outbox] == [["demo.combs-la-ville@example.org"]]
    assert re.search(r"/nouveau-mot-de-passe/[^/\s]+/[^/\s]+/", mail.outbox[0].body)
    assert factories.PASSWORD not in mail.outbox[0].body
    parent.refresh_from_db()
    assert parent.password == hashed and parent.invited_at is None


def test_no_reset_link_for_an_account_without_password(combs, secretary, data):
    parent = factories.make_parent(combs)
    parent.set_unusable_password()
    parent.save()
    response = account_action(secretary, parent.family, "password_reset", parent)
    assert messages_of(response) == [
        "Le compte demo n’a pas encore de mot de passe\u00a0: envoyez-lui plutôt le lien de "
        "première connexion."
    ]
    assert DBTaskResult.objects.count() == 0


def test_no_first_connection_link_once_a_password_is_chosen(combs, secretary, data):
    parent = factories.make_parent(combs)
    response = account_action(secretary, parent.family, "first_connection", parent)
    assert "a déjà un mot de passe" in messages_of(response)[0]
    assert DBTaskResult.objects.count() == 0
    parent.refresh_from_db()
    assert parent.invited_at is None


def test_an_account_without_email_is_told(combs, secretary, data):
    parent = factories.make_parent(combs, email="")
    parent.set_unusable_password()
    parent.save()
    response = account_action(secretary, parent.family, "first_connection", parent)
    assert "n’ont d’adresse électronique" in messages_of(response)[0]
    assert DBTaskResult.objects.count() == 0
    parent.refresh_from_db()
    assert parent.invited_at is None


@pytest.mark.parametrize(
    "values",
    [
        {},
        {"action": "", "account": ""},
        {"action": "first_connection", "account": "abc"},
        {"action": "first_connection", "account": "1 OR 1=1"},
        {"action": "first_connection", "account": "9" * 40},
        {"action": "delete_everything", "account": "MINE"},
        {"action": "<script>alert(1)</script>", "account": "MINE"},
        {"action": "password_reset", "account": "OTHER"},
    ],
)
def test_bad_actions_do_nothing_and_say_so(combs, secretary, data, values):
    mine = factories.make_parent(combs)
    other = factories.make_parent(combs, username="voisin", family_name="Voisin")
    values = {
        k: {"MINE": str(mine.pk), "OTHER": str(other.pk)}.get(v, v) for k, v in values.items()
    }
    response = secretary.post(overview_url(mine.family), values, follow=True)
    assert response.status_code == 200
    assert messages_of(response) == [
        "Rien n’a été envoyé\u00a0: choisissez l’un des comptes de la famille."
    ]
    assert DBTaskResult.objects.count() == 0
    assert "<script>alert" not in response.text


def test_the_action_needs_the_csrf_token(combs, data):
    parent = factories.make_parent(combs)
    client = Client(enforce_csrf_checks=True)
    client.force_login(factories.staff(combs, PERMISSIONS))
    response = client.post(
        overview_url(parent.family), {"action": "password_reset", "account": parent.pk}
    )
    assert response.status_code == 403
    assert DBTaskResult.objects.count() == 0


def test_draft_an_invoice_and_record_a_payment_with_the_family_chosen(secretary, martin):
    page = secretary.get(overview_url(martin)).text
    for name in ["admin:billing_invoice_add", "admin:billing_payment_add"]:
        url = f"{reverse(name)}?family={martin.pk}&site={martin.site_id}"
        assert f'href="{url.replace("&", "&amp;")}"' in page
        form = secretary.get(url)
        assert form.status_code == 200
        assert form.context["adminform"].form.initial["family"] == str(martin.pk)
        assert f'<option value="{martin.pk}" selected>' in form.text


# The way there.


def test_the_family_list_and_page_lead_to_the_overview(secretary, martin):
    url = overview_url(martin)
    listing = secretary.get(reverse("admin:families_family_changelist")).text
    assert f'href="{url}"' in listing
    change = secretary.get(reverse("admin:families_family_change", args=[martin.pk])).text
    assert f'href="{url}"' in change and "Vue d’ensemble de la famille" in change


def test_old_history_is_left_to_the_history_page(combs, secretary, data):
    family = factories.make_parent(combs).family
    for n in range(30):
        family.name = f"Martin {n}"
        family.save()
    response = secretary.get(overview_url(family))
    history = response.context["history"]
    assert len(history) == 15 and history[0].name == "Martin 29"
    assert reverse("admin:families_family_history", args=[family.pk]) in response.text


def test_a_deleted_guardian_stays_in_the_history_without_a_dead_link(combs, secretary, data):
    family = factories.make_parent(combs).family
    guardian = factories.payer(family, first_name="Paul")
    pk = guardian.pk
    guardian.delete()
    response = secretary.get(overview_url(family))
    deleted = [r for r in response.context["history"] if r.history_type == "-"]
    assert len(deleted) == 1 and not getattr(deleted[0], "history_url", None)
    assert reverse("admin:families_guardian_history", args=[pk]) not in response.text


def test_a_family_without_school_year_still_shows(combs, secretary):
    family = factories.make_parent(combs).family
    factories.student(family, "Léa")
    page = secretary.get(overview_url(family)).text
    assert "Léa Martin" in page and "Aucune année scolaire" in page


def test_invited_at_is_shown_for_an_account_never_signed_in(combs, secretary, data):
    parent = factories.make_parent(combs)
    parent.set_unusable_password()
    parent.invited_at = timezone.now() - timedelta(days=2)
    parent.save()
    page = secretary.get(overview_url(parent.family)).text
    assert "lien de première connexion envoyé le" in page
    assert "jamais" in page  # Never signed in.


def test_links_resolve_from_the_admin_root(secretary, martin):
    # Every link is absolute: the page may be reached from anywhere.
    page = secretary.get(overview_url(martin)).text
    for href in re.findall(r'href="([^"]+)"', page):
        assert href.startswith(("/", "mailto:", "#", "http")), href
    assert urljoin("http://testserver/", overview_url(martin)).endswith(f"/famille/{martin.pk}/")


def test_the_staff_permission_names_exist():
    # A typo in PERMISSIONS would silently grant less.
    assert Permission.objects.filter(codename__in=PERMISSIONS).count() == len(PERMISSIONS)


# Phones in the admin: French everywhere, found however they are typed.


class FormValues(HTMLParser):
    """What a browser would send back from the page's form `form_id`, as shown."""

    def __init__(self, form_id):
        super().__init__()
        self.form_id, self.inside, self.values = form_id, False, []
        self.select = self.textarea = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.inside = attrs.get("id") == self.form_id
        if not self.inside or "disabled" in attrs:
            return
        name = attrs.get("name")
        if tag == "input" and name and attrs.get("type") not in {"submit", "button", "file"}:
            if attrs.get("type") in {"checkbox", "radio"}:
                if "checked" in attrs:
                    self.values.append((name, attrs.get("value", "on")))
            else:
                self.values.append((name, attrs.get("value", "")))
        elif tag == "select":
            self.select = name
        elif tag == "option" and self.select and "selected" in attrs:
            self.values.append((self.select, attrs.get("value", "")))
        elif tag == "textarea":
            self.textarea = name
            self.values.append((name, ""))

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "select":
            self.select = None
        elif tag == "textarea":
            self.textarea = None

    def handle_data(self, data):
        if self.textarea:
            name, value = self.values.pop()
            self.values.append((name, value + data))


def form_values(page, form_id):
    parser = FormValues(form_id)
    parser.feed(page)
    data = {}
    for name, value in parser.values:
        data.setdefault(name, []).append(value)
    return data


@pytest.fixture
def claire(martin):
    return martin.guardians.get()


def test_phones_are_french_in_the_lists(secretary, martin, claire, combs):
    for url in [
        reverse("admin:families_family_changelist"),
        reverse("admin:families_guardian_changelist"),
    ]:
        page = secretary.get(url).text
        assert "06 12 34 56 78" in page and "+33612345678" not in page, url
    admin = factories.signed_in(User.objects.create_superuser("reseau", "r@example.org", "x" * 16))
    sites = admin.get(reverse("admin:extranet_site_changelist")).text
    assert "01 64 88 77 00" in sites and "+33164887700" not in sites


def test_phones_are_french_in_the_edit_fields(combs, martin, claire):
    client = factories.signed_in(
        factories.staff(combs, PERMISSIONS + ["change_guardian", "change_student"], "edit")
    )
    student = martin.students.first()
    student.mobile_phone = "+32470123456"  # A Belgian number stays international.
    student.save()
    pages = {
        "family": client.get(reverse("admin:families_family_change", args=[martin.pk])).text,
        "guardian": client.get(reverse("admin:families_guardian_change", args=[claire.pk])).text,
        "student": client.get(reverse("admin:students_student_change", args=[student.pk])).text,
    }
    assert 'type="tel" name="reference_mobile" value="06 12 34 56 78"' in pages["family"]
    assert 'name="guardians-0-mobile_phone" value="06 12 34 56 78"' in pages["family"]
    assert 'name="guardians-0-home_phone" value="01 64 88 77 11"' in pages["family"]
    assert 'name="mobile_phone" value="06 12 34 56 78"' in pages["guardian"]
    assert 'name="mobile_phone" value="+32 470 12 34 56"' in pages["student"]
    for page in pages.values():
        assert "+336" not in page and "+331" not in page


def test_a_form_saved_as_shown_keeps_the_numbers(combs, martin, claire):
    client = factories.signed_in(factories.staff(combs, PERMISSIONS + ["change_guardian"], "ed"))
    url = reverse("admin:families_family_change", args=[martin.pk])
    data = form_values(client.get(url).text, "family_form")
    assert data["reference_mobile"] == ["06 12 34 56 78"]
    response = client.post(url, {**data, "_save": "Enregistrer"})
    assert response.status_code == 302, response.context["adminform"].form.errors
    martin.refresh_from_db()
    claire.refresh_from_db()
    assert martin.reference_mobile.as_e164 == "+33612345678"
    assert claire.mobile_phone.as_e164 == "+33612345678"
    assert claire.home_phone.as_e164 == "+33164887711"
    assert claire.version == 1  # Unchanged: a family's open form is not made stale.


def test_phones_are_french_when_staff_may_only_view(combs, martin, claire):
    client = factories.signed_in(
        factories.staff(combs, ["view_family", "view_guardian", "view_student"], "lecture")
    )
    student = martin.students.first()
    student.mobile_phone = "+33698765432"
    student.save()
    for url in [
        reverse("admin:families_family_change", args=[martin.pk]),
        reverse("admin:families_guardian_change", args=[claire.pk]),
        reverse("admin:students_student_change", args=[student.pk]),
    ]:
        response = client.get(url)
        assert response.status_code == 200, url
        page = response.text
        assert "+336" not in page and "+331" not in page, url
        assert 'type="tel"' not in page, url  # Shown, not editable.
    assert (
        "06 12 34 56 78"
        in client.get(reverse("admin:families_guardian_change", args=[claire.pk])).text
    )
    assert (
        "06 98 76 54 32"
        in client.get(reverse("admin:students_student_change", args=[student.pk])).text
    )


@pytest.mark.parametrize(
    "term",
    ["0612345678", "06 12 34 56 78", "+33612345678", "+33 6 12 34 56 78", "06.12.34.56.78"],
)
def test_search_by_phone_however_it_is_typed(secretary, combs, martin, claire, term):
    other = factories.make_parent(combs, username="autre", family_name="Autre").family
    factories.payer(other, first_name="Paul", mobile_phone="+33611111111")
    families = secretary.get(reverse("admin:families_family_changelist"), {"q": term})
    assert list(families.context["cl"].result_list) == [martin]
    guardians = secretary.get(reverse("admin:families_guardian_changelist"), {"q": term})
    assert list(guardians.context["cl"].result_list) == [claire]


def test_search_by_phone_stays_within_the_site(secretary, ploufragan, martin):
    le_goff = factories.make_parent(ploufragan, username="lg", family_name="Le Goff").family
    factories.payer(le_goff, first_name="Yann", mobile_phone="+33698765432")
    for term in ["06 98 76 54 32", "+33698765432"]:
        found = secretary.get(reverse("admin:families_family_changelist"), {"q": term})
        assert list(found.context["cl"].result_list) == []


@pytest.mark.parametrize("term", ["Martin", "12", "06", "+", "06 12 34 56 78 90 12 34", "x" * 300])
def test_other_searches_are_unchanged(secretary, martin, term):
    response = secretary.get(reverse("admin:families_family_changelist"), {"q": term})
    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == ([martin] if term == "Martin" else [])


def test_a_students_own_mobile_is_found(combs, martin):
    client = factories.signed_in(factories.staff(combs, PERMISSIONS, "eleves"))
    student = martin.students.first()
    student.mobile_phone = "+33700000001"
    student.save()
    response = client.get(reverse("admin:students_student_changelist"), {"q": "07 00 00 00 01"})
    assert list(response.context["cl"].result_list) == [student]


def test_the_site_phone_is_shown_in_french_and_kept_in_e164(combs):
    admin = factories.signed_in(User.objects.create_superuser("reseau", "r@example.org", "x" * 16))
    url = reverse("admin:extranet_site_change", args=[combs.pk])
    data = form_values(admin.get(url).text, "site_form")
    assert data["phone"] == ["01 64 88 77 00"]
    response = admin.post(url, {**data, "_save": "Enregistrer"})
    assert response.status_code == 302, response.context["adminform"].form.errors
    combs.refresh_from_db()
    assert combs.phone == "+33164887700"
    data["phone"] = ["Standard : voir le site"]  # Not a number: kept as typed.
    assert admin.post(url, {**data, "_save": "Enregistrer"}).status_code == 302
    combs.refresh_from_db()
    assert combs.phone == "Standard : voir le site"


def test_every_admin_of_a_model_with_phones_shows_them_in_french():
    from django.contrib import admin
    from phonenumber_field.modelfields import PhoneNumberField

    from extranet.admin_phones import FrenchPhonesMixin

    def has_phones(model):
        return any(isinstance(f, PhoneNumberField) for f in model._meta.fields)

    wrong = []
    for model, model_admin in admin.site._registry.items():
        if has_phones(model) and not isinstance(model_admin, FrenchPhonesMixin):
            wrong.append(model_admin)
        for inline in model_admin.inlines:
            if has_phones(inline.model) and not issubclass(inline, FrenchPhonesMixin):
                wrong.append(inline)
    assert wrong == []


def test_phone_changes_are_french_in_the_history(secretary, claire):
    claire.mobile_phone = "+33611223344"
    claire.save()
    page = secretary.get(reverse("admin:families_guardian_history", args=[claire.pk])).text
    assert "06 12 34 56 78" in page and "06 11 22 33 44" in page
    assert "+3361" not in page
