"""What the family's home page says: what it must do now ("À faire"), this
week's lessons and the site's news. Each answer comes from the function the
tabs use (the statement's ledger, the documents checklist, the re-enrollment
requests, the week view), fetched in a fixed number of queries whatever the
number of students."""

from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from django.core.cache import cache
from django.db.models import F, Prefetch
from django.utils import timezone

from billing import online
from billing.debtors import overdue_parts
from billing.instalments import PAID, coverage
from billing.ledger import remaining, remaining_of
from billing.models import Instalment, Invoice
from documents.checklist import ChecklistItem, State, this_year
from extranet.money import money
from families.documents import family_checklist
from families.versions import family_cache_key
from reenrollment.models import ReenrollmentCampaign, ReenrollmentRequest
from students import queries
from students.models import ClosurePeriod

from .models import News

# How far ahead the home page looks: instalments, expiring documents, a
# re-enrollment campaign about to open.
HORIZON = timedelta(days=30)
# What the page read, kept for the day (its key holds the day): any change the
# page shows moves the family's or the site's content version, hence the key.
CACHED_FOR = 24 * 60 * 60


# Money.


@dataclass
class Coming:
    """An instalment falling due within the horizon, with what is left of it."""

    invoice: Invoice
    instalment: Instalment
    amount: Decimal
    at_bank: bool

    @property
    def by_direct_debit(self):
        return self.invoice.plan is not None and self.invoice.plan.by_direct_debit


@dataclass
class Money:
    unpaid: list  # issued invoices with something left, `remaining` and `overdue` set
    coming: list  # Coming
    can_pay: bool = False

    @property
    def due(self):
        return money(sum((i.remaining for i in self.unpaid), Decimal(0)))

    @property
    def overdue(self):
        return money(sum((i.overdue for i in self.unpaid), Decimal(0)))

    @property
    def overdue_invoices(self):
        return [i for i in self.unpaid if i.overdue > 0]


def money_due(family, today):
    """The family's unpaid invoices (what is overdue on each, as the
    reminders see it) and the instalments coming within the horizon.
    Two queries, three when something is left to pay (the payment service)."""
    invoices = (
        remaining_of(Invoice.objects.issued().filter(family=family, kind=Invoice.Kind.INVOICE))
        .alias(left=F("total") - F("paid") - F("credited"))
        .filter(left__gt=0)
        .select_related("plan")
        .prefetch_related(Prefetch("instalments", Instalment.objects.order_by("position")))
        .order_by("due_date", "number")
    )
    unpaid, coming = [], []
    for invoice in invoices:
        instalments = list(invoice.instalments.all())
        parts, _at_bank = overdue_parts(invoice, instalments, today)
        invoice.remaining = remaining(invoice)
        invoice.overdue = money(sum((p.amount for p in parts), Decimal(0)))
        unpaid.append(invoice)
        if instalments:
            # What is paid covers the instalments in order, as on the statement.
            owed = money(invoice.total - invoice.credited)
            scheduled = sum((i.amount for i in instalments), Decimal(0))
            covered = invoice.paid + max(scheduled - owed, Decimal(0))
            for row in coverage(instalments, covered, today):
                due = row.instalment.due_date
                if row.status != PAID and today <= due <= today + HORIZON and row.left > 0:
                    coming.append(
                        Coming(invoice, row.instalment, row.left, row.instalment.debit_pending)
                    )
    coming.sort(key=lambda c: (c.instalment.due_date, c.invoice.number))
    found = Money(unpaid, coming)
    found.can_pay = bool(unpaid) and online.gateway_for(family.site_id) is not None
    return found


# Documents.


@dataclass
class DocumentTodo:
    """A document to send (missing, refused, expired…) or expiring soon,
    for the family (`student` None) or one student."""

    item: ChecklistItem
    student: object = None
    expires_on: object = None

    @property
    def refused(self):
        return self.item.state == State.REFUSED

    @property
    def missing(self):
        return self.item.state == State.MISSING


