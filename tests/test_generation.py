"""Invoices drafted from the enrollments with the fee grid: idempotent runs, the
difference drafted as a complementary invoice or a credit note, issued invoices never
touched, split billing, terms, the e-mail on issue, the treasury export, the command and
the admin screens."""

import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from billing import ledger
from billing.generation import GenerationError, generate
from billing.models import Invoice, InvoiceLine
from fees.models import FamilyIncome, FeeGrid
from students.models import Enrollment

from . import factories
from .factories import billing_grid, payer, student


@pytest.fixture
def year(combs):
    return factories.school_year(combs)


@pytest.fixture
def courses(combs, year):
    base = factories.structure(combs, year)
    fm, piano, dance, _fm2 = base["courses"]
    return {"fm": fm, "piano": piano, "dance": dance}


@pytest.fixture
def grid(combs, year, courses):
    return billing_grid(combs, year)


def family(site, name="Martin", **payer_fields):
    created = factories.Family.objects.create(site=site, name=name, reference_email=f"{name}@x.org")
    payer(created, **payer_fields)
    return created


def rows(invoices):
    """What an invoice is, to compare before and after."""
    return [
        (
            i.pk,
            i.number,
            i.status,
            i.total,
            i.label,
            i.family_address,
            [(line.label, line.amount, line.explanation) for line in i.lines.order_by("pk")],
        )
        for i in invoices.order_by("pk")
    ]


def lines_of(invoice):
    return sorted((line.label, line.amount) for line in invoice.lines.all())


# Drafts, idempotence, differences.


def test_one_draft_per_family_with_one_line_per_item_and_student(combs, grid, courses):
    martin = family(combs)
    student(martin, "Léa", [courses["fm"], courses["piano"]])
    student(martin, "Hugo", [courses["dance"]], birth_date=factories.date(2016, 5, 1))

    summary = generate(grid)

    invoice = Invoice.objects.get(family=martin)
    assert invoice.status == Invoice.Status.DRAFT
    assert invoice.school_year == grid.school_year
    assert invoice.label == f"Cotisations {grid.school_year.name}"
    assert invoice.due_date == grid.terms.get(number=1).due_date
    # No verified quotient: the highest band (T3), inside the agglomeration. Léa costs
    # more (300 + 120) than Hugo (200, reduced by 10 % as the second child).
    assert lines_of(invoice) == [
        ("Danse – Hugo", Decimal("180.00")),
        ("Formation musicale – Léa", Decimal("120.00")),
        ("Frais de dossier", Decimal("15.00")),
        ("Instrument – Léa", Decimal("300.00")),
    ]
    assert invoice.total == Decimal("615.00")
    hugo = invoice.lines.get(label="Danse – Hugo")
    assert "T3" in hugo.explanation and "2e enfant : −10 %" in hugo.explanation
    assert hugo.fee_item.name == "Danse" and hugo.band == "T3" and hugo.zone == "Agglomération"
    assert hugo.student.first_name == "Hugo" and hugo.period is None
    assert (summary.families, summary.invoices, summary.credit_notes) == (1, 1, 0)
    assert summary.total == Decimal("615.00")
    assert summary.without_quotient == [martin]


def test_a_second_run_creates_nothing(combs, grid, courses):
    martin = family(combs)
    student(martin, "Léa", [courses["fm"], courses["piano"]])
    generate(grid)
    before = rows(Invoice.objects.all())

    summary = generate(grid)

    assert rows(Invoice.objects.all()) == before
    assert (summary.invoices, summary.credit_notes, summary.replaced) == (0, 0, 0)
    assert summary.unchanged == 1
    # Issued, then generated again: still nothing.
    ledger.issue(Invoice.objects.get())
    before = rows(Invoice.objects.all())
    summary = generate(grid)
    assert rows(Invoice.objects.all()) == before
    assert (summary.invoices, summary.credit_notes) == (0, 0)


