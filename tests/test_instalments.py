"""Échéanciers: plans' due dates, amounts to the cent, the minimum
instalment, changes of plan, and the Facturation tab. Dates are written out
for a school year starting in `Y` (the suite's year, whatever it is)."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from billing import ledger
from billing.instalments import PlanRefused, choose_plan, coverage, split
from billing.models import Instalment, Invoice
from billing.pdfs import ensure_invoice_pdf
from extranet.money import money
from fees.models import InstalmentPlan, PlanChoice

from . import clock
from .factories import draft, instalment_plans, make_parent, school_year, signed_in, staff
from .test_billing import pdf_text
from .test_html_valid import validate

Y = clock.THIS_YEAR  # The school year Y-(Y+1) starts in mid-September of Y.
D = Decimal


@pytest.mark.parametrize(
    ("total", "count", "minimum", "expected"),
    [
        ("300.00", 3, "0", ["100.00", "100.00", "100.00"]),
        ("100.00", 3, "0", ["33.34", "33.33", "33.33"]),
        ("1186.00", 10, "0", ["118.60"] * 10),
        ("1186.07", 10, "0", ["118.67"] + ["118.60"] * 9),
        ("0.05", 3, "0", ["0.03", "0.01", "0.01"]),
        # Fewer instalments when one would fall below the minimum.
        ("95.00", 10, "10", ["10.60"] + ["10.55"] * 8),
        ("45.00", 10, "10", ["11.25"] * 4),
        ("9.99", 10, "10", ["9.99"]),
        ("186.00", 1, "10", ["186.00"]),
    ],
)
def test_split_puts_the_odd_cents_on_the_first(total, count, minimum, expected):
    amounts = split(D(total), count, D(minimum))
    assert amounts == [D(a) for a in expected]
    assert sum(amounts) == D(total)


@pytest.fixture
def plans(combs):
    return instalment_plans(combs)


@pytest.fixture
def year(combs):
    return school_year(combs, Y)


def issue(family, year, total, on):
    invoice = draft(family, lines=(("Cotisation", total),), school_year=year)
    return ledger.issue(invoice, today=on)


def schedule(invoice):
    return [(i.due_date, i.amount) for i in Instalment.objects.filter(invoice=invoice)]


@pytest.mark.parametrize(
    ("plan", "issued_on", "total", "expected"),
    [
        # Once: on 15 October, or the invoice's own due date when issued after it.
        (1, date(Y, 9, 20), "400.00", [(date(Y, 10, 15), "400.00")]),
        (1, date(Y, 11, 2), "400.00", [(date(Y, 12, 2), "400.00")]),
        # Three: October, January, April; issued in November, the two left.
        (
            3,
            date(Y, 9, 20),
            "400.00",
            [
                (date(Y, 10, 5), "133.34"),
                (date(Y + 1, 1, 5), "133.33"),
                (date(Y + 1, 4, 5), "133.33"),
            ],
        ),
        (
            3,
            date(Y, 11, 2),
            "400.00",
            [(date(Y + 1, 1, 5), "200.00"), (date(Y + 1, 4, 5), "200.00")],
        ),
        # Ten monthly debits from October to July.
        (
            10,
            date(Y, 9, 20),
            "1186.07",
            [(date(Y, 10, 5), "118.67")]
            + [(date(Y + (m < 10), m, 5), "118.60") for m in (11, 12, 1, 2, 3, 4, 5, 6, 7)],
        ),
        # At least 10 € each: 45 € makes four instalments.
        (
            10,
            date(Y, 9, 20),
            "45.00",
            [
                (date(Y, 10, 5), "11.25"),
                (date(Y, 11, 5), "11.25"),
                (date(Y, 12, 5), "11.25"),
                (date(Y + 1, 1, 5), "11.25"),
            ],
        ),
        # The day itself is still to come.
        (10, date(Y + 1, 7, 5), "50.00", [(date(Y + 1, 7, 5), "50.00")]),
    ],
)
def test_an_invoice_issued_under_a_plan_gets_its_schedule(
    parent, plans, year, plan, issued_on, total, expected
):
    family = parent.family
    PlanChoice.objects.create(family=family, school_year=year, plan=plans[plan])
    invoice = issue(family, year, total, issued_on)
    assert schedule(invoice) == [(d, D(a)) for d, a in expected]
    assert invoice.plan == plans[plan]
    assert invoice.due_date == expected[0][0]


def test_without_a_choice_the_default_plan_applies_and_without_plans_nothing(combs, year):
    family = make_parent(combs).family
    bare = issue(family, year, "100.00", date(Y, 9, 20))
    assert schedule(bare) == [] and bare.plan is None
    plans = instalment_plans(combs)
    invoice = issue(family, year, "100.00", date(Y, 9, 20))
    assert invoice.plan == plans[1] and schedule(invoice) == [(date(Y, 10, 15), D("100.00"))]


def test_a_change_of_plan_mid_year_rewrites_only_the_instalments_not_yet_due(parent, plans, year):
    family = parent.family
    PlanChoice.objects.create(family=family, school_year=year, plan=plans[10])
    invoice = issue(family, year, "1000.00", date(Y, 9, 20))
    # October and November are due; the secretariat moves the family to three instalments.
    choose_plan(family, year, plans[3], today=date(Y, 11, 20), secretariat=True)
    assert schedule(invoice) == [
        (date(Y, 10, 5), D("100.00")),
        (date(Y, 11, 5), D("100.00")),
        (date(Y + 1, 1, 5), D("400.00")),
        (date(Y + 1, 4, 5), D("400.00")),
    ]
    assert list(invoice.instalments.values_list("position", flat=True)) == [1, 2, 3, 4]
    assert Invoice.objects.get(pk=invoice.pk).plan == plans[3]


def test_a_family_chooses_before_its_first_instalment_only(parent, plans, year):
    family = parent.family
    issue(family, year, "300.00", date(Y, 9, 20))  # Default: once, on 15 October.
    choose_plan(family, year, plans[3], today=date(Y, 9, 25))
    invoice = Invoice.objects.get(family=family)
    assert [a for _d, a in schedule(invoice)] == [D("100.00")] * 3
    with pytest.raises(PlanRefused) as refused:
        choose_plan(family, year, plans[10], today=date(Y, 10, 6))
    assert "secrétariat" in " ".join(refused.value.messages)
    assert [a for _d, a in schedule(invoice)] == [D("100.00")] * 3  # Nothing changed.
    assert PlanChoice.objects.get(family=family).plan == plans[3]


def test_a_plan_of_another_site_or_withdrawn_is_refused(parent, plans, year, ploufragan):
    foreign = instalment_plans(ploufragan)[3]
    with pytest.raises(PlanRefused):
        choose_plan(parent.family, year, foreign, today=date(Y, 9, 20))
    plans[3].is_active = False
    plans[3].save()
    with pytest.raises(PlanRefused):
        choose_plan(parent.family, year, plans[3], today=date(Y, 9, 20))
    assert not PlanChoice.objects.exists()


def test_a_credit_note_lowers_the_instalments_to_come(parent, plans, year):
    family = parent.family
    PlanChoice.objects.create(family=family, school_year=year, plan=plans[3])
    invoice = issue(family, year, "300.00", date(Y, 9, 20))
    note = ledger.make_credit_note(invoice)
    note.lines.update(unit_price=D("60.00"), amount=D("60.00"))
    ledger.issue(note, today=date(Y, 11, 10))
    assert schedule(invoice) == [
        (date(Y, 10, 5), D("100.00")),
        (date(Y + 1, 1, 5), D("70.00")),
        (date(Y + 1, 4, 5), D("70.00")),
    ]


def test_payments_cover_the_instalments_in_order(parent, plans, year):
    family = parent.family
    PlanChoice.objects.create(family=family, school_year=year, plan=plans[3])
    invoice = issue(family, year, "300.00", date(Y, 9, 20))
    instalments = list(invoice.instalments.all())
    rows = coverage(instalments, D("150.00"), date(Y + 1, 1, 10))
    assert [(r.status, r.paid, r.left) for r in rows] == [
        ("paid", D("100.00"), D("0.00")),
        ("overdue", D("50.00"), D("50.00")),
        ("coming", D("0.00"), D("100.00")),
    ]
    instalments[2].debit_pending = True
    assert coverage(instalments, D("300.00"), date(Y + 1, 5, 1))[2].status == "paid"
    assert coverage(instalments, D("200.00"), date(Y + 1, 5, 1))[2].status == "at_bank"


def test_the_invoice_pdf_shows_the_schedule(parent, plans, year):
    family = parent.family
    PlanChoice.objects.create(family=family, school_year=year, plan=plans[3])
    invoice = issue(family, year, "400.00", date(Y, 9, 20))
    text = pdf_text(ensure_invoice_pdf(invoice).pdf.read())
    assert "Échéancier – 3 échéances" in text
    assert f"05/01/{Y + 1}" in text, text
    assert "133,34" in text and "133,33" in text


# The Facturation tab.


def statement_page(client):
    response = client.get(reverse("billing:statement"))
    assert response.status_code == 200
    return response.content.decode()


def test_the_family_chooses_its_plan_on_the_facturation_tab_and_sees_the_schedule(
    parent, plans, year, tmp_path
):
    client = signed_in(parent)
    page = statement_page(client)
    assert "Modalités de paiement" in page and "10 prélèvements mensuels" in page
    pages = {"choice": page}
    response = client.post(reverse("billing:plan"), {"plan": plans[3].pk})
    assert response.status_code == 302
    assert PlanChoice.objects.get(family=parent.family, school_year=year).plan == plans[3]
    invoice = issue(parent.family, year, "300.00", clock.TODAY)
    page = statement_page(client)
    assert "Échéancier" in page and invoice.number in page
    assert page.count('<td class="text-end text-nowrap">') >= invoice.instalments.count()
    validate({**pages, "schedule": page}, tmp_path)


def test_bad_plan_choices_change_nothing(parent, plans, year, other_parent):
    client = signed_in(parent)
    foreign = instalment_plans(other_parent.family.site)[3]
    for value in ["", "abc", "99999999", str(foreign.pk), "1 OR 1=1", "9" * 400]:
        response = client.post(reverse("billing:plan"), {"plan": value})
        assert response.status_code == 302
        follow = client.get(response["Location"])
        assert (
            "Choisissez" in follow.content.decode()
            or "n’est pas proposée" in (follow.content.decode())
            or "pas proposée" in follow.content.decode()
        )
    assert not PlanChoice.objects.exists()


def test_once_an_instalment_is_due_the_family_asks_the_secretariat(parent, plans, year):
    client = signed_in(parent)
    invoice = issue(parent.family, year, "300.00", clock.TODAY)
    Instalment.objects.filter(invoice=invoice).update(due_date=clock.TODAY)
    page = statement_page(client)
    assert "demandez-le au secrétariat" in page or "secrétariat" in page
    assert 'action="/facturation/echeancier/"' not in page
    response = client.post(reverse("billing:plan"), {"plan": plans[10].pk})
    assert response.status_code == 302
    assert not PlanChoice.objects.exists()
    assert Invoice.objects.get(pk=invoice.pk).plan == plans[1]


def test_the_plan_page_needs_a_family_and_only_post(client, parent, plans, year):
    response = client.post(reverse("billing:plan"), {"plan": plans[3].pk})
    assert response.status_code == 302 and "connexion" in response["Location"]
    assert signed_in(parent).get(reverse("billing:plan")).status_code == 405


def test_a_site_without_plans_offers_no_choice(parent, year):
    client = signed_in(parent)
    assert "Modalités de paiement" not in statement_page(client)
    assert client.post(reverse("billing:plan"), {"plan": "1"}).status_code == 404


@pytest.mark.parametrize("invoices", [1, 6])
def test_the_statement_with_schedules_has_a_fixed_number_of_queries(
    parent, plans, year, invoices, django_assert_max_num_queries
):
    PlanChoice.objects.create(family=parent.family, school_year=year, plan=plans[10])
    for _n in range(invoices):
        issue(parent.family, year, "500.00", date(Y, 9, 20))
    client = signed_in(parent)
    with django_assert_max_num_queries(24):
        statement_page(client)


def test_dates_fall_within_the_school_year_whatever_the_first_month(combs, year):
    plan = InstalmentPlan(
        site=combs,
        name="x",
        instalments=3,
        first_month=1,
        months_between=2,
        day=28,
        modes=["cheque"],
    )
    assert plan.dates(year) == [date(Y + 1, 1, 28), date(Y + 1, 3, 28), date(Y + 1, 5, 28)]
    assert money(sum(split(D("100"), 3))) == D("100.00")
    assert timedelta(0) < plan.dates(year)[0] - year.start_date


# The secretariat.


def secretary(site, username="secretariat"):
    from fees.permissions import SECRETARIAT_PERMISSIONS

    return signed_in(staff(site, SECRETARIAT_PERMISSIONS, username=username))


def test_the_secretariat_changes_a_plan_after_the_first_due_date(parent, plans, year):
    family = parent.family
    choice = PlanChoice.objects.create(family=family, school_year=year, plan=plans[3])
    invoice = issue(family, year, "300.00", year.start_date)
    first = Instalment.objects.get(invoice=invoice, position=1)
    Instalment.objects.filter(pk=first.pk).update(due_date=clock.TODAY - timedelta(days=1))
    client = secretary(family.site)
    url = reverse("admin:fees_planchoice_change", args=[choice.pk])
    assert client.get(url).status_code == 200
    response = client.post(url, {"plan": plans[10].pk})
    assert response.status_code == 302, response.content.decode()[:3000]
    assert PlanChoice.objects.get(pk=choice.pk).plan == plans[10]
    rows = list(Instalment.objects.filter(invoice=invoice))
    assert rows[0].pk == first.pk and rows[0].amount == D("100.00")  # Due: kept.
    assert sum(r.amount for r in rows) == D("300.00")
    assert all(r.due_date > clock.TODAY for r in rows[1:])
    assert Invoice.objects.get(pk=invoice.pk).plan == plans[10]


def test_a_secretary_of_another_site_sees_neither_the_plans_nor_the_choices(
    parent, plans, year, ploufragan
):
    choice = PlanChoice.objects.create(family=parent.family, school_year=year, plan=plans[3])
    client = secretary(ploufragan, username="elsewhere")
    assert client.get(reverse("admin:fees_planchoice_change", args=[choice.pk])).status_code in (
        302,
        404,
    )
    assert client.get(
        reverse("admin:fees_instalmentplan_change", args=[plans[3].pk])
    ).status_code in (302, 404)
    listing = client.get(reverse("admin:fees_instalmentplan_changelist")).content.decode()
    assert "3 échéances" not in listing


def test_the_secretariat_sets_up_a_plan_with_checked_values(combs):
    client = secretary(combs)
    url = reverse("admin:fees_instalmentplan_add")
    base = {
        "name": "10 fois",
        "instalments": "10",
        "first_month": "10",
        "months_between": "1",
        "day": "5",
        "min_amount": "10",
        "modes": ["direct_debit"],
        "position": "1",
        "is_active": "on",
    }
    for field, bad in [
        ("instalments", "13"),
        ("day", "31"),
        ("first_month", "0"),
        ("min_amount", "-1"),
        ("modes", []),
        ("name", "x" * 200),
        ("months_between", "2"),
    ]:
        response = client.post(url, {**base, field: bad})
        assert response.status_code == 200, field
        assert 'class="errorlist' in response.content.decode(), field
    assert not InstalmentPlan.objects.exists()
    assert client.post(url, {**base, "is_default": "on"}).status_code == 302
    plan = InstalmentPlan.objects.get()
    assert (plan.site, plan.modes, plan.debit_only) == (combs, ["direct_debit"], True)
