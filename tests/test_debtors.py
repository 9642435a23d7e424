"""The debtors list: what each family owes past due, by age, its totals and
its export for the Trésor public; only to the site's own staff."""

import csv
import io
from datetime import datetime, time, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from billing import ledger
from billing.debtors import debtors, overdue_amounts, overdue_invoices, totals
from billing.instalments import choose_plan
from billing.models import Instalment, Payment, Reminder
from extranet.models import User

from . import clock
from .factories import (
    instalment_plans,
    issued,
    make_parent,
    payer,
    school_year,
    signed_in,
    staff,
)
from .test_html_valid import validate
from .test_reminders import REMINDER_PERMISSIONS

TODAY = clock.TODAY
DEBTORS = reverse("admin:billing_reminder_debtors")


def ago(days):
    return TODAY - timedelta(days=days)


def euros(value):
    return Decimal(value)


@pytest.fixture
def martin(parent):
    """Invoices due on each side of the age boundaries, worked out by hand:
    0–30: 10.00 (30 days) + 5.00 (55.00 less 50.00 paid, 1 day) = 15.00;
    31–60: 20.00 (31 days) + 40.00 (60 days) = 60.00;
    61–90: 80.00 (61 days) + 160.00 (90 days) = 240.00;
    over 90: 320.00 (91 days); in all 635.00. Due today or paid: not overdue."""
    family = parent.family
    payer(family)
    for days, amount in [(30, "10"), (31, "20"), (60, "40"), (61, "80"), (90, "160"), (91, "320")]:
        issued(family, due_date=ago(days), label=f"{days} jours", lines=[("Piano", amount)])
    issued(family, due_date=TODAY, label="Pas encore", lines=[("Piano", "1000")])
    part = issued(family, due_date=ago(1), label="Partiel", lines=[("Piano", "55")])
    ledger.record_payment(family, euros("50"), Payment.Mode.CASH, [(part, euros("50"))])
    paid = issued(family, due_date=ago(200), label="Payé", lines=[("Piano", "99")])
    ledger.record_payment(family, euros("99"), Payment.Mode.CASH, [(paid, euros("99"))])
    return family


@pytest.fixture
def durand(combs):
    """A family without e-mail, 12.34 € due 45 days ago."""
    family = make_parent(combs, username="durand", family_name="Durand", email="").family
    payer(family, first_name="Paul", address_line1="3 allée des Saules")
    issued(family, due_date=ago(45), label="Location", lines=[("Location", "12.34")])
    return family


def test_amounts_by_age_at_the_boundaries(martin, durand, combs):
    rows = debtors(combs.pk, TODAY)
    assert [r.family for r in rows] == [martin, durand]  # The largest total first.
    first, second = rows
    assert first.by_age == [euros("15.00"), euros("60.00"), euros("240.00"), euros("320.00")]
    assert first.total == euros("635.00") and first.since == ago(91)
    assert second.by_age == [0, euros("12.34"), 0, 0] and second.total == euros("12.34")
    assert totals(rows) == (
        [euros("15.00"), euros("72.34"), euros("240.00"), euros("320.00")],
        euros("647.34"),
    )
    assert first.email == martin.contact_email() and second.email == ""


def test_the_debtors_page(martin, durand, combs):
    Reminder.objects.create(
        invoice=martin.invoices.get(label="91 jours"),
        kind=Reminder.Kind.EMAIL,
        level=2,
        amount=euros("320"),
        due_since=ago(91),
        created_on=ago(61),
    )
    secretary = signed_in(staff(combs, REMINDER_PERMISSIONS))
    page = secretary.get(DEBTORS)
    assert page.status_code == 200
    text = page.text.replace("\u202f", " ").replace("\u00a0", " ")
    assert text.index("Martin") < text.index("Durand")
    for expected in ["635,00 €", "647,34 €", "72,34 €", "pas d’e-mail", "Débiteurs", "E-mail 2 – "]:
        assert expected in text.replace("&#x27;", "'"), expected
    assert reverse("admin:billing_familyaccount_change", args=[martin.pk]) in page.text
    assert "?format=csv" in page.text and "?format=xlsx" in page.text


def test_the_export_for_the_tresor_public(martin, durand, combs):
    secretary = signed_in(staff(combs, REMINDER_PERMISSIONS))
    response = secretary.get(DEBTORS, {"format": "csv"})
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    header, lines = rows[0], rows[1:]
    assert header[:6] == [
        "Famille",
        "Débiteur",
        "Adresse postale",
        "Adresse e-mail",
        "Facture",
        "Libellé",
    ]
    assert len(lines) == 8  # Martin's seven overdue invoices, then Durand's.
    by_label = {line[5]: dict(zip(header, line, strict=True)) for line in lines}
    oldest = by_label["91 jours"]
    assert oldest["Débiteur"] == "Claire Martin"
    assert oldest["Adresse postale"] == "12 rue des Tilleuls, 77380 Combs-la-Ville"
    assert oldest["Montant impayé"] == "320.00".replace(".", ",")
    assert oldest["plus de 90 jours"] == "320,00" and oldest["0 à 30 jours"] == "0,00"
    assert oldest["Impayé depuis le"] == ago(91).strftime("%d/%m/%Y")
    assert by_label["Partiel"]["Montant impayé"] == "5,00"
    assert by_label["Partiel"]["Montant de la facture"] == "55,00"
    assert by_label["Location"]["Adresse e-mail"] == ""
    assert by_label["Location"]["Débiteur"] == "Paul Durand"

    response = secretary.get(DEBTORS, {"format": "xlsx"})
    sheet = load_workbook(io.BytesIO(response.content)).active
    values = list(sheet.values)
    assert values[0][0] == "Famille" and len(values) == 9
    amounts = {row[5]: row[9] for row in values[1:]}
    assert amounts["91 jours"] == 320 and amounts["Location"] == pytest.approx(12.34)
    assert sum(row[9] for row in values[1:]) == pytest.approx(647.34)