def test_drafts_are_replaced_when_what_is_due_changed(combs, grid, courses, year):
    martin = family(combs)
    lea = student(martin, "Léa", [courses["fm"]])
    generate(grid)
    first = Invoice.objects.get()
    Enrollment.objects.create(student=lea, course=courses["piano"])
    FamilyIncome.objects.create(
        family=martin,
        school_year=year,
        reference_income=Decimal(60000),
        parts=Decimal(10),
        verified=True,
    )

    summary = generate(grid)

    invoice = Invoice.objects.get()  # Still one draft: rebuilt, not completed.
    assert invoice.pk != first.pk
    assert summary.replaced == 1 and summary.invoices == 1
    # QF 500 €: band T2.
    assert lines_of(invoice) == [
        ("Formation musicale – Léa", Decimal("90.00")),
        ("Frais de dossier", Decimal("15.00")),
        ("Instrument – Léa", Decimal("210.00")),
    ]
    assert summary.without_quotient == []


def test_a_new_enrollment_drafts_exactly_the_complementary_invoice(combs, grid, courses):
    martin = family(combs)
    lea = student(martin, "Léa", [courses["fm"]])
    generate(grid)
    issued = ledger.issue(Invoice.objects.get())
    before = rows(Invoice.objects.filter(pk=issued.pk))
    Enrollment.objects.create(student=lea, course=courses["piano"])

    summary = generate(grid)

    assert rows(Invoice.objects.filter(pk=issued.pk)) == before
    complement = Invoice.objects.get(status=Invoice.Status.DRAFT)
    assert complement.kind == Invoice.Kind.INVOICE
    assert complement.label == f"Cotisations {grid.school_year.name} (complément)"
    assert lines_of(complement) == [("Instrument – Léa", Decimal("300.00"))]
    assert (summary.invoices, summary.credit_notes) == (1, 0)
    # Issued too: nothing more to draft.
    ledger.issue(complement)
    assert generate(grid).invoices == 0
    assert Invoice.objects.count() == 2


def test_a_stopped_enrollment_drafts_exactly_one_credit_note(combs, year, courses):
    grid = billing_grid(combs, year, billing=FeeGrid.Billing.ANNUAL)
    martin = family(combs)
    lea = student(martin, "Léa", [courses["fm"], courses["piano"]])
    generate(grid)
    issued = ledger.issue(Invoice.objects.get())
    before = rows(Invoice.objects.filter(pk=issued.pk))
    # Piano stops in the second term: charged for two terms of three.
    piano = lea.enrollments.get(course=courses["piano"])
    piano.stops_on = grid.terms.get(number=2).start_date + timedelta(days=10)
    piano.save()

    summary = generate(grid)

    assert rows(Invoice.objects.filter(pk=issued.pk)) == before
    note = Invoice.objects.get(status=Invoice.Status.DRAFT)
    assert note.kind == Invoice.Kind.CREDIT_NOTE
    assert note.credited_invoice == issued
    assert note.label.startswith(f"Avoir sur la facture {issued.number}")
    assert lines_of(note) == [("Instrument – Léa", Decimal("100.00"))]
    assert (summary.invoices, summary.credit_notes) == (0, 1)
    assert summary.total == Decimal("-100.00")
    ledger.issue(note)  # Within what is left of the invoice.
    assert generate(grid).credit_notes == 0


def test_a_family_gone_from_the_year_is_credited_in_full(combs, grid, courses):
    martin = family(combs)
    lea = student(martin, "Léa", [courses["fm"]])
    generate(grid)
    issued = ledger.issue(Invoice.objects.get())
    lea.enrollments.all().delete()

    generate(grid)

    note = Invoice.objects.get(kind=Invoice.Kind.CREDIT_NOTE)
    assert note.credited_invoice == issued
    assert sum(line.amount for line in note.lines.all()) == issued.total


def test_unpriceable_families_get_nothing_and_are_listed(combs, grid, courses):
    homeless = family(combs, "Sans-Adresse", postal_code="", address_line1="")
    student(homeless, "Noé", [courses["fm"]])
    theatre = family(combs, "Durand")
    from students.models import Course, Discipline

    drama = Course.objects.create(
        site=combs,
        school_year=grid.school_year,
        discipline=Discipline.objects.create(site=combs, name="Théâtre", category="theatre"),
        weekday=3,
        start_time=courses["fm"].start_time,
        end_time=courses["fm"].end_time,
    )
    student(theatre, "Zoé", [drama])
    priced = family(combs, "Petit")
    student(priced, "Jade", [courses["dance"]])

    summary = generate(grid)

    assert list(Invoice.objects.values_list("family__name", flat=True)) == ["Petit"]
    unpriced = dict(summary.unpriced)
    assert set(unpriced) == {homeless, theatre}
    assert unpriced[homeless]
    assert "Théâtre" in " ".join(unpriced[theatre])
    assert summary.without_address == [homeless]


