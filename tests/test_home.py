"""The Accueil tab as a to-do list: each item shows while its cause exists
and goes once it is resolved; this week's lessons with their dates; the
site's news in their window; never another family's or site's data; a fixed
number of queries whatever the number of students."""

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from dateutil.relativedelta import relativedelta
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import override

from billing import ledger
from billing.models import Instalment, Invoice, Payment
from documents.models import DocumentKind
from extranet.models import User
from families.models import FamilyDocument
from home.models import News
from reenrollment.models import ReenrollmentRequest
from students.models import ClosurePeriod, StudentDocument

from . import clock, factories, files
from .test_html_valid import validate

NOTHING = "Rien à faire pour le moment."


def home(client):
    response = client.get(reverse("home"))
    assert response.status_code == 200
    return response.text


def todo_part(html):
    """The "À faire" section only."""
    start = html.index('id="todo-title"')
    return html[start : html.index("</section>", start)]


def document(model, kind, status="accepted", uploaded_at=None, **owner):
    return model.objects.create(
        kind=kind,
        file="x.pdf",
        original_name="x.pdf",
        content_type="application/pdf",
        size=1,
        status=status,
        uploaded_at=uploaded_at or timezone.now(),
        **owner,
    )


@pytest.fixture
def family_client(parent):
    return factories.signed_in(parent)


# Nothing to do.


def test_nothing_to_do(family_client):
    html = home(family_client)
    assert "À faire" in html and NOTHING in html
    assert "Aucun cours cette semaine." in html


def test_staff_without_family_goes_to_the_admin(combs):
    secretary = factories.staff(combs, [], username="secretariat")
    response = factories.signed_in(secretary).get(reverse("home"))
    assert response.status_code == 302 and response["Location"] == reverse("admin:index")


# Money.


def test_unpaid_invoice_with_pay_button_until_paid(family_client, parent, combs):
    factories.payer(parent.family)
    factories.simulator(combs)
    invoice = factories.issued(parent.family)
    html = todo_part(home(family_client))
    assert "Factures à payer" in html and "186,00\u00a0€" in html
    assert f'action="{reverse("billing:pay")}"' in html
    assert f'name="invoices" value="{invoice.pk}"' in html
    assert "Payer" in html and NOTHING not in html
    assert "en retard" not in html
    ledger.record_payment(
        parent.family, Decimal("186.00"), Payment.Mode.CHEQUE, [(invoice, Decimal("186.00"))]
    )
    html = todo_part(home(family_client))
    assert "Factures à payer" not in html and NOTHING in html


def test_overdue_invoice_is_marked(family_client, parent):
    factories.payer(parent.family)
    factories.issued(parent.family, due_date=clock.TODAY - timedelta(days=10))
    html = todo_part(home(family_client))
    assert "En retard\u00a0: 186,00\u00a0€." in html
    assert "186,00\u00a0€ en retard" in html
    # Without an online payment service, no button: the secretariat's ways.
    assert reverse("billing:pay") not in html
    assert "Réglez au secrétariat" in html


def test_the_pay_button_posts_to_the_online_payment(family_client, parent, combs):
    factories.payer(parent.family)
    factories.simulator(combs)
    invoice = factories.issued(parent.family)
    response = family_client.post(reverse("billing:pay"), {"invoices": [invoice.pk]})
    assert response.status_code in (200, 302)


