"""Relances: e-mails at the site's delays, then a letter to print; nothing once
paid, while a debit is at the bank, or without a policy."""

import io
from datetime import datetime, time, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format
from pypdf import PdfReader

from billing import ledger
from billing.instalments import choose_plan
from billing.models import Instalment, Payment, Reminder, ReminderPolicy
from billing.reminders import parse_delays, run

from . import clock
from .factories import (
    draft,
    instalment_plans,
    issued,
    make_parent,
    payer,
    school_year,
    signed_in,
    simulator,
    staff,
)
from .mail_sink import SMTPSink
from .test_debit_returns import subject

EMAIL, LETTER = Reminder.Kind.EMAIL, Reminder.Kind.LETTER
REMINDER_PERMISSIONS = [
    "view_reminder",
    "change_reminder",
    "view_reminderpolicy",
    "add_reminderpolicy",
    "change_reminderpolicy",
    "view_invoice",
    "view_familyaccount",
]


def at(day):
    """Travel to 10:00 (Paris) on `day`."""
    return time_machine.travel(datetime.combine(day, time(10), tzinfo=clock.PARIS), tick=False)


def remind(day):
    """The daily command on `day`: the (kind, level) recorded that day."""
    before = set(Reminder.objects.values_list("pk", flat=True))
    with at(day):
        call_command("send_reminders", stdout=io.StringIO())
    return sorted((r.kind, r.level) for r in Reminder.objects.exclude(pk__in=before).order_by("pk"))


def pdf_text(content):
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


@pytest.fixture
def policy(combs):
    return ReminderPolicy.objects.create(site=combs, email_delays=[7, 30], letter_delay=45)


@pytest.fixture
def family(parent):
    payer(parent.family)
    return parent.family


@pytest.fixture
def invoice(family):
    """186 € due today (no instalment plan on the site)."""
    return issued(family, due_date=clock.TODAY)


# Days after the due date on which the daily command runs, and what it records.
TIMELINE = [
    (-3, []),  # Not yet due.
    (0, []),  # Due today.
    (6, []),
    (7, [(EMAIL, 1)]),
    (8, []),
    (29, []),
    (30, [(EMAIL, 2)]),
    (31, []),
    (44, []),
    (45, [(LETTER, 1)]),
    (46, []),
    (90, []),
]


def test_reminders_follow_the_delays(policy, invoice):
    for days, expected in TIMELINE:
        assert remind(clock.TODAY + timedelta(days=days)) == expected, days
    letter = Reminder.objects.get(kind=LETTER)
    assert letter.due_since == clock.TODAY and letter.amount == Decimal("186.00")
    assert letter.created_on == clock.TODAY + timedelta(days=45)


def test_nothing_more_once_paid(policy, invoice):
    assert remind(clock.TODAY + timedelta(days=7)) == [(EMAIL, 1)]
    with at(clock.TODAY + timedelta(days=10)):
        ledger.record_payment(
            invoice.family, invoice.total, Payment.Mode.CASH, [(invoice, invoice.total)]
        )
    for days in [30, 45, 100]:
        assert remind(clock.TODAY + timedelta(days=days)) == []


def test_partly_paid_reminds_the_rest(policy, invoice):
    ledger.record_payment(
        invoice.family, Decimal("50.00"), Payment.Mode.CHEQUE, [(invoice, Decimal("50.00"))]
    )
    assert remind(clock.TODAY + timedelta(days=7)) == [(EMAIL, 1)]
    assert Reminder.objects.get().amount == Decimal("136.00")


def test_a_credit_note_lowers_what_is_reminded(policy, invoice):
    note = ledger.make_credit_note(invoice)
    line = note.lines.get()
    line.unit_price = Decimal("86.00")
    line.save()
    ledger.issue(note)
    assert remind(clock.TODAY + timedelta(days=7)) == [(EMAIL, 1)]
    assert Reminder.objects.get().amount == Decimal("100.00")


@pytest.fixture
def three_times(combs, family):
    """300 € under the 3× plan (5 October, January, April), chosen before the
    invoice is issued today: those of its dates still to come, the 300 €
    split between them (on 1 December 2026: 5 January and 5 April, 150 €
    each)."""
    year = school_year(combs)
    plans = instalment_plans(combs)
    choose_plan(family, year, plans[3])
    invoice = issued(family, school_year=year, lines=[("Cursus", "300.00")])
    instalments = list(invoice.instalments.order_by("position"))
    assert len(instalments) >= 2
    assert {i.due_date.day for i in instalments} == {5}
    assert sum(i.amount for i in instalments) == Decimal("300.00")
    return invoice, instalments