def at(day):
    return time_machine.travel(datetime.combine(day, time(10), tzinfo=clock.PARIS), tick=False)


def same_answer(site, day):
    """overdue_amounts, checked against overdue_invoices: the figures that only
    count and add up give the same invoices and amounts as the debtors list."""
    found = overdue_amounts(site.pk, day)
    assert found == {item.invoice.pk: item.amount for item in overdue_invoices(site.pk, day)}
    return found


def test_instalments_count_by_their_own_due_dates(combs, parent):
    family = parent.family
    payer(family)
    year = school_year(combs)
    choose_plan(family, year, instalment_plans(combs)[3])
    invoice = issued(family, school_year=year, lines=[("Cursus", "300.00")])
    instalments = list(invoice.instalments.order_by("position"))
    assert len(instalments) >= 2
    first, second = instalments[:2]
    # 40 days after the first due date: only the first instalment, less what is paid.
    ledger.record_payment(family, euros("30"), Payment.Mode.CASH, [(invoice, euros("30"))])
    [item] = overdue_invoices(combs.pk, first.due_date + timedelta(days=40))
    assert item.amount == first.amount - 30 and item.since == first.due_date
    assert same_answer(combs, first.due_date + timedelta(days=40))
    assert same_answer(combs, first.due_date) == {}  # Due today: not overdue yet.
    assert item.by_age() == [0, first.amount - 30, 0, 0]
    # The day after the second: the first is more than 90 days old, the second 1 day.
    day = second.due_date + timedelta(days=1)
    assert (day - first.due_date).days > 90
    [item] = overdue_invoices(combs.pk, day)
    assert item.by_age() == [second.amount, 0, 0, first.amount - 30]
    # A debit of the second at the bank: not overdue while it is there.
    Instalment.objects.filter(pk=second.pk).update(debit_pending=True)
    [item] = overdue_invoices(combs.pk, day)
    assert item.by_age() == [0, 0, 0, first.amount - 30] and item.at_bank
    assert same_answer(combs, day) == {invoice.pk: first.amount - 30}
    with at(day):
        row = signed_in(staff(combs, REMINDER_PERMISSIONS)).get(DEBTORS).context["rows"][0]
    assert row.total == first.amount - 30


def test_other_site_staff_see_only_their_families(martin, combs, ploufragan):
    other_family = make_parent(ploufragan, username="legoff", family_name="Le Goff").family
    issued(other_family, due_date=ago(10), lines=[("Danse", "42")])
    other = signed_in(staff(ploufragan, REMINDER_PERMISSIONS, username="plou"))
    page = other.get(DEBTORS)
    assert [r.family for r in page.context["rows"]] == [other_family]
    assert "Martin" not in page.text
    # Not even by asking for the other site.
    assert [r.family for r in other.get(DEBTORS, {"site": combs.pk}).context["rows"]] == [
        other_family
    ]
    export = other.get(DEBTORS, {"format": "csv", "site": combs.pk}).content.decode("utf-8-sig")
    assert "Martin" not in export and "Le Goff" in export


def test_network_administrators_choose_the_site(martin, combs, ploufragan):
    admin = User.objects.create_superuser("reseau", "reseau@example.org", "x" * 16)
    client = signed_in(admin)
    assert client.get(DEBTORS).context["rows"] == []
    assert [r.family for r in client.get(DEBTORS, {"site": combs.pk}).context["rows"]] == [martin]
    assert client.get(DEBTORS, {"site": ploufragan.pk}).context["rows"] == []
    assert client.get(DEBTORS, {"site": "x"}).context["rows"] == []


def test_the_page_needs_the_permissions(martin, combs, parent):
    assert signed_in(staff(combs, ["view_invoice"])).get(DEBTORS).status_code == 403
    assert signed_in(staff(combs, ["view_reminder"], username="s2")).get(DEBTORS).status_code == 403
    assert signed_in(parent).get(DEBTORS).status_code == 302  # To the admin's login.


def test_the_page_is_valid_html(martin, durand, combs, tmp_path):
    secretary = signed_in(staff(combs, REMINDER_PERMISSIONS))
    pages = {
        "debtors": secretary.get(DEBTORS).text,
        "reminders": secretary.get(reverse("admin:billing_reminder_changelist")).text,
    }
    assert validate(pages, tmp_path) == []


def test_query_count_does_not_grow_with_the_families(combs, django_assert_max_num_queries):
    secretary = signed_in(staff(combs, REMINDER_PERMISSIONS))
    counts = []
    for size, start in [(1, 0), (20, 1)]:
        for index in range(start, start + size):
            family = make_parent(combs, username=f"f{index}", family_name=f"Famille {index}").family
            payer(family)
            invoice = issued(family, due_date=ago(40), lines=[("Piano", "100")])
            issued(family, due_date=ago(5), lines=[("FM", "50")])
            Reminder.objects.create(
                invoice=invoice,
                kind=Reminder.Kind.EMAIL,
                level=1,
                amount=euros("100"),
                due_since=ago(40),
                created_on=ago(33),
            )
        with CaptureQueriesContext(connection) as queries:
            page = secretary.get(DEBTORS)
        assert len(page.context["rows"]) == (1 if size == 1 else 21)
        counts.append(len(queries))
    assert counts[0] == counts[1], counts
    with django_assert_max_num_queries(10):
        secretary.get(DEBTORS)
    with django_assert_max_num_queries(10):
        secretary.get(DEBTORS, {"format": "xlsx"})