def test_instalment_in_20_days_until_paid(family_client, parent, combs):
    factories.payer(parent.family)
    plan = factories.instalment_plans(combs)[10]
    invoice = factories.issued(parent.family)
    Instalment.objects.filter(invoice=invoice).delete()
    first = clock.TODAY + timedelta(days=20)
    Instalment.objects.create(invoice=invoice, position=1, due_date=first, amount=Decimal("93"))
    Instalment.objects.create(
        invoice=invoice, position=2, due_date=first + timedelta(days=60), amount=Decimal("93")
    )
    Invoice._base_manager.filter(pk=invoice.pk).update(plan=plan, due_date=first)
    html = todo_part(home(family_client))
    assert "Échéances des 30 prochains jours" in html
    with override("fr"):
        assert date_format(first, "l j F Y") in html
        assert date_format(first + timedelta(days=60), "l j F Y") not in html
    assert "93,00\u00a0€" in html and "par prélèvement" in html
    ledger.record_payment(
        parent.family, Decimal("93.00"), Payment.Mode.CHEQUE, [(invoice, Decimal("93.00"))]
    )
    assert "Échéances des 30 prochains jours" not in todo_part(home(family_client))


def test_another_familys_invoices_are_never_shown(family_client, combs):
    stranger = factories.make_parent(combs, username="autre", family_name="Autre")
    factories.payer(stranger.family)
    factories.issued(stranger.family, due_date=clock.TODAY - timedelta(days=3))
    html = home(family_client)
    assert NOTHING in html and "Factures à payer" not in html


# Documents.


@pytest.fixture
def proof(combs):
    return DocumentKind.objects.create(
        site=combs,
        name="Justificatif de domicile",
        required=True,
        validity=DocumentKind.Validity.MONTHS,
        validity_months=3,
    )


def test_missing_family_document_until_uploaded(family_client, parent, proof):
    html = todo_part(home(family_client))
    assert "Justificatif de domicile" in html and "manquant" in html
    assert f"{reverse('families:family')}#documents-title" in html
    document(FamilyDocument, proof, status="pending", family=parent.family)
    assert NOTHING in home(family_client)


def test_refused_document_with_its_reason(family_client, parent, proof):
    refused = document(FamilyDocument, proof, status="refused", family=parent.family)
    refused.refusal_reason = "Document illisible, merci de le scanner à nouveau."
    refused.save()
    html = todo_part(home(family_client))
    assert "refusé" in html
    assert "Motif\u00a0: Document illisible, merci de le scanner à nouveau." in html
    document(FamilyDocument, proof, status="accepted", family=parent.family)
    assert NOTHING in home(family_client)


def test_document_expiring_within_30_days(family_client, parent, proof):
    expires = clock.TODAY + timedelta(days=12)
    uploaded = timezone.make_aware(
        timezone.datetime.combine(expires - relativedelta(months=3), timezone.datetime.min.time())
    )
    document(FamilyDocument, proof, uploaded_at=uploaded, family=parent.family)
    html = todo_part(home(family_client))
    with override("fr"):
        assert f"expire le {date_format(expires, 'j F Y')}" in html
    document(FamilyDocument, proof, family=parent.family)
    assert NOTHING in home(family_client)


def test_document_expiring_later_is_not_a_todo(family_client, parent, proof):
    uploaded = timezone.now() - relativedelta(months=1)
    document(FamilyDocument, proof, uploaded_at=uploaded, family=parent.family)
    assert NOTHING in home(family_client)


def test_student_document_its_discipline_asks_for(family_client, parent, combs):
    year = factories.school_year(combs)
    structure = factories.structure(combs, year)
    dancer = factories.student(parent.family, "Léa", courses=[structure["courses"][2]])
    html = todo_part(home(family_client))
    assert "Certificat médical (danse)</strong> (Léa)" in html
    assert f"{reverse('students:detail', args=[dancer.pk])}#documents-title" in html
    document(StudentDocument, structure["medical"], status="pending", student=dancer)
    assert NOTHING in home(family_client)


# Re-enrollment.