def test_only_the_instalments_due_count(policy, three_times):
    invoice, (first, second, *_rest) = three_times
    assert remind(first.due_date + timedelta(days=6)) == []
    assert remind(first.due_date + timedelta(days=7)) == [(EMAIL, 1)]
    reminder = Reminder.objects.get()
    assert reminder.amount == first.amount and reminder.due_since == first.due_date
    # The first instalment paid, the second falls due: a new overdue period,
    # the levels start again.
    with at(first.due_date + timedelta(days=10)):
        ledger.record_payment(
            invoice.family, first.amount, Payment.Mode.CASH, [(invoice, first.amount)]
        )
    assert remind(first.due_date + timedelta(days=30)) == []
    assert remind(second.due_date + timedelta(days=7)) == [(EMAIL, 1)]
    latest = Reminder.objects.order_by("-pk").first()
    assert latest.due_since == second.due_date and latest.amount == second.amount
    assert remind(second.due_date + timedelta(days=30)) == [(EMAIL, 2)]


def test_a_debit_at_the_bank_is_not_reminded(policy, three_times):
    invoice, (first, *_rest) = three_times
    Instalment.objects.filter(pk=first.pk).update(debit_pending=True)
    assert remind(first.due_date + timedelta(days=7)) == []
    assert remind(first.due_date + timedelta(days=45)) == []
    # Back from the bank unpaid: reminded.
    Instalment.objects.filter(pk=first.pk).update(debit_pending=False)
    assert remind(first.due_date + timedelta(days=46)) == [(EMAIL, 2), (LETTER, 1)]


def test_no_policy_no_reminder(invoice):
    assert remind(clock.TODAY + timedelta(days=60)) == []


def test_an_inactive_policy_sends_nothing(policy, invoice):
    policy.is_active = False
    policy.save()
    assert remind(clock.TODAY + timedelta(days=60)) == []


def test_a_late_policy_sends_only_the_highest_level_reached(policy, invoice):
    assert remind(clock.TODAY + timedelta(days=35)) == [(EMAIL, 2)]
    assert remind(clock.TODAY + timedelta(days=36)) == []


def test_other_sites_policy_does_not_apply(ploufragan, invoice):
    ReminderPolicy.objects.create(site=ploufragan, email_delays=[7], letter_delay=10)
    assert remind(clock.TODAY + timedelta(days=30)) == []


def test_a_family_without_e_mail_gets_the_letter_only(combs, policy):
    user = make_parent(combs, username="sansmail", family_name="Sansmail", email="")
    payer(user.family)
    issued(user.family, due_date=clock.TODAY)
    assert remind(clock.TODAY + timedelta(days=7)) == []
    with at(clock.TODAY + timedelta(days=30)):
        summary = run()
    assert summary.emails == [] and len(summary.without_email) == 1
    assert remind(clock.TODAY + timedelta(days=45)) == [(LETTER, 1)]


@pytest.fixture
def smtp(settings, free_port):
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": free_port, "timeout": 5},
        }
    }
    with SMTPSink(free_port) as sink:
        yield sink


def reminders_in(sink):
    return [m for m in sink.messages if "relance" in m["Subject"].lower()]


def body_of(message):
    return message.get_payload(0).get_payload(decode=True).decode()


@pytest.mark.django_db(transaction=True)
def test_run_twice_the_same_day_sends_one_e_mail(policy, invoice, smtp, run_worker, combs):
    simulator(combs)
    day = clock.TODAY + timedelta(days=7)
    remind(day)
    remind(day)
    with at(day):
        run_worker()
    assert len(reminders_in(smtp)) == 1
    message = reminders_in(smtp)[0]
    assert message["To"] == invoice.family.contact_email()
    assert invoice.number in message["Subject"]
    body = body_of(message)
    assert invoice.number in body and "186,00\u00a0€" in body
    with translation.override("fr"):
        assert date_format(clock.TODAY, "j F Y") in body  # "1 décembre 2026"
    assert "en ligne" in body and reverse("billing:statement") in body
    assert combs.email in body
    # The second level, a later day: a second e-mail.
    remind(clock.TODAY + timedelta(days=30))
    with at(clock.TODAY + timedelta(days=30)):
        run_worker()
    assert len(reminders_in(smtp)) == 2
    assert subject(reminders_in(smtp)[1]).startswith("Nouvelle relance\u00a0: facture")


@pytest.mark.django_db(transaction=True)
def test_without_online_payment_the_e_mail_sends_to_the_secretariat(
    policy, invoice, smtp, run_worker
):
    day = clock.TODAY + timedelta(days=7)
    remind(day)
    with at(day):
        run_worker()
    body = body_of(reminders_in(smtp)[0])
    assert "en ligne" not in body and "au secrétariat" in body