# Split billing and terms.


def test_split_billing_60_40_with_the_odd_cents_on_the_first_payer(combs, year, courses):
    grid = billing_grid(combs, year, sibling_percent=None)
    martin = family(combs)
    mother = martin.guardians.get()
    mother.invoice_share = 60
    mother.save()
    father = payer(
        martin,
        civility="M",
        first_name="Paul",
        address_line1="3 rue de la Gare",
        postal_code="77000",
        city="Melun",
        position=2,
        invoice_share=40,
    )
    student(martin, "Jade", [courses["dance"]])  # 300.00 + 15.00 = 315.00
    # 200.04 € would share 120.024 / 80.016: an odd cent is left over.
    from fees.models import Price

    Price.objects.filter(item__name="Danse", band__code="T3", zone__name="Agglomération").update(
        amount=Decimal("185.04")
    )

    generate(grid)

    first, second = Invoice.objects.order_by("payer__position")
    assert (first.payer, second.payer) == (mother, father)
    assert lines_of(first) == [
        ("Danse – Jade", Decimal("111.03")),
        ("Frais de dossier", Decimal("9.00")),
    ]
    assert lines_of(second) == [
        ("Danse – Jade", Decimal("74.01")),
        ("Frais de dossier", Decimal("6.00")),
    ]
    assert first.total + second.total == Decimal("200.04")
    first, second = ledger.issue(first), ledger.issue(second)
    assert first.family_name == "Claire Martin" and "Combs-la-Ville" in first.family_address
    assert second.family_name == "Paul Martin" and "77000 Melun" in second.family_address
    assert generate(grid).invoices == 0
    # Both on the family's one statement.
    from billing.statement import statement

    found = statement(martin)
    assert {line.number for line in found["lines"]} == {first.number, second.number}
    assert found["billed"] == Decimal("200.04")


def test_shares_not_adding_up_to_100_are_listed(combs, grid, courses):
    martin = family(combs)
    martin.guardians.update(invoice_share=70)
    payer(martin, first_name="Paul", invoice_share=20, position=2)
    student(martin, "Jade", [courses["dance"]])

    summary = generate(grid)

    assert not Invoice.objects.exists()
    assert "100" in " ".join(dict(summary.unpriced)[martin])


def test_per_term_invoices_due_on_each_terms_due_date(combs, year, courses):
    grid = billing_grid(combs, year, billing=FeeGrid.Billing.TERMS)
    martin = family(combs)
    student(martin, "Léa", [courses["fm"]])  # 120.00 + 15.00 a year

    summary = generate(grid, period=1)

    invoice = Invoice.objects.get()
    term = grid.terms.get(number=1)
    assert invoice.label == f"Cotisations {year.name} – 1er trimestre"
    assert invoice.due_date == term.due_date
    assert lines_of(invoice) == [
        ("Formation musicale – Léa", Decimal("40.00")),
        ("Frais de dossier", Decimal("5.00")),
    ]
    assert summary.periods == [1]

    generate(grid)  # All terms: the first one's draft kept, two more.

    invoices = list(Invoice.objects.order_by("due_date"))
    assert [i.due_date for i in invoices] == [t.due_date for t in grid.terms.all()]
    assert invoices[0].pk == invoice.pk
    assert [i.lines.first().period for i in invoices] == [1, 2, 3]
    with pytest.raises(GenerationError):
        generate(grid, period=4)


def test_generation_queries_do_not_grow_with_families(combs, grid, courses):
    def count(families):
        Invoice.objects.all().delete()
        existing = factories.Family.objects.count()
        for n in range(existing, families):
            created = family(combs, f"Famille {n}")
            student(created, "Léa", [courses["fm"], courses["piano"]])
            student(created, "Hugo", [courses["dance"]])
        with CaptureQueriesContext(connection) as queries:
            generate(grid)
        assert Invoice.objects.count() == families
        return len(queries)

    assert count(3) == count(30)


