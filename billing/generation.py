"""The year's invoices drafted from the enrollments, priced by the one
pricing function (fees.pricing) that also makes the families' estimates.

Each generated line keeps its origin (fee item, term, student, and through
the invoice the payer), so that a later run compares what the issued
invoices already bill with what is due now and drafts only the difference:
a complementary invoice, or a credit note on the issued invoice. Issued
invoices are never touched; the generation's own drafts are rebuilt when
they no longer say what is due. Issuing stays the secretariat's act.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from extranet.money import money
from families.models import Family
from families.validators import invoice_shares_problem
from fees.models import FeeGrid
from fees.pricing import payer_of, price_families, split
from students.models import Enrollment

from .models import Invoice, InvoiceLine

BATCH = 500
SAMPLE = 30
ZERO = Decimal(0)
CENT = Decimal("0.01")


class GenerationError(ValueError):
    """A period the grid does not bill."""


@dataclass
class PlannedLine:
    fee_item: object
    student: object
    period: int | None
    amount: Decimal
    explanation: str
    band: str
    zone: str

    @property
    def label(self):
        if self.student is None:
            return self.fee_item.name
        return f"{self.fee_item.name} – {self.student.first_name}"

    def signature(self):
        return (
            self.fee_item.pk,
            self.student.pk if self.student else None,
            self.period,
            self.label,
            self.explanation,
            self.amount,
            self.band,
            self.zone,
        )


@dataclass
class PlannedInvoice:
    family: Family
    payer: object
    period: int | None
    kind: str
    label: str
    due_date: object = None
    credited: Invoice | None = None
    lines: list = field(default_factory=list)

    @property
    def total(self):
        return sum((line.amount for line in self.lines), ZERO)

    def signature(self):
        return (
            self.kind,
            self.payer.pk if self.payer else None,
            self.credited.pk if self.credited else None,
            self.label,
            self.due_date,
            tuple(sorted(line.signature() for line in self.lines)),
        )


def draft_signature(invoice):
    return (
        invoice.kind,
        invoice.payer_id,
        invoice.credited_invoice_id,
        invoice.label,
        invoice.due_date,
        tuple(
            sorted(
                (
                    line.fee_item_id,
                    line.student_id,
                    line.period,
                    line.label,
                    line.explanation,
                    line.amount,
                    line.band,
                    line.zone,
                )
                for line in invoice.lines.all()
            )
        ),
    )


@dataclass
class Summary:
    """What a run did, or would do with `dry_run`."""

    grid: FeeGrid
    periods: list
    dry_run: bool = False
    families: int = 0
    invoices: int = 0
    credit_notes: int = 0
    total: Decimal = ZERO
    unchanged: int = 0
    replaced: int = 0
    without_quotient: list = field(default_factory=list)
    without_address: list = field(default_factory=list)
    unpriced: list = field(default_factory=list)  # [(family, [problem])]
    sample: list = field(default_factory=list)  # [(invoice, line)]
    labels: dict = field(default_factory=dict)  # {period: the invoices' label}


def term_name(number):
    names = {
        1: pgettext("generation", "1st term"),
        2: pgettext("generation", "2nd term"),
        3: pgettext("generation", "3rd term"),
    }
    return names.get(number) or pgettext("generation", "term %(number)d") % {"number": number}


def invoice_label(grid, period):
    label = pgettext("invoice label", "Fees %(year)s") % {"year": grid.school_year.name}
    if period is not None:
        label = f"{label} – {term_name(period)}"
    return label


def periods_of(grid, period=None):
    """The periods billed: [None] once a year, else term numbers."""
    numbers = [t.number for t in grid.terms.all()]
    if grid.billing != FeeGrid.Billing.TERMS or not numbers:
        if period is not None:
            raise GenerationError(_("This grid bills once a year: there is no period to choose."))
        return [None]
    if period is None:
        return numbers
    if period not in numbers:
        raise GenerationError(_("The grid has no term %(number)d.") % {"number": period})
    return [period]


def families_to_bill(grid):
    """Ids of the site's families enrolled that year, or already billed by
    this grid (whose enrollments may all be gone: a credit is then due)."""
    enrolled = Enrollment.objects.filter(
        course__school_year=grid.school_year, student__family__site=grid.site
    ).values_list("student__family_id", flat=True)
    billed = InvoiceLine.objects.filter(fee_item__grid=grid).values_list(
        "invoice__family_id", flat=True
    )
    return sorted(set(enrolled) | set(billed))


def generate(grid, period=None, dry_run=False, batch_size=BATCH):
    """Draft what is due for `grid`'s year (one term with `period`), batch by
    batch of families: the number of queries grows with batches, not
    families. Returns a Summary; `dry_run` writes nothing."""
    summary = Summary(grid=grid, periods=periods_of(grid, period), dry_run=dry_run)
    summary.labels = {number: invoice_label(grid, number) for number in summary.periods}
    ids = families_to_bill(grid)
    terms = {t.number: t for t in grid.terms.all()}
    for start in range(0, len(ids), batch_size):
        with transaction.atomic():
            generate_batch(grid, terms, ids[start : start + batch_size], summary)
    return summary


def period_filter(periods):
    if periods == [None]:
        return {"period__isnull": True}
    return {"period__in": periods}


def generate_batch(grid, terms, ids, summary):
    periods = summary.periods
    if not summary.dry_run:
        # Two runs on the same grid wait for each other.
        FeeGrid.objects.select_for_update().filter(pk=grid.pk).exists()
    estimates = price_families(Family.objects.filter(pk__in=ids), grid, verified_only=True)
    billed = defaultdict(list)
    for line in InvoiceLine.objects.filter(
        invoice__family_id__in=ids,
        invoice__status=Invoice.Status.ISSUED,
        fee_item__grid=grid,
        **period_filter(periods),
    ).select_related("invoice", "fee_item", "student"):
        billed[line.invoice.family_id].append(line)
    drafts = Invoice.objects.filter(
        family_id__in=ids,
        status=Invoice.Status.DRAFT,
        pk__in=InvoiceLine.objects.filter(fee_item__grid=grid, **period_filter(periods)).values(
            "invoice_id"
        ),
    ).prefetch_related("lines")
    if not summary.dry_run:
        drafts = drafts.select_for_update(of=("self",))
    existing = defaultdict(list)
    for invoice in drafts:
        existing[invoice.family_id].append(invoice)

    to_delete, to_create = [], []
    for family_id in ids:
        estimate = estimates[family_id]
        planned = defaultdict(list)
        for invoice in plan_family(grid, terms, estimate, billed[family_id], summary):
            planned[invoice.period].append(invoice)
        current = defaultdict(list)
        for invoice in existing[family_id]:
            current[draft_period(invoice)].append(invoice)
        # Period by period: a term's drafts still right are kept as they are.
        for period in set(planned) | set(current):
            if sorted(p.signature() for p in planned[period]) == sorted(
                draft_signature(i) for i in current[period]
            ):
                summary.unchanged += len(current[period])
                continue
            to_delete += [invoice.pk for invoice in current[period]]
            summary.replaced += len(current[period])
            to_create += planned[period]
            count(planned[period], summary)
    if not summary.dry_run:
        write(grid, to_delete, to_create)


def draft_period(invoice):
    return next((line.period for line in invoice.lines.all() if line.fee_item_id), None)


def count(invoices, summary):
    for invoice in invoices:
        if invoice.kind == Invoice.Kind.CREDIT_NOTE:
            summary.credit_notes += 1
            summary.total -= invoice.total
        else:
            summary.invoices += 1
            summary.total += invoice.total
        for line in invoice.lines:
            if len(summary.sample) < SAMPLE:
                summary.sample.append((invoice, line))


def plan_family(grid, terms, estimate, billed_lines, summary):
    """The drafts `estimate.family` needs so that what is billed equals what is due."""
    family = estimate.family
    payer = payer_of(family)
    guardians = list(family.guardians.all())
    sharing = [g for g in guardians if g.invoice_share]
    payers = sharing or [payer]
    if estimate.lines or billed_lines or estimate.problems:
        summary.families += 1
        if estimate.quotient is None:
            summary.without_quotient.append(family)
        if any(
            p is None or not (p.address_line1.strip() and p.postal_code.strip()) for p in payers
        ):
            summary.without_address.append(family)
    problems = list(estimate.problems)
    problem = invoice_shares_problem(
        [g.invoice_share for g in guardians if g.is_payer or g.invoice_share]
    )
    if problem:
        problems.append(problem)
    if problems:
        summary.unpriced.append((family, problems))
        return []

    # What is due now, by (payer, period, item, student).
    shares = [(g, g.invoice_share) for g in sharing] or [(None, 100)]
    band = estimate.band.code if estimate.band else ""
    zone = estimate.zone.name if estimate.zone else ""
    due, origin = defaultdict(Decimal), {}
    for line in estimate.lines:
        if summary.periods == [None]:
            parts = [(None, line.amount)]
        else:
            parts = split(line.amount, line.terms or tuple(terms))
        for number, amount in parts:
            if number not in summary.periods:
                continue
            for guardian, part in share(amount, shares):
                key = (guardian.pk if guardian else None, number, line.item.pk, pk_of(line.student))
                due[key] += part
                origin[key] = PlannedLine(
                    line.item, line.student, number, ZERO, line.explanation, band, zone
                )

    # What the issued invoices and credit notes bill already; what each
    # invoice has left to credit, per key.
    already, left = defaultdict(Decimal), defaultdict(Decimal)
    invoices = {}
    for line in billed_lines:
        invoice = line.invoice
        key = (invoice.payer_id, line.period, line.fee_item_id, line.student_id)
        if invoice.kind == Invoice.Kind.CREDIT_NOTE:
            already[key] -= line.amount
            left[key, invoice.credited_invoice_id] -= line.amount
        else:
            already[key] += line.amount
            left[key, invoice.pk] += line.amount
            invoices[invoice.pk] = invoice
        origin.setdefault(
            key,
            PlannedLine(
                line.fee_item,
                line.student,
                line.period,
                ZERO,
                line.explanation,
                line.band,
                line.zone,
            ),
        )
    guardians_by_pk = {g.pk: g for g in guardians}
    planned = {}
    for key in sorted(set(due) | set(already), key=sort_key):
        difference = money(due[key] - already[key])
        if difference == 0:
            continue
        payer_id, number, _item, _student = key
        guardian = guardians_by_pk.get(payer_id)
        if difference > 0:
            invoice = planned.get((payer_id, number, None))
            if invoice is None:
                label = summary.labels[number]
                if any(k[:2] == (payer_id, number) and v for k, v in already.items()):
                    # Outside the f-string, where makemessages finds it.
                    suffix = _("(complement)")
                    label = f"{label} {suffix}"
                term = terms.get(number) if number else next(iter(terms.values()), None)
                invoice = planned[payer_id, number, None] = PlannedInvoice(
                    family,
                    guardian,
                    number,
                    Invoice.Kind.INVOICE,
                    label,
                    due_date=term.due_date if term else None,
                )
            line = origin[key]
            invoice.lines.append(
                PlannedLine(
                    line.fee_item,
                    line.student,
                    number,
                    difference,
                    line.explanation,
                    line.band,
                    line.zone,
                )
            )
            continue
        # Less is due: credited on the issued invoices that billed it, the latest first.
        owed = -difference
        for invoice_pk in sorted((k[1] for k in left if k[0] == key), reverse=True):
            part = min(owed, left[key, invoice_pk])
            if part <= 0:
                continue
            credited = invoices[invoice_pk]
            note = planned.get((payer_id, number, invoice_pk))
            if note is None:
                note = planned[payer_id, number, invoice_pk] = PlannedInvoice(
                    family,
                    guardian,
                    number,
                    Invoice.Kind.CREDIT_NOTE,
                    _("Credit note on %(number)s") % {"number": credited.number}
                    + f" – {credited.label}",
                    credited=credited,
                )
            billed_line = next(
                b for b in billed_lines if b.invoice_id == invoice_pk and key_of(b) == key
            )
            note.lines.append(
                PlannedLine(
                    billed_line.fee_item,
                    billed_line.student,
                    number,
                    part,
                    origin[key].explanation,
                    billed_line.band,
                    billed_line.zone,
                )
            )
            owed -= part
            if owed <= 0:
                break
    return list(planned.values())


def key_of(line):
    return (line.invoice.payer_id, line.period, line.fee_item_id, line.student_id)


def sort_key(key):
    return tuple(-1 if value is None else value for value in key)


def pk_of(obj):
    return obj.pk if obj is not None else None


def share(amount, shares):
    """`amount` shared between payers by percentage, to the cent, the odd
    cents on the first."""
    if len(shares) == 1:
        return [(shares[0][0], amount)]
    others = [
        (guardian, (amount * percent / 100).quantize(CENT, rounding=ROUND_DOWN))
        for guardian, percent in shares[1:]
    ]
    first = amount - sum((part for _g, part in others), ZERO)
    return [(shares[0][0], first), *others]


def write(grid, to_delete, to_create):
    if to_delete:
        InvoiceLine.objects.filter(invoice_id__in=to_delete).delete()
        Invoice.objects.filter(pk__in=to_delete, status=Invoice.Status.DRAFT).delete()
    if not to_create:
        return
    invoices = Invoice.objects.bulk_create(
        Invoice(
            site_id=grid.site_id,
            family=planned.family,
            payer=planned.payer,
            kind=planned.kind,
            credited_invoice=planned.credited,
            school_year_id=grid.school_year_id,
            label=planned.label[:120],
            due_date=planned.due_date,
            total=money(planned.total),
        )
        for planned in to_create
    )
    InvoiceLine.objects.bulk_create(
        InvoiceLine(
            invoice=invoice,
            label=line.label[:200],
            explanation=line.explanation,
            fee_item=line.fee_item,
            period=line.period,
            band=line.band,
            zone=line.zone,
            student=line.student,
            quantity=Decimal(1),
            unit_price=line.amount,
            amount=line.amount,
            position=position,
        )
        for invoice, planned in zip(invoices, to_create, strict=True)
        for position, line in enumerate(planned.lines)
    )


def report(summary):
    """The summary as lines of text, in the active language."""
    from extranet.formatting import eur

    periods = ", ".join(term_name(p) for p in summary.periods if p is not None) or pgettext(
        "generation", "the year"
    )
    lines = [
        _("%(grid)s, period: %(periods)s")
        % {"grid": invoice_label(summary.grid, None), "periods": periods},
    ]
    if summary.dry_run:
        lines.append(_("Dry run: nothing was saved."))
    lines += [
        _("Families: %(count)d") % {"count": summary.families},
        _("Draft invoices: %(invoices)d, draft credit notes: %(notes)d, total: %(total)s")
        % {
            "invoices": summary.invoices,
            "notes": summary.credit_notes,
            "total": eur(summary.total),
        },
        _("Drafts already up to date: %(unchanged)d, drafts replaced: %(replaced)d")
        % {"unchanged": summary.unchanged, "replaced": summary.replaced},
        _("Families without a verified quotient familial (highest band): %(count)d")
        % {"count": len(summary.without_quotient)},
        _("Families whose payer has no postal address: %(count)d")
        % {"count": len(summary.without_address)},
    ]
    lines += [f"  – {family}" for family in summary.without_address]
    lines.append(
        _("Families not priced (nothing drafted): %(count)d") % {"count": len(summary.unpriced)}
    )
    lines += [f"  – {family} : {' '.join(problems)}" for family, problems in summary.unpriced]
    return lines