def test_open_campaign_with_a_child_not_sent_until_sent(family_client, parent, combs):
    data = factories.campaign(combs)
    hugo = factories.student(parent.family, "Hugo")
    # The campaign asks no document that is not already here.
    DocumentKind.objects.filter(site=combs).update(required=False)
    html = todo_part(home(family_client))
    assert "Réinscription pour l’année" in html and "Hugo" in html
    assert "demande non commencée" in html
    assert reverse("reenrollment:documents", args=[hugo.pk]) in html
    request = ReenrollmentRequest.objects.create(campaign=data["campaign"], student=hugo)
    assert "demande pas encore envoyée" in todo_part(home(family_client))
    request.status = ReenrollmentRequest.Status.INCOMPLETE
    request.missing_note = "Merci d’ajouter l’avis d’imposition."
    request.save()
    html = todo_part(home(family_client))
    assert "demande incomplète" in html and "Merci d’ajouter l’avis d’imposition." in html
    request.status = ReenrollmentRequest.Status.SUBMITTED
    request.save()
    assert NOTHING in home(family_client)


def test_campaign_opening_soon_says_when(family_client, parent, combs):
    opens = timezone.now() + timedelta(days=10)
    factories.campaign(combs, opens_at=opens, closes_at=opens + timedelta(days=20))
    DocumentKind.objects.filter(site=combs).update(required=False)
    factories.student(parent.family, "Hugo")
    html = todo_part(home(family_client))
    assert "La réinscription ouvre le" in html


def test_campaign_opening_in_months_is_not_a_todo(family_client, parent, combs):
    opens = timezone.now() + timedelta(days=90)
    factories.campaign(combs, opens_at=opens, closes_at=opens + timedelta(days=20))
    DocumentKind.objects.filter(site=combs).update(required=False)
    factories.student(parent.family, "Hugo")
    assert NOTHING in home(family_client)


# This week.


def test_this_weeks_lessons_with_their_dates(during_lessons, family_client, parent, combs):
    year = factories.school_year(combs)
    structure = factories.structure(combs, year)
    factories.student(parent.family, "Léa", courses=structure["courses"][:2])
    monday = during_lessons - timedelta(days=during_lessons.weekday())
    wednesday = monday + timedelta(days=2)
    html = home(family_client)
    with override("fr"):
        assert date_format(wednesday, "l j F").capitalize() in html
    assert "14:00–14:30" in html and "Piano" in html


def test_a_closure_this_week_says_no_lesson(during_lessons, family_client, parent, combs):
    year = factories.school_year(combs)
    structure = factories.structure(combs, year)
    factories.student(parent.family, "Léa", courses=structure["courses"][:2])
    monday = during_lessons - timedelta(days=during_lessons.weekday())
    ClosurePeriod.objects.create(
        school_year=year,
        name="Journée pédagogique",
        start_date=monday,
        end_date=monday + timedelta(2),
    )
    html = home(family_client)
    assert "Pas de cours\u00a0: Journée pédagogique." in html


# What the page read is kept until a change it shows or the next day.


def test_a_document_uploaded_through_the_family_page_shows_at_once(family_client, parent, proof):
    assert "manquant" in todo_part(home(family_client))
    response = family_client.post(
        reverse("families:document_upload"),
        {"kind": proof.pk, "file": SimpleUploadedFile("edf.pdf", files.pdf(), "application/pdf")},
    )
    assert response.status_code == 302
    html = todo_part(home(family_client))
    assert "manquant" not in html and NOTHING in html


def test_news_published_in_the_admin_shows_at_once(secretary, demo):
    client = factories.signed_in(User.objects.get(site=demo["combs"], username="demo"))
    assert "Portes ouvertes" not in home(client)
    data = {"title": "Portes ouvertes", "body": "Samedi matin.", "site": demo["combs"].pk}
    data |= {"publish_from": clock.TODAY.strftime("%d/%m/%Y"), "publish_until": ""}
    assert secretary.post(reverse("admin:home_news_add"), data).status_code == 302
    assert "Portes ouvertes" in home(client)


def test_a_bulk_change_shows_at_once(family_client, parent, proof):
    """As a task or an admin action writes: `update()`, no model's save()."""
    sent = document(FamilyDocument, proof, status="pending", family=parent.family)
    assert NOTHING in home(family_client)
    FamilyDocument.objects.filter(pk=sent.pk).update(status="refused", refusal_reason="Illisible")
    html = todo_part(home(family_client))
    assert "Illisible" in html and NOTHING not in html