@pytest.mark.django_db(transaction=True)
def test_paid_before_the_worker_runs_no_e_mail(policy, invoice, smtp, run_worker):
    day = clock.TODAY + timedelta(days=7)
    remind(day)
    with at(day):
        ledger.record_payment(
            invoice.family, invoice.total, Payment.Mode.CASH, [(invoice, invoice.total)]
        )
        run_worker()
    assert reminders_in(smtp) == []


@pytest.mark.django_db(transaction=True)
def test_the_letter_pdf(policy, invoice, combs, run_worker):
    remind(clock.TODAY + timedelta(days=45))
    with at(clock.TODAY + timedelta(days=45)):
        run_worker()
    letter = Reminder.objects.get(kind=LETTER)
    assert letter.pdf  # Rendered by the worker.
    secretary = signed_in(staff(combs, REMINDER_PERMISSIONS))
    response = secretary.get(reverse("admin:billing_reminder_letter", args=[letter.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    text = pdf_text(b"".join(response.streaming_content))
    for expected in [
        invoice.number,
        "186,00",
        "Trésor public",
        "12 rue des Tilleuls",
        "77380 Combs-la-Ville",
        "Claire Martin",
        combs.name,
        "Rue Baptiste Marcet",
        clock.TODAY.strftime("%d/%m/%Y"),
    ]:
        assert expected in " ".join(text.split()), expected


# The secretariat's screens.


def test_letters_to_print_and_mark_printed(policy, invoice, combs):
    remind(clock.TODAY + timedelta(days=45))
    secretary = signed_in(staff(combs, REMINDER_PERMISSIONS))
    changelist = reverse("admin:billing_reminder_changelist")
    to_print = secretary.get(changelist, {"impression": "to_print"})
    assert [r.kind for r in to_print.context["cl"].result_list] == [LETTER]
    assert reverse("admin:billing_reminder_debtors") in to_print.text
    letter = Reminder.objects.get(kind=LETTER)
    response = secretary.post(
        changelist,
        {"action": "mark_printed", "_selected_action": [r.pk for r in Reminder.objects.all()]},
    )
    assert response.status_code == 302
    letter.refresh_from_db()
    assert letter.printed_at is not None
    assert secretary.get(changelist, {"impression": "to_print"}).context["cl"].result_count == 0
    # Read, never changed.
    page = secretary.get(reverse("admin:billing_reminder_change", args=[letter.pk]))
    assert page.status_code == 200 and 'name="_save"' not in page.text


def test_a_foreign_reminder_is_not_shown(policy, invoice, combs, ploufragan):
    remind(clock.TODAY + timedelta(days=45))
    letter = Reminder.objects.get(kind=LETTER)
    other = signed_in(staff(ploufragan, REMINDER_PERMISSIONS, username="plou"))
    assert other.get(reverse("admin:billing_reminder_letter", args=[letter.pk])).status_code == 404
    assert other.get(reverse("admin:billing_reminder_changelist")).context["cl"].result_count == 0
    other.post(
        reverse("admin:billing_reminder_changelist"),
        {"action": "mark_printed", "_selected_action": [letter.pk]},
    )
    letter.refresh_from_db()
    assert letter.printed_at is None
    # Nor a family.
    assert (
        signed_in(invoice.family.accounts.get())
        .get(reverse("admin:billing_reminder_letter", args=[letter.pk]))
        .status_code
        == 302
    )


def test_an_e_mail_reminder_has_no_letter(policy, invoice, combs):
    remind(clock.TODAY + timedelta(days=7))
    email = Reminder.objects.get()
    secretary = signed_in(staff(combs, REMINDER_PERMISSIONS))
    assert (
        secretary.get(reverse("admin:billing_reminder_letter", args=[email.pk])).status_code == 404
    )


def policy_data(site, **fields):
    return {
        "site": site.pk,
        "email_delays": "7, 30",
        "letter_delay": "45",
        "is_active": "on",
        **fields,
    }


def test_policy_delays_typed_as_a_list(combs):
    secretary = signed_in(staff(combs, REMINDER_PERMISSIONS))
    add = reverse("admin:billing_reminderpolicy_add")
    assert 'value="7, 30"' in secretary.get(add).text
    response = secretary.post(add, policy_data(combs, email_delays=" 30 ;7 "))
    assert response.status_code == 302
    policy = ReminderPolicy.objects.get()
    assert policy.email_delays == [7, 30] and policy.site == combs
    change = reverse("admin:billing_reminderpolicy_change", args=[policy.pk])
    assert 'value="7, 30"' in secretary.get(change).text


@pytest.mark.parametrize(
    "typed, error",
    [
        ("7 jours", "Indiquez des nombres de jours séparés par des virgules"),
        ("7, -30", "Indiquez des nombres de jours séparés par des virgules"),
        ("7,, 30", "Indiquez des nombres de jours séparés par des virgules"),
        ("[7, 30]", "Indiquez des nombres de jours séparés par des virgules"),
        ("0, 30", "au moins un jour"),
        ("7, 7", "deux fois"),
    ],
)
def test_policy_bad_delays_are_refused_in_french(combs, typed, error):
    policy = ReminderPolicy.objects.create(site=combs, email_delays=[10], letter_delay=60)
    secretary = signed_in(staff(combs, REMINDER_PERMISSIONS))
    change = reverse("admin:billing_reminderpolicy_change", args=[policy.pk])
    response = secretary.post(change, policy_data(combs, email_delays=typed))
    assert response.status_code == 200
    assert error in str(response.context["adminform"].form.errors["email_delays"])
    policy.refresh_from_db()
    assert policy.email_delays == [10]


def test_policy_of_another_site_is_not_reachable(combs, ploufragan):
    policy = ReminderPolicy.objects.create(site=combs, email_delays=[7], letter_delay=45)
    other = signed_in(staff(ploufragan, REMINDER_PERMISSIONS, username="plou"))
    change = reverse("admin:billing_reminderpolicy_change", args=[policy.pk])
    assert other.get(change).status_code == 302  # The admin's "does not exist" redirect.
    other.post(change, policy_data(ploufragan, email_delays="1"))
    policy.refresh_from_db()
    assert policy.email_delays == [7] and policy.site == combs


def test_parse_delays():
    assert parse_delays("") == []
    assert parse_delays("45, 7,30") == [7, 30, 45]


def test_the_command_refuses_a_bad_date():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("send_reminders", "--date", "demain", stdout=io.StringIO())


def test_the_command_as_of_a_date(policy, invoice):
    out = io.StringIO()
    day = clock.TODAY + timedelta(days=7)
    call_command("send_reminders", "--date", day.isoformat(), stdout=out)
    assert "1 e-mail" in out.getvalue()
    assert Reminder.objects.get().created_on == day


def test_a_draft_is_never_reminded(policy, family):
    draft(family, due_date=clock.TODAY - timedelta(days=60))
    assert remind(clock.TODAY) == []
    assert timezone.localdate() == clock.TODAY


@pytest.mark.parametrize("level, online", [(1, True), (2, False)])
def test_the_e_mail_is_framed_and_valid_html(policy, invoice, combs, tmp_path, level, online):
    from billing.reminders import reminder_message

    from .test_html_valid import validate

    if online:
        simulator(combs)
    reminder = Reminder.objects.create(
        invoice=invoice,
        kind=EMAIL,
        level=level,
        amount=Decimal("186.00"),
        due_since=clock.TODAY,
        created_on=clock.TODAY,
    )
    message = reminder_message(reminder, "https://portail.example.org")
    html = next(content for content, mime in message.alternatives if mime == "text/html")
    assert html.startswith("<!DOCTYPE html>") and " style=" not in html
    assert message.body.startswith("Bonjour,") and message.body.rstrip().endswith(combs.email)
    assert message.subject.startswith("Nouvelle relance" if level > 1 else "Relance")
    assert ("Payer sur le portail" in html) is online
    assert "https://portail.example.org" + reverse("billing:statement") in message.body
    assert validate({"reminder": html}, tmp_path) == []


def test_no_link_of_the_reminder_screens_is_dead(policy, invoice, combs):
    from .test_billing_admin import links_of

    remind(clock.TODAY + timedelta(days=45))
    letter = Reminder.objects.get(kind=LETTER)
    secretary = signed_in(staff(combs, REMINDER_PERMISSIONS))
    pages = [
        reverse("admin:billing_reminder_changelist"),
        reverse("admin:billing_reminder_change", args=[letter.pk]),
        reverse("admin:billing_reminderpolicy_changelist"),
        reverse("admin:billing_reminder_debtors"),
    ]
    followed = set()
    for page in pages:
        response = secretary.get(page)
        assert response.status_code == 200, page
        for url in links_of(response.text, page):
            if url not in followed:
                followed.add(url)
                target = secretary.get(url, follow=True)
                assert target.status_code in {200, 403}, (page, url, target.status_code)
    assert reverse("admin:billing_reminder_letter", args=[letter.pk]) in {
        u.split("?")[0].replace("http://testserver", "") for u in followed
    }
