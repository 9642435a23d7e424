"""Pre-notification: the family is told the dates and amounts of its coming
debits, with the RUM and the ICS, before the first debit and again when an
amount changes; a batch takes only what was told in time."""

import io
from datetime import date
from decimal import Decimal

import pytest
from django.core import mail
from django.core.management import call_command

from billing import ledger
from billing.models import Instalment, Payment
from directdebit.batches import survey
from directdebit.prenotification import prenotify
from families.models import Family

from .test_debit_batches import Y, at, family_paying, make_scene, prepared


@pytest.fixture
def scene(combs):
    return make_scene(combs)


def notices():
    return [m for m in mail.outbox if m.subject.startswith("Vos prochains prélèvements")]


def told(scene):
    return list(scene["invoice"].instalments.values_list("notified_amount", "notified_on"))


# The real worker closes its connection: committed data, as in production.
@pytest.mark.django_db(transaction=True)
def test_the_first_notice_lists_the_schedule_with_rum_and_ics(scene, run_worker, tmp_path):
    from .test_html_valid import validate

    with at(9, 10):
        call_command("prenotify_debits", stdout=io.StringIO())
    run_worker()
    (message,) = notices()
    assert message.to == [f"martin.{scene['site'].slug}@example.org"]
    assert message.subject == f"Vos prochains prélèvements – {scene['site'].name}"
    body = message.body
    assert body.startswith("Bonjour,")
    assert "Au titre de votre mandat de prélèvement SEPA, Régie du conservatoire" in body
    assert f"5 octobre {Y}\u00a0: 30,00\u00a0€" in body
    assert f"5 juillet {Y + 1}\u00a0: 30,00\u00a0€" in body
    assert body.count("30,00\u00a0€") == 10
    assert "Total\u00a0: 300,00\u00a0€" in body
    assert f"Référence unique du mandat (RUM)\u00a0: {scene['mandate'].rum}" in body
    assert "Identifiant créancier SEPA (ICS)\u00a0: FR72ZZZ123456" in body
    assert scene["mandate"].iban not in body  # Masked.
    html = message.alternatives[0][0]
    assert scene["mandate"].rum in html
    assert validate({"prenotification": html}, tmp_path) == []
    assert told(scene) == [(Decimal("30.00"), date(Y, 9, 10))] * 10


# The real worker closes its connection: committed data, as in production.
@pytest.mark.django_db(transaction=True)
def test_nothing_is_sent_again_while_nothing_changes(scene, run_worker):
    with at(9, 10):
        first = prenotify(scene["creditor"])
    with at(9, 11):
        second = prenotify(scene["creditor"])
    run_worker()
    assert (first.notified, first.instalments) == (1, 10)
    assert (second.notified, second.instalments) == (0, 0)
    assert len(notices()) == 1


# The real worker closes its connection: committed data, as in production.
@pytest.mark.django_db(transaction=True)
def test_a_changed_amount_is_told_again_and_waits_its_notice(scene, run_worker):
    with at(9, 10):
        prenotify(scene["creditor"])
    # 40 € paid by cheque: October's instalment is covered, 20 € left of November's.
    ledger.record_payment(
        scene["family"], Decimal("40.00"), Payment.Mode.CHEQUE, [(scene["invoice"], 40)]
    )
    with at(10, 25):
        summary = prenotify(scene["creditor"])
    assert (summary.notified, summary.instalments) == (1, 1)
    run_worker()
    notice = notices()[-1]
    assert len(notices()) == 2
    # November's: told on 25 October, debited 14 days later at the earliest.
    assert "8 novembre" in notice.body and "20,00\u00a0€" in notice.body
    assert "montant modifié, auparavant 30,00\u00a0€" in notice.body
    assert f"5 décembre {Y}\u00a0: 30,00\u00a0€" in notice.body
    rows = told(scene)
    assert rows[1] == (Decimal("20.00"), date(Y, 10, 25))
    assert rows[2] == (Decimal("30.00"), date(Y, 9, 10))  # Unchanged: told before.
    with at(11, 1):
        waiting = survey(scene["site"].pk, date(Y, 11, 5), scene["creditor"])
    assert waiting.count == 0
    assert [(d.instalment.position, d.amount) for d in waiting.postponed] == [(2, Decimal("20.00"))]
    batch, preparation = prepared(scene, date(Y, 11, 8))
    assert [d.amount for d in batch.debits.all()] == [Decimal("20.00")]


def test_told_fourteen_days_before_at_the_latest(scene):
    creditor = scene["creditor"]
    with at(9, 21):  # Exactly 14 days before 5 October.
        prenotify(creditor)
    with at(10, 1):
        on_time = survey(scene["site"].pk, date(Y, 10, 5), creditor)
    assert on_time.count == 1 and on_time.postponed == []
    creditor.prenotice_days = 20
    creditor.save()
    with at(10, 1):
        late = survey(scene["site"].pk, date(Y, 10, 5), creditor)
    assert late.count == 0 and len(late.postponed) == 1


# The real worker closes its connection: committed data, as in production.
@pytest.mark.django_db(transaction=True)
def test_a_family_without_address_is_not_told_and_waits(scene, run_worker):
    family = scene["family"]
    family.accounts.update(email="")
    Family.objects.filter(pk=family.pk).update(reference_email="")
    with at(9, 10):
        summary = prenotify(scene["creditor"])
    run_worker()
    assert (summary.notified, summary.without_address) == (0, 1)
    assert notices() == []
    assert not Instalment.objects.filter(notified_on__isnull=False).exists()


def test_only_families_paying_by_direct_debit_are_told(scene, combs, run_worker):
    family_paying(combs, scene["year"], scene["plans"][10], "sans", with_mandate=False)
    with at(9, 10):
        summary = prenotify(scene["creditor"])
    assert summary.notified == 1
    assert Instalment.objects.filter(notified_on__isnull=False).count() == 10


def test_prenotification_queries_do_not_grow(scene, combs, django_assert_max_num_queries):
    for n in range(3):
        family_paying(combs, scene["year"], scene["plans"][10], f"famille{n}")
    with at(9, 10), django_assert_max_num_queries(20):
        summary = prenotify(scene["creditor"])
    assert summary.notified == 4