def test_another_day_is_read_again(family_client, parent, combs):
    """An instalment 40 days ahead is no to-do today; it is 15 days later, with
    nothing changed in between."""
    factories.payer(parent.family)
    invoice = factories.issued(parent.family)
    Instalment.objects.filter(invoice=invoice).delete()
    Instalment.objects.create(
        invoice=invoice,
        position=1,
        due_date=clock.TODAY + timedelta(days=40),
        amount=Decimal("186"),
    )
    assert "Échéances" not in todo_part(home(family_client))
    with time_machine.travel(clock.NOW + timedelta(days=15), tick=True):
        # Signed in again: the session would have expired.
        assert "Échéances" in todo_part(home(factories.signed_in(parent)))


def test_another_familys_page_is_never_served(family_client, parent, combs):
    other = factories.make_parent(combs, username="voisin", family_name="Voisin")
    factories.payer(other.family)
    factories.issued(other.family)
    assert NOTHING in home(family_client)
    assert "Factures à payer" in home(factories.signed_in(other))
    assert NOTHING in home(family_client)


# News.


def test_news_inside_their_window_newest_first(family_client, combs, ploufragan):
    today = clock.TODAY
    News.objects.create(site=combs, title="Concert", body="Mercredi.", publish_from=today)
    News.objects.create(
        site=combs,
        title="Fermeture",
        body="Vacances.",
        publish_from=today - timedelta(days=5),
        publish_until=today,
    )
    News.objects.create(
        site=combs, title="Plus tard", body="x", publish_from=today + timedelta(days=1)
    )
    News.objects.create(
        site=combs,
        title="Passée",
        body="x",
        publish_from=today - timedelta(days=9),
        publish_until=today - timedelta(days=1),
    )
    News.objects.create(site=ploufragan, title="Ploufragan seulement", body="x", publish_from=today)
    html = home(family_client)
    assert "Actualités" in html
    assert html.index("Concert") < html.index("Fermeture")
    for hidden in ["Plus tard", "Passée", "Ploufragan seulement"]:
        assert hidden not in html
    # News are no to-do.
    assert NOTHING in html


# Query counts and validity.


def full_family(site, structure, campaign, size, username):
    parent = factories.make_parent(site, username=username, family_name=username.title())
    factories.payer(parent.family)
    for n in range(size):
        student = factories.student(parent.family, f"Élève{n}", courses=structure["courses"])
        document(StudentDocument, structure["medical"], status="refused", student=student)
        if n % 2:
            ReenrollmentRequest.objects.create(campaign=campaign, student=student)
    invoice = factories.issued(parent.family, due_date=clock.TODAY - timedelta(days=2))
    Instalment.objects.create(
        invoice=invoice,
        position=1,
        due_date=clock.TODAY + timedelta(days=20),
        amount=Decimal("186"),
    )
    return parent


def cache_query(sql):
    # The database cache writes in a transaction: a savepoint within the test's.
    return "extranet_cache" in sql or "SAVEPOINT" in sql


def count(parent):
    """(queries of the page, of the page again, its HTML), without those of the
    database cache the tests use (production's is Redis)."""
    client = Client()
    client.force_login(parent)
    counts = []
    for _ in range(2):
        with CaptureQueriesContext(connection) as queries:
            html = home(client)
        counts.append(sum(not cache_query(q["sql"]) for q in queries.captured_queries))
    return *counts, html


# The session, the account, then the page: year, students and enrollments,
# the week's closures, invoices and instalments, the payment service, family
# kinds and documents, student kinds and documents, campaign and requests,
# the news.
HOME_QUERIES = 16
# Once read (until a change or the next day): the session, the account, the
# campaign and the requests.
HOME_QUERIES_AGAIN = 4