# The e-mail on issue.


@pytest.mark.django_db(transaction=True)  # The worker commits and closes its connection.
def test_the_family_receives_the_issued_invoice_with_its_pdf(combs, grid, courses, run_worker):
    martin = family(combs)
    student(martin, "Léa", [courses["fm"]])
    generate(grid)
    mail.outbox.clear()

    invoice = ledger.issue(Invoice.objects.get(), base_url="https://portail.example.org")
    assert mail.outbox == []  # Sent by the worker, once the PDF is rendered.
    run_worker()

    (message,) = mail.outbox
    assert message.to == ["Martin@x.org"]
    assert invoice.number in message.subject
    body = message.body.replace("\u202f", " ").replace("\u00a0", " ")
    assert "135,00 €" in body
    assert invoice.due_date.strftime("%d/%m/%Y") in body
    assert "https://portail.example.org" + reverse("billing:statement") in body
    ((name, content, kind),) = message.attachments
    assert (name, kind) == (f"{invoice.number}.pdf", "application/pdf")
    invoice.refresh_from_db()
    with invoice.pdf.open("rb") as stored:
        assert content == stored.read()
    from .test_billing import pdf_text

    text = pdf_text(content)
    assert "Formation musicale – Léa" in text and "T3" in text


# The treasury export, the command, the admin.


def test_treasury_export_sums_by_item_band_and_zone(combs, grid, courses, year):
    from billing.treasury import treasury_rows

    inside = family(combs)
    student(inside, "Léa", [courses["fm"]])
    outside = family(combs, "Le Goff", postal_code="22440", city="Ploufragan")
    student(outside, "Noé", [courses["fm"]])
    FamilyIncome.objects.create(
        family=outside, school_year=year, caf_quotient=Decimal(350), source="caf", verified=True
    )
    generate(grid)
    for invoice in Invoice.objects.all():
        ledger.issue(invoice)
    secretary = factories.staff(combs, ["view_invoice"])
    client = factories.signed_in(secretary)

    response = client.get(
        reverse("admin:billing_invoice_treasury"), {"grid": grid.pk, "period": "", "format": "csv"}
    )

    text = response.content.decode("utf-8-sig")
    table = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert table[0] == ["Période", "Prestation", "Tranche", "Zone", "Facturé", "Avoirs", "Net"]
    assert [
        "Année",
        "Formation musicale",
        "T1",
        "Hors agglomération",
        "90,00",
        "0,00",
        "90,00",
    ] in table
    assert [
        "Année",
        "Formation musicale",
        "T3",
        "Agglomération",
        "120,00",
        "0,00",
        "120,00",
    ] in table
    assert ["Année", "Frais de dossier", "T3", "Agglomération", "15,00", "0,00", "15,00"] in table
    assert len(table) == 5
    # A credit note comes off its band and zone.
    lea = inside.students.get()
    lea.enrollments.all().delete()
    generate(grid)
    ledger.issue(Invoice.objects.get(status=Invoice.Status.DRAFT))
    assert [
        "Année",
        "Formation musicale",
        "T3",
        "Agglomération",
        Decimal("120.00"),
        Decimal("120.00"),
        Decimal("0.00"),
    ] in treasury_rows(grid, None)
    response = client.get(
        reverse("admin:billing_invoice_treasury"), {"grid": grid.pk, "period": "", "format": "xlsx"}
    )
    sheet = load_workbook(io.BytesIO(response.content)).active
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert ["Année", "Formation musicale", "T1", "Hors agglomération", 90, 0, 90] in values