def to_do(items, today, student=None):
    found = []
    for item in items:
        if item.needs_upload:
            found.append(DocumentTodo(item, student))
        elif item.asked and item.document is not None and item.state == State.ACCEPTED:
            expires = item.document.expires_on
            if expires is not None and today < expires <= today + HORIZON:
                found.append(DocumentTodo(item, student, expires))
    return found


def documents_due(family, students, today):
    """The family's documents to send or soon to renew, then each student's,
    by the checklist's rules: those of the Famille tab and the fiche élève
    (which asks a student for the required kinds and its disciplines').
    Two queries for the family, two for all the students."""
    period = this_year(today)
    found = to_do(family_checklist(family, period), today)
    checklists = queries.students_checklists(family, students, period)
    for student in students:
        found += to_do(checklists[student.pk], today, student)
    return found


# Re-enrollment.


@dataclass
class Reenrollment:
    campaign: ReenrollmentCampaign
    is_open: bool
    # (student, request or None) for the students not sent yet or incomplete.
    pending: list = field(default_factory=list)


def reenrollment_due(family, students, now):
    """The campaign open now, or opening within the horizon, and the
    students whose request is not sent yet or was found incomplete. None
    when there is nothing to do. Two queries at most."""
    campaign = (
        ReenrollmentCampaign.objects.filter(
            site=family.site_id, closes_at__gt=now, opens_at__lte=now + HORIZON
        )
        .select_related("school_year")
        .order_by("opens_at", "closes_at")
        .first()
    )
    if campaign is None:
        return None
    if campaign.opens_at > now:
        return Reenrollment(campaign, False)
    requests = {
        r.student_id: r
        for r in ReenrollmentRequest.objects.filter(campaign=campaign, student__family=family)
    }
    Status = ReenrollmentRequest.Status
    pending = [
        (student, requests.get(student.pk))
        for student in students
        if student.pk not in requests
        or requests[student.pk].status in {Status.DRAFT, Status.INCOMPLETE}
    ]
    if not pending:
        return None
    return Reenrollment(campaign, True, pending)


# This week.


@dataclass
class Day:
    date: object
    lessons: list  # (enrollment, student), by start time
    closure: object = None  # the ClosurePeriod that cancels the day's lessons


def week(students, year, today):
    """This week's days with lessons, Monday to Sunday, each with its date:
    the week view's timetable, dated; a day in a closure period says so;
    days outside the school year are left out. One query (the closures)."""
    if year is None:
        return []
    monday = today - timedelta(days=today.weekday())
    sunday = monday + timedelta(days=6)
    closures = list(
        ClosurePeriod.objects.filter(
            school_year=year, start_date__lte=sunday, end_date__gte=monday
        ).order_by("start_date")
    )
    days = []
    for _label, lessons in queries.timetable(students):
        day = monday + timedelta(days=lessons[0][0].course.weekday)
        if not year.start_date <= day <= year.end_date:
            continue
        closure = next((c for c in closures if c.start_date <= day <= c.end_date), None)
        days.append(Day(day, lessons, closure))
    return days


# The whole page.


@dataclass
class Home:
    money: Money
    documents: list
    reenrollment: Reenrollment | None
    days: list
    news: list

    @property
    def nothing_to_do(self):
        return not (self.money.unpaid or self.money.coming or self.documents or self.reenrollment)


def home(family, now=None):
    """The page's answers. All but the re-enrollment are read once a day and
    again after any change they show (families.versions); the re-enrollment
    turns on a campaign's opening and closing times, so it is asked each time."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    key = family_cache_key(None, family, "home", day=today)
    found = cache.get(key)
    if found is None:
        found = read(family, today)
        cache.set(key, found, CACHED_FOR)
    students, money_found, documents, days, news = found
    return Home(
        money=money_found,
        documents=documents,
        reenrollment=reenrollment_due(family, students, now),
        days=days,
        news=news,
    )


def read(family, today):
    """(students, Money, documents, days, news) for `today`."""
    year = queries.current_year(family.site_id)
    students = list(queries.family_students(family, year)) if year else list(family.students.all())
    if year is None:
        for student in students:
            student.current_enrollments = []
    return (
        students,
        money_due(family, today),
        documents_due(family, students, today),
        week(students, year, today),
        list(News.objects.shown(family.site_id, today)),
    )