def test_query_count_is_the_same_for_1_and_5_students(combs, tmp_path):
    data = factories.campaign(combs)
    factories.simulator(combs)
    News.objects.create(site=combs, title="Concert", body="x", publish_from=clock.TODAY)
    small = full_family(combs, data, data["campaign"], 1, "petite")
    large = full_family(combs, data, data["campaign"], 5, "grande")
    small_count, small_again, _html = count(small)
    large_count, large_again, html = count(large)
    assert small_count == large_count <= HOME_QUERIES
    assert small_again == large_again <= HOME_QUERIES_AGAIN
    for expected in ["Factures à payer", "Échéances", "Élève4", "Réinscription", "Concert"]:
        assert expected in html
    assert validate({"home-full": html}, tmp_path) == []


def test_empty_home_is_valid_html(parent, tmp_path):
    client = Client()
    client.force_login(User.objects.get(pk=parent.pk))
    assert validate({"home-empty": home(client)}, tmp_path) == []


# The news in the admin, and the demo's.


@pytest.fixture
def secretary(demo):
    return factories.signed_in(User.objects.get(username="secretariat-combs"))


def test_demo_news_on_each_sites_home(demo):
    combs_parent = User.objects.get(site=demo["combs"], username="demo")
    html = home(factories.signed_in(combs_parent))
    assert "Concert de Noël des élèves" in html
    assert "Fermeture pendant les vacances de Noël" in html
    assert "Spectacle de danse" not in html


def test_secretary_lists_and_opens_only_her_sites_news(secretary, demo):
    page = secretary.get(reverse("admin:home_news_changelist"))
    assert page.status_code == 200
    shown = {news.site_id for news in page.context["cl"].result_list}
    assert shown == {demo["combs"].pk}
    own = News.objects.filter(site=demo["combs"]).first()
    assert secretary.get(reverse("admin:home_news_change", args=[own.pk])).status_code == 200
    foreign = News.objects.filter(site=demo["ploufragan"]).first()
    response = secretary.get(reverse("admin:home_news_change", args=[foreign.pk]))
    assert response.status_code == 302 and response["Location"] == reverse("admin:index")
    response = secretary.post(reverse("admin:home_news_delete", args=[foreign.pk]), {"post": "yes"})
    assert News.objects.filter(pk=foreign.pk).exists()


def test_secretary_publishes_on_her_site_only(secretary, demo):
    data = {
        "title": "Portes ouvertes",
        "body": "Samedi matin.",
        "publish_from": clock.TODAY.strftime("%d/%m/%Y"),
        "publish_until": "",
    }
    refused = secretary.post(
        reverse("admin:home_news_add"), {**data, "site": demo["ploufragan"].pk}
    )
    assert refused.status_code == 200
    assert not News.objects.filter(title="Portes ouvertes").exists()
    saved = secretary.post(reverse("admin:home_news_add"), {**data, "site": demo["combs"].pk})
    assert saved.status_code == 302
    assert News.objects.get(title="Portes ouvertes").site == demo["combs"]


def test_the_window_must_end_after_it_starts(secretary, demo):
    response = secretary.post(
        reverse("admin:home_news_add"),
        {
            "site": demo["combs"].pk,
            "title": "À l’envers",
            "body": "x",
            "publish_from": clock.TODAY.strftime("%d/%m/%Y"),
            "publish_until": (clock.TODAY - timedelta(days=1)).strftime("%d/%m/%Y"),
        },
    )
    assert response.status_code == 200
    assert "Le dernier jour d’affichage ne peut pas précéder le premier." in response.text
    assert not News.objects.filter(title="À l’envers").exists()


def test_superuser_sees_every_sites_news(demo):
    admin = factories.signed_in(User.objects.get(username="admin"))
    page = admin.get(reverse("admin:home_news_changelist"))
    assert {n.site_id for n in page.context["cl"].result_list} == {
        demo["combs"].pk,
        demo["ploufragan"].pk,
    }