def test_the_command_prints_the_summary_in_french(combs, grid, courses):
    martin = family(combs)
    student(martin, "Léa", [courses["fm"]])
    nowhere = family(combs, "Sans-Adresse", postal_code="", address_line1="")
    student(nowhere, "Noé", [courses["fm"]])
    out = io.StringIO()

    call_command(
        "generate_invoices",
        "--site",
        combs.slug,
        "--year",
        grid.school_year.name,
        "--dry-run",
        stdout=out,
    )

    text = out.getvalue().replace("\u202f", " ").replace("\u00a0", " ")
    assert not Invoice.objects.exists()
    assert "Simulation : rien n’a été enregistré." in text
    assert "Familles : 2" in text
    assert "Factures brouillon : 1, avoirs brouillon : 0, total : 135,00 €" in text
    assert "Familles non tarifées (rien n’est préparé) : 1" in text
    assert "Sans-Adresse" in text
    call_command(
        "generate_invoices", "--site", combs.slug, "--year", grid.school_year.name, stdout=out
    )
    assert Invoice.objects.count() == 1
    with pytest.raises(CommandError, match="une fois par an"):
        call_command(
            "generate_invoices",
            "--site",
            combs.slug,
            "--year",
            grid.school_year.name,
            "--period",
            "2",
            stdout=out,
        )
    with pytest.raises(CommandError, match="Aucune grille"):
        call_command("generate_invoices", "--site", combs.slug, "--year", "1999-2000", stdout=out)


def test_the_secretary_previews_then_confirms_the_generation(combs, ploufragan, grid, courses):
    from billing.demo import SECRETARIAT_PERMISSIONS

    martin = family(combs)
    student(martin, "Léa", [courses["fm"]])
    other_grid = billing_grid(ploufragan, factories.school_year(ploufragan))
    secretary = factories.staff(combs, SECRETARIAT_PERMISSIONS)
    assert not secretary.is_superuser
    client = factories.signed_in(secretary)
    url = reverse("admin:billing_invoice_generate")

    changelist = client.get(reverse("admin:billing_invoice_changelist"))
    assert url in changelist.content.decode()
    page = client.get(url)
    assert page.status_code == 200
    assert str(other_grid.pk) not in [
        str(c[0]) for c in page.context["form"].fields["grid"].choices
    ]

    preview = client.post(url, {"grid": grid.pk, "period": "", "preview": "1"})
    text = preview.content.decode().replace("\u202f", " ").replace("\u00a0", " ")
    assert "Simulation" in text and "Formation musicale – Léa" in text and "135,00 €" in text
    assert not Invoice.objects.exists()

    done = client.post(url, {"grid": grid.pk, "period": "", "confirm": "1"})
    assert done.status_code == 302
    assert Invoice.objects.get().status == Invoice.Status.DRAFT
    # Another site's grid is not theirs to generate.
    assert client.post(url, {"grid": other_grid.pk, "confirm": "1"}).status_code == 200
    assert not Invoice.objects.filter(site=ploufragan).exists()
    # A period on a yearly grid: said next to the field.
    bad = client.post(url, {"grid": grid.pk, "period": "2", "preview": "1"})
    assert "une fois par an" in bad.content.decode()


def test_payers_shares_add_up_to_100_or_are_not_set():
    from families.validators import invoice_shares_problem

    assert invoice_shares_problem([None]) == ""
    assert invoice_shares_problem([60, 40]) == ""
    assert invoice_shares_problem([60, 30])
    assert invoice_shares_problem([60, None])


def test_invoice_line_explanation_is_shown_in_the_admin(combs, grid, courses):
    martin = family(combs)
    student(martin, "Léa", [courses["fm"]])
    generate(grid)
    invoice = Invoice.objects.get()
    secretary = factories.staff(
        combs, ["view_invoice", "change_invoice", "view_invoiceline", "change_invoiceline"]
    )
    page = factories.signed_in(secretary).get(
        reverse("admin:billing_invoice_change", args=[invoice.pk])
    )
    assert InvoiceLine.objects.get(invoice=invoice, label__startswith="Formation").explanation in (
        page.content.decode()
    )


def test_the_generation_benchmark_runs(db):
    """bench/generate_invoices.py on 6 families, the command run in this process."""
    from bench import generate_invoices
    from extranet.models import Site

    out = io.StringIO()
    assert (
        generate_invoices.main(["--families", "6"], stdout=out, run=generate_invoices.in_process)
        == 0
    )
    text = out.getvalue()
    assert "Generated 6 families, 12 students, 18 enrollments" in text
    assert "Familles\u00a0: 6" in text and "Factures brouillon\u00a0: 18" in text
    assert "generate_invoices --dry-run" in text
    assert not Invoice.objects.exists()
    assert not Site.objects.filter(slug=generate_invoices.SITE).exists()  # Cleaned up.


