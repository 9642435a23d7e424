"""The secretariat's "Aujourd'hui": each figure counts what its link's list
shows, on the secretary's site only, in a fixed number of queries."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from billing import ledger
from billing.deposits import make_deposit
from billing.models import OnlinePayment, Payment, PaymentGateway
from extranet.models import User
from families.models import Family, FamilyDocument
from reenrollment.models import ReenrollmentRequest, Wish
from students.models import StudentDocument
from workspace import roles

from . import clock, factories
from .test_html_valid import validate

pytestmark = pytest.mark.django_db

INDEX = reverse("admin:index")
Status = ReenrollmentRequest.Status


def document(model, owner, kind, days_ago, status=FamilyDocument.Status.PENDING):
    field = "family" if model is FamilyDocument else "student"
    return model.objects.create(
        **{field: owner},
        kind=kind,
        file="x.pdf",
        original_name="x.pdf",
        content_type="application/pdf",
        size=1,
        status=status,
        uploaded_at=timezone.now() - timedelta(days=days_ago),
    )


def request_for(campaign, family, name, status, *wishes):
    student = factories.student(family, name)
    request = ReenrollmentRequest.objects.create(campaign=campaign, student=student, status=status)
    for choice, discipline in wishes:
        Wish.objects.create(request=request, choice=choice, discipline=discipline)
    return request


def day_of_work(site):
    """What waits for the secretariat of `site`, beside what does not."""
    now = timezone.now()
    prefix = site.slug[:4]
    signed = factories.make_parent(
        site, username=f"{prefix}-signed", family_name="Signée", last_login=now
    )
    family = signed.family
    factories.payer(family)
    Family.objects.create(site=site, name="Sans compte")
    factories.make_parent(site, username=f"{prefix}-never", family_name="Jamais venue")
    factories.make_parent(site, username=f"{prefix}-invited", family_name="Invitée", invited_at=now)
    # An account closed by the secretariat is no account.
    factories.make_parent(site, username=f"{prefix}-closed", family_name="Fermée", is_active=False)

    data = factories.campaign(site)
    campaign, piano, fm, dance = data["campaign"], data["piano"], data["fm"], data["dance"]
    proof = data["proof"]
    document(FamilyDocument, family, proof, 3)
    document(FamilyDocument, family, proof, 1)
    document(FamilyDocument, family, proof, 5, status=FamilyDocument.Status.ACCEPTED)
    dancer = factories.student(family, "Danseuse")
    document(StudentDocument, dancer, data["medical"], 2)

    go_on, new, stop = Wish.Choice.CONTINUE, Wish.Choice.NEW, Wish.Choice.STOP
    request_for(campaign, family, "Paul", Status.SUBMITTED, (go_on, piano), (go_on, fm))
    request_for(campaign, family, "Zoé", Status.INCOMPLETE, (new, dance))
    request_for(campaign, family, "Inès", Status.VALIDATED, (go_on, piano))
    request_for(campaign, family, "Tom", Status.DRAFT, (go_on, fm))
    request_for(campaign, family, "Noé", Status.SUBMITTED, (stop, dance))

    for status in [OnlinePayment.Status.ANOMALY, OnlinePayment.Status.PAID]:
        OnlinePayment.objects.create(
            site=site,
            family=family,
            backend=PaymentGateway.Backend.DUMMY,
            reference=f"{prefix}-{status}",
            amount=Decimal("10.00"),
            status=status,
            expires_at=now,
        )
    today = timezone.localdate()
    factories.issued(family, due_date=today - timedelta(days=10), lines=[("Piano", "100.00")])
    factories.issued(family, due_date=today - timedelta(days=40), lines=[("FM", "50.50")])
    upcoming = factories.issued(
        family, due_date=today + timedelta(days=10), lines=[("Danse", "80.00")]
    )
    # Two cheques to take to the bank, and one already on a slip.
    for amount in ["30.00", "20.50", "10.00"]:
        cheque = ledger.record_payment(
            family, Decimal(amount), Payment.Mode.CHEQUE, [(upcoming, Decimal(amount))]
        )
    make_deposit(site, [cheque.pk], bank="Trésor public")
    factories.draft(family, due_date=today - timedelta(days=10))
    return data


@pytest.fixture
def secretary(combs):
    user = factories.member(combs, roles.SECRETARIAT, roles.CASH_OFFICE)
    return factories.signed_in(user)


def figures(page):
    """{label: figure} of every figure on the page."""
    context = page.context
    found = [*context["documents"], *context["payments"], *context["accounts"]]
    for item in context["campaigns"] or []:
        found += item.statuses
    return {str(figure.label): figure for figure in found}


def listed(client, url):
    page = client.get(url)
    assert page.status_code == 200, url
    return {obj.pk for obj in page.context["cl"].queryset}


def test_each_figure_counts_what_its_list_shows(secretary, combs, ploufragan):
    day_of_work(combs)
    day_of_work(ploufragan)  # Never counted on Combs-la-Ville's dashboard.
    page = secretary.get(INDEX)
    assert page.status_code == 200
    shown = figures(page)
    counts = {label: figure.count for label, figure in shown.items()}
    assert counts == {
        "Documents de famille à vérifier": 2,
        "Documents d’élève à vérifier": 1,
        "brouillon": 1,
        "envoyée": 2,
        "en cours de traitement": 0,
        "incomplète": 1,
        "validée": 1,
        "refusée": 0,
        "Paiements en ligne à vérifier": 1,
        "Factures en retard": 2,
        "Familles sans compte": 2,
        "Familles jamais connectées": 2,
        "Invitations envoyées, pas encore utilisées": 1,
        "Chèques à remettre en banque": 2,
    }
    for label, figure in shown.items():
        assert len(listed(secretary, figure.url)) == figure.count, label
    # What the lists show is this site's only.
    families = listed(secretary, shown["Familles sans compte"].url)
    assert set(Family.objects.filter(pk__in=families).values_list("site", flat=True)) == {combs.pk}
    assert shown["Factures en retard"].amount == Decimal("150.50")
    oldest = shown["Documents de famille à vérifier"].oldest
    assert timezone.localdate(oldest) == clock.TODAY - timedelta(days=3)
    text = page.text
    assert "150,50\u00a0€ en retard" in text
    assert shown["Chèques à remettre en banque"].total == Decimal("50.50")
    assert "50,50\u00a0€ en tout" in text
    assert "Réinscription" in text and "Familles sans compte" in text


def test_the_campaigns_progress_by_discipline(secretary, combs, ploufragan):
    data = day_of_work(combs)
    day_of_work(ploufragan)
    [progress] = secretary.get(INDEX).context["campaigns"]
    assert progress.campaign == data["campaign"]
    rows = {row.name: row for row in progress.disciplines}
    # Sent, incomplete, validated, in all; a course stopped is not counted.
    counts = {name: [f.count for f in r.figures] + [r.total.count] for name, r in rows.items()}
    assert counts == {
        "Danse classique": [0, 1, 0, 1],
        "Formation musicale": [1, 0, 0, 2],
        "Piano": [1, 0, 1, 2],
    }
    for row in rows.values():
        for figure in [*row.figures, row.total]:
            assert len(listed(secretary, figure.url)) == figure.count, (row.name, figure.label)


def test_no_campaign_yet(secretary, combs):
    page = secretary.get(INDEX)
    assert page.context["campaigns"] == []
    assert "Aucune campagne de réinscription n’a encore ouvert." in page.text


def test_a_network_administrator_sees_every_site(combs, ploufragan):
    day_of_work(combs)
    day_of_work(ploufragan)
    admin = factories.signed_in(
        User.objects.create_superuser(username="reseau", password="x" * 16, site=None)
    )
    page = admin.get(INDEX)
    shown = figures(page)
    assert shown["Documents de famille à vérifier"].count == 4
    assert shown["Factures en retard"].count == 4
    assert shown["Familles sans compte"].count == 4
    assert len(page.context["campaigns"]) == 2
    for figure in shown.values():
        assert len(listed(admin, figure.url)) == figure.count, figure.label


def test_figures_follow_the_staff_members_permissions(combs):
    day_of_work(combs)
    direction = factories.signed_in(factories.member(combs, roles.DIRECTION, username="dir"))
    assert len(figures(direction.get(INDEX))) == 14  # Direction reads everything.
    nobody = factories.signed_in(factories.staff(combs, [], username="nobody"))
    page = nobody.get(INDEX)
    assert page.status_code == 200
    assert figures(page) == {} and page.context["campaigns"] is None
    cash_office = factories.member(combs, roles.CASH_OFFICE, username="regie")
    shown = figures(factories.signed_in(cash_office).get(INDEX))
    assert "Factures en retard" in shown and "brouillon" not in shown


def test_the_app_list_stays_below_the_figures(secretary, combs):
    text = secretary.get(INDEX).text
    assert text.index("Familles sans compte") < text.index("Toutes les listes")
    assert reverse("admin:families_family_changelist") in text
    assert reverse("admin:billing_invoice_changelist") in text


def test_the_dashboard_is_valid_html(secretary, combs, tmp_path):
    day_of_work(combs)
    assert validate({"dashboard": secretary.get(INDEX).text}, tmp_path) == []


def grow(site, start, count):
    """Families `start` to `start + count` at every stage, each with a document
    to check, a request, an overdue invoice and an online payment to check."""
    campaign = site.reenrollment_campaigns.get()
    kind = campaign.family_documents.first()
    discipline = site.disciplines.first()
    now = timezone.now()
    for n in range(start, start + count):
        parent = factories.make_parent(
            site, username=f"f{n}", family_name=f"Famille {n}", invited_at=now if n % 2 else None
        )
        Family.objects.create(site=site, name=f"Sans compte {n}")
        document(FamilyDocument, parent.family, kind, n % 7)
        request_for(campaign, parent.family, f"Élève {n}", Status.SUBMITTED, ("new", discipline))
        factories.issued(
            parent.family, due_date=timezone.localdate() - timedelta(days=5), lines=[("X", "1")]
        )
        OnlinePayment.objects.create(
            site=site,
            family=parent.family,
            backend=PaymentGateway.Backend.DUMMY,
            reference=f"ref-{n}",
            amount=Decimal("1.00"),
            status=OnlinePayment.Status.ANOMALY,
            expires_at=now,
        )


def test_the_query_count_does_not_grow_with_the_families(
    secretary, combs, django_assert_max_num_queries
):
    factories.campaign(combs)
    measured = []
    for start, count in [(0, 1), (1, 199)]:
        grow(combs, start, count)
        with CaptureQueriesContext(connection) as queries:
            page = secretary.get(INDEX)
        measured.append(len(queries))
        assert figures(page)["Familles sans compte"].count == start + count
    assert measured[0] == measured[1], measured
    with django_assert_max_num_queries(15):
        secretary.get(INDEX)


def test_the_demo_staff_see_their_days_work(demo):
    for username in ["secretariat-combs", "regie-combs", "direction-combs"]:
        client = factories.signed_in(User.objects.get(username=username))
        for label, figure in figures(client.get(INDEX)).items():
            assert len(listed(client, figure.url)) == figure.count, (username, label)
    # The secretary who works for both sites finds each site's day.
    travelling = factories.signed_in(User.objects.get(username="secretariat-ploufragan"))
    assert travelling.get(INDEX).context["today_site"] == demo["ploufragan"]
    travelling.post(reverse("admin:switch_site"), {"site": demo["combs"].pk})
    page = travelling.get(INDEX)
    assert page.context["today_site"] == demo["combs"]
    for label, figure in figures(page).items():
        assert len(listed(travelling, figure.url)) == figure.count, label