def test_the_family_admin_refuses_shares_not_adding_up_to_100(combs):
    from django.forms import inlineformset_factory

    from families.admin import GuardianFormSet

    martin = family(combs)
    Formset = inlineformset_factory(
        factories.Family,
        factories.Guardian,
        formset=GuardianFormSet,
        fields=[
            "civility",
            "first_name",
            "last_name",
            "address_line1",
            "postal_code",
            "city",
            "is_payer",
            "invoice_share",
        ],
        extra=1,
    )
    mother = martin.guardians.get()

    def post(mother_share, father_share):
        data = {
            "guardians-TOTAL_FORMS": "2",
            "guardians-INITIAL_FORMS": "1",
            "guardians-0-id": str(mother.pk),
            "guardians-0-family": str(martin.pk),
            "guardians-1-family": str(martin.pk),
        }
        for n, (first, share) in enumerate([("Claire", mother_share), ("Paul", father_share)]):
            data.update(
                {
                    f"guardians-{n}-civility": "MME",
                    f"guardians-{n}-first_name": first,
                    f"guardians-{n}-last_name": "Martin",
                    f"guardians-{n}-address_line1": "1 rue Haute",
                    f"guardians-{n}-postal_code": "77380",
                    f"guardians-{n}-city": "Combs-la-Ville",
                    f"guardians-{n}-is_payer": "on",
                    f"guardians-{n}-invoice_share": share,
                }
            )
        return Formset(data, instance=martin, prefix="guardians")

    refused = post("60", "30")
    assert not refused.is_valid()
    assert refused.non_form_errors() == ["Les parts des payeurs doivent faire 100 % en tout."]
    assert not post("60", "").is_valid()
    assert post("60", "40").is_valid()
    assert post("", "").is_valid()


# What families are shown is what they are billed.


@pytest.mark.parametrize("billing", [FeeGrid.Billing.ANNUAL, FeeGrid.Billing.TERMS])
def test_the_estimate_is_the_invoice(combs, year, courses, billing):
    from fees.estimates import family_estimate

    grid = billing_grid(combs, year, billing=billing)
    families = []
    # Two children with a sibling reduction, a verified quotient (T1).
    martin = family(combs, name="Martin")
    FamilyIncome.objects.create(
        family=martin,
        school_year=year,
        reference_income=Decimal("3600"),
        parts=Decimal(1),
        verified=True,
    )
    student(martin, "Léa", [courses["fm"], courses["piano"]])
    student(martin, "Hugo", [courses["dance"]], birth_date=factories.date(2016, 5, 1))
    families.append(martin)
    # No quotient at all (the highest band), living outside the agglomeration.
    durand = family(combs, name="Durand", postal_code="75011", city="Paris")
    student(durand, "Zoé", [courses["piano"]])
    families.append(durand)
    # A student joining in January: charged from the second term.
    petit = family(combs, name="Petit")
    joined = student(petit, "Noé", [courses["fm"]])
    Enrollment.objects.filter(student=joined).update(
        starts_on=year.start_date.replace(year=year.start_date.year + 1, month=1, day=20)
    )
    families.append(petit)

    generate(grid)

    for each in families:
        estimate = family_estimate(each, year)
        invoices = Invoice.objects.filter(family=each)
        assert sum(i.total for i in invoices) == estimate.total, each
        billed = {
            (line.student_id, line.fee_item_id, line.explanation)
            for invoice in invoices
            for line in invoice.lines.all()
        }
        shown = {
            (line.student and line.student.pk, line.item.pk, line.explanation)
            for line in estimate.lines
        }
        assert billed == shown, each
        # Period by period too, with the odd cents where the estimate puts them.
        by_period = {i.lines.first().period: i.total for i in invoices}
        for term, amount in estimate.by_period():
            assert by_period[term.number if term else None] == amount, (each, term)
