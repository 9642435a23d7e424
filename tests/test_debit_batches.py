"""Remises de prélèvements: what is due, the pain.008 file (read back and
validated against the official schema), sequence types, amendments,
collection as payments, and the secretariat's screens."""

import io
import threading
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection, connections
from django.urls import reverse
from lxml import etree

from billing import ledger
from billing.models import Instalment, Payment
from billing.statement import statement
from directdebit import mandates, pain008
from directdebit.batches import BatchRefused, collect, prepare, survey
from directdebit.debits import due_debits
from directdebit.models import Batch, Debit, Mandate
from directdebit.prenotification import prenotify
from fees.models import InstalmentPlan, PlanChoice

from . import clock, factories

NS = {"p": pain008.NS}
Y = clock.THIS_YEAR


def at(month, day_, year=Y):
    """Travel to that day, 10:00 in Paris (the school year of the suite)."""
    return time_machine.travel(datetime(year, month, day_, 10, tzinfo=clock.PARIS), tick=False)


def family_paying(site, year, plan, username, total="300.00", with_mandate=True, **mandate):
    """A family on `plan`, its invoice issued on 1 September (so the 10× plan
    gives ten instalments from 5 October) and, by default, an active mandate."""
    parent = factories.make_parent(site, username=username, family_name=username.title())
    PlanChoice.objects.create(family=parent.family, school_year=year, plan=plan)
    invoice = ledger.issue(
        factories.draft(parent.family, school_year=year, lines=(("Cursus", total),)),
        today=date(Y, 9, 1),
    )
    found = factories.mandate(parent.family, **mandate) if with_mandate else None
    return parent.family, invoice, found


@pytest.fixture
def scene(combs):
    return make_scene(combs)


def make_scene(combs):
    """The 1×/3×/10× plans, this school year, the site as creditor, and the
    Martin family on the 10× plan (300 €) with an active mandate."""
    plans = factories.instalment_plans(combs)
    year = factories.school_year(combs)
    creditor = factories.creditor(combs)
    family, invoice, mandate = family_paying(combs, year, plans[10], "martin")
    return {
        "site": combs,
        "plans": plans,
        "year": year,
        "creditor": creditor,
        "family": family,
        "invoice": invoice,
        "mandate": mandate,
    }


def notified(scene, when=(9, 10)):
    with at(*when):
        prenotify(scene["creditor"])


def prepared(scene, collection_date, today=None):
    today = today or collection_date - timedelta(days=3)
    with at(today.month, today.day, today.year):
        return prepare(scene["site"], collection_date)


def read(batch):
    with batch.file.open("rb") as stored:
        content = stored.read()
    pain008.validate(content)  # The official schema, again, on what was stored.
    return etree.fromstring(content)


def transactions(root):
    return root.findall(".//p:DrctDbtTxInf", NS)


def sequence_of(info):
    return info.getparent().findtext("p:PmtTpInf/p:SeqTp", namespaces=NS)


# What is due.


def test_due_debits_follow_the_plan_mandate_and_what_is_paid(scene, combs):
    plans, year = scene["plans"], scene["year"]
    # A plan without direct debit, or no mandate: not debited.
    cheques = InstalmentPlan.objects.create(
        site=combs, name="Chèques", instalments=3, first_month=10, day=5, modes=["cheque"]
    )
    family_paying(combs, year, cheques, "cheques")
    family_paying(combs, year, plans[10], "nomandate", with_mandate=False)
    invoice = scene["invoice"]
    assert [i.amount for i in invoice.instalments.all()] == [Decimal("30.00")] * 10
    dues = due_debits(combs.pk, date(Y, 11, 5))
    assert [(d.instalment.position, d.amount, d.mandate) for d in dues] == [
        (1, Decimal("30.00"), scene["mandate"]),
        (2, Decimal("30.00"), scene["mandate"]),
    ]
    # 40 € paid by cheque: the first instalment is covered, 20 € of the second.
    ledger.record_payment(scene["family"], Decimal("40.00"), Payment.Mode.CHEQUE, [(invoice, 40)])
    dues = due_debits(combs.pk, date(Y, 11, 5))
    assert [(d.instalment.position, d.amount) for d in dues] == [(2, Decimal("20.00"))]
    # At the bank: not presented again.
    Instalment.objects.filter(invoice=invoice, position=2).update(debit_pending=True)
    assert due_debits(combs.pk, date(Y, 11, 5)) == []


def test_due_debits_queries_do_not_grow(scene, combs, django_assert_num_queries):
    for n in range(3):
        family_paying(combs, scene["year"], scene["plans"][10], f"famille{n}")
    with django_assert_num_queries(4):  # Plans, invoices, mandates, instalments.
        dues = due_debits(combs.pk, date(Y + 1, 7, 5))
    assert len(dues) == 40


# Preparing a batch.


def test_a_batch_file_reads_back_and_follows_the_schema(scene):
    notified(scene)
    batch, preparation = prepared(scene, date(Y, 10, 5))
    assert (batch.count, batch.total) == (1, Decimal("30.00"))
    root = read(batch)
    header = root.find("p:CstmrDrctDbtInitn/p:GrpHdr", NS)
    assert header.findtext("p:MsgId", namespaces=NS) == batch.message_id
    assert header.findtext("p:NbOfTxs", namespaces=NS) == "1"
    assert header.findtext("p:CtrlSum", namespaces=NS) == "30.00"
    info = root.find(".//p:PmtInf", NS)
    assert info.findtext("p:ReqdColltnDt", namespaces=NS) == f"{Y}-10-05"
    assert info.findtext("p:PmtTpInf/p:LclInstrm/p:Cd", namespaces=NS) == "CORE"
    scheme_id = "p:CdtrSchmeId/p:Id/p:PrvtId/p:Othr/p:Id"
    assert info.findtext(scheme_id, namespaces=NS) == "FR72ZZZ123456"
    (tx,) = transactions(root)
    debit = batch.debits.get()
    assert tx.findtext("p:PmtId/p:EndToEndId", namespaces=NS) == debit.end_to_end_id
    assert len(debit.end_to_end_id) <= 35
    assert tx.findtext("p:InstdAmt", namespaces=NS) == "30.00"
    assert tx.findtext(".//p:MndtId", namespaces=NS) == scene["mandate"].rum
    assert tx.findtext("p:DbtrAcct/p:Id/p:IBAN", namespaces=NS) == scene["mandate"].iban
    assert scene["invoice"].number in tx.findtext("p:RmtInf/p:Ustrd", namespaces=NS)
    assert Instalment.objects.get(pk=debit.instalment_id).debit_pending


def test_an_invalid_file_is_refused_by_the_schema():
    with pytest.raises(pain008.InvalidFile):
        pain008.validate(b"<Document xmlns='urn:iso:std:iso:20022:tech:xsd:pain.008.001.02'/>")


def test_sequence_types_across_a_mandates_life(scene, combs):
    notified(scene)
    first, _ = prepared(scene, date(Y, 10, 5))
    assert first.debits.get().sequence == Debit.Sequence.FIRST
    assert sequence_of(transactions(read(first))[0]) == "FRST"
    second, _ = prepared(scene, date(Y, 11, 5))
    assert second.debits.get().sequence == Debit.Sequence.RECURRENT
    assert sequence_of(transactions(read(second))[0]) == "RCUR"

    # Another family, whose mandate came later: its first debits are rejected,
    # the next ones are FRST again.
    family, _invoice, _mandate = family_paying(combs, scene["year"], scene["plans"][10], "dupont")
    notified(scene, (10, 10))
    third, _ = prepared(scene, date(Y, 12, 5), today=date(Y, 11, 28))
    sequences = {(d.mandate.family_id, d.sequence) for d in third.debits.select_related("mandate")}
    assert sequences == {(scene["family"].pk, "RCUR"), (family.pk, "FRST")}
    rejected = third.debits.filter(mandate__family=family)
    assert rejected.count() == 3  # October's to December's.
    Instalment.objects.filter(debits__in=rejected).update(debit_pending=False)
    rejected.update(status=Debit.Status.REJECTED)
    fourth, _ = prepared(scene, date(Y + 1, 1, 5), today=date(Y, 12, 28))
    again = fourth.debits.filter(mandate__family=family).order_by("instalment__position")
    # The rejected instalments come up again, with January's, all FRST.
    assert [(d.instalment.position, d.sequence) for d in again] == [
        (1, "FRST"),
        (2, "FRST"),
        (3, "FRST"),
        (4, "FRST"),
    ]
    assert {sequence_of(tx) for tx in transactions(read(fourth))} == {"FRST", "RCUR"}


def amend(mandate, iban, bic):
    """What the mandate pages do when the family gives another account."""
    Mandate.objects.filter(pk=mandate.pk).update(
        original_iban=mandate.iban, original_bic=mandate.bic, iban=iban, bic=bic
    )


def amendment_of(tx):
    return tx.find("p:DrctDbtTx/p:MndtRltdInf", NS)


def test_an_amendment_is_reported_once(scene):
    notified(scene)
    prepared(scene, date(Y, 10, 5))
    mandate = scene["mandate"]
    old_iban = mandate.iban
    # Another account at the same bank (Crédit Agricole, bank code 30006).
    amend(mandate, "FR7630006000019876543210173", "AGRIFRPPXXX")
    batch, _ = prepared(scene, date(Y, 11, 5))
    (tx,) = transactions(read(batch))
    related = amendment_of(tx)
    assert related.findtext("p:MndtId", namespaces=NS) == mandate.rum
    assert related.findtext("p:AmdmntInd", namespaces=NS) == "true"
    assert related.findtext("p:AmdmntInfDtls/p:OrgnlDbtrAcct/p:Id/p:IBAN", namespaces=NS) == (
        old_iban
    )
    assert tx.findtext("p:DbtrAcct/p:Id/p:IBAN", namespaces=NS) == "FR7630006000019876543210173"
    assert sequence_of(tx) == "RCUR"  # Same bank: still recurrent.
    debit = batch.debits.get()
    assert debit.amendment["original_iban"] == old_iban
    mandate.refresh_from_db()
    assert (mandate.original_iban, mandate.original_bic) == ("", "")
    # Reported: not again.
    batch, _ = prepared(scene, date(Y, 12, 5))
    (tx,) = transactions(read(batch))
    assert amendment_of(tx).find("p:AmdmntInd", NS) is None
    assert batch.debits.get().amendment == {}


def test_an_account_at_another_bank_is_smnda_and_frst(scene):
    notified(scene)
    prepared(scene, date(Y, 10, 5))
    # La Banque Postale (bank code 20041): another bank.
    amend(scene["mandate"], "FR1420041010050500013M02606", "PSSTFRPPPAR")
    batch, _ = prepared(scene, date(Y, 11, 5))
    (tx,) = transactions(read(batch))
    details = amendment_of(tx).find("p:AmdmntInfDtls", NS)
    assert details.findtext("p:OrgnlDbtrAgt/p:FinInstnId/p:Othr/p:Id", namespaces=NS) == "SMNDA"
    assert sequence_of(tx) == "FRST"
    assert batch.debits.get().amendment["new_bank"] is True


def test_a_second_batch_for_the_same_date_is_refused_and_changes_nothing(scene):
    notified(scene)
    batch, _ = prepared(scene, date(Y, 10, 5))
    # Something else falls due meanwhile: still refused.
    Instalment.objects.filter(pk=batch.debits.get().instalment_id).update(debit_pending=False)
    with pytest.raises(BatchRefused) as refused:
        prepared(scene, date(Y, 10, 5))
    assert "Une remise existe déjà pour le 5 octobre" in refused.value.messages[0]
    assert "téléchargez-la à nouveau" in refused.value.messages[0]
    assert Batch.objects.count() == 1
    assert Debit.objects.count() == 1


def test_nothing_due_no_creditor_or_a_past_date_is_refused(scene, combs, ploufragan):
    notified(scene)
    with pytest.raises(BatchRefused, match="Aucun prélèvement"):
        prepared(scene, date(Y, 10, 4))
    with pytest.raises(BatchRefused, match="créancier"), at(10, 1):
        prepare(ploufragan, date(Y, 10, 5))
    with pytest.raises(BatchRefused, match="postérieure"), at(10, 6):
        prepare(combs, date(Y, 10, 5))
    assert Batch.objects.count() == 0
    assert not Instalment.objects.filter(debit_pending=True).exists()


def test_not_notified_in_time_is_postponed(scene):
    notified(scene, (9, 25))  # Ten days before 5 October: too late for it.
    creditor = scene["creditor"]
    with at(10, 1):
        preparation = survey(scene["site"].pk, date(Y, 10, 5), creditor)
        assert preparation.count == 0
        assert [d.instalment.position for d in preparation.postponed] == [1]
        with pytest.raises(BatchRefused) as refused:
            prepare(scene["site"], date(Y, 10, 5))
    assert "pas été informée" in refused.value.messages[0]
    # Fourteen days after the notice: taken.
    batch, preparation = prepared(scene, date(Y, 10, 9))
    assert batch.count == 1 and preparation.postponed == []


def test_a_changed_amount_waits_for_a_new_notice(scene):
    notified(scene)
    Instalment.objects.filter(invoice=scene["invoice"], position=1).update(amount=Decimal("25"))
    with at(10, 1):
        preparation = survey(scene["site"].pk, date(Y, 10, 5), scene["creditor"])
    assert preparation.count == 0 and len(preparation.postponed) == 1


def test_the_stored_file_is_what_is_downloaded_again(scene):
    notified(scene)
    batch, _ = prepared(scene, date(Y, 10, 5))
    with batch.file.open("rb") as stored:
        content = stored.read()
    staff = factories.signed_in(secretary(scene["site"]))
    response = staff.get(reverse("admin:directdebit_batch_file", args=[batch.pk]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == content
    assert response["Content-Type"] == "application/xml"


# Collection.


def test_collection_records_payments_once(scene, run_worker):
    notified(scene)
    batch, _ = prepared(scene, date(Y, 10, 5))
    with at(10, 4):
        assert collect().debits == 0  # Not yet.
    with at(10, 5):
        summary = collect()
        assert (summary.debits, summary.batches) == (1, 1)
        assert collect().debits == 0  # Twice: nothing more.
        call_command("collect_debits", stdout=io.StringIO())
    debit = batch.debits.select_related("payment", "instalment", "mandate").get()
    assert debit.status == Debit.Status.COLLECTED
    payment = debit.payment
    assert (payment.mode, payment.amount) == ("direct_debit", Decimal("30.00"))
    assert payment.date == date(Y, 10, 5)
    assert payment.reference == debit.end_to_end_id
    assert [a.invoice_id for a in payment.allocations.all()] == [scene["invoice"].pk]
    assert not debit.instalment.debit_pending
    assert debit.mandate.last_debit_on == date(Y, 10, 5)
    batch.refresh_from_db()
    assert batch.collected_at is not None
    assert Payment.objects.count() == 1
    found = statement(scene["family"])
    (line,) = [line for line in found["lines"] if line.credit is not None]
    assert (line.number, line.credit, line.date) == (
        debit.end_to_end_id,
        Decimal("30.00"),
        date(Y, 10, 5),
    )
    assert found["paid"] == Decimal("30.00")


def test_a_debit_under_a_mandate_revoked_since_is_still_collected(scene):
    notified(scene)
    batch, _ = prepared(scene, date(Y, 10, 5))
    Mandate.objects.filter(pk=scene["mandate"].pk).update(status=Mandate.Status.REVOKED)
    with at(10, 5):
        assert collect().debits == 1
    assert batch.debits.get().status == Debit.Status.COLLECTED


def test_collected_instalments_are_not_due_again(scene):
    notified(scene)
    prepared(scene, date(Y, 10, 5))
    with at(10, 5):
        collect()
    dues = due_debits(scene["site"].pk, date(Y, 11, 5))
    assert [d.instalment.position for d in dues] == [2]


# RUM uniqueness.


@pytest.mark.django_db(transaction=True)
def test_mandates_signed_at_once_get_different_rums(combs):
    families = [factories.make_parent(combs, username=f"p{n}").family for n in range(8)]
    pending = [
        Mandate(
            site=combs,
            family=f,
            holder_name="Claire",
            holder_address="3 rue des Lilas",
            iban="FR7630006000011234567890189",
            bic="AGRIFRPPXXX",
        )
        for f in families
    ]
    errors = []

    def sign(mandate):
        try:
            mandates.activate(mandate)
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=sign, args=(m,)) for m in pending]
    if connection.vendor == "postgresql":
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    else:  # SQLite serialises writers: the same check, one after the other.
        for mandate in pending:
            sign(mandate)
    assert errors == []
    rums = list(Mandate.objects.values_list("rum", flat=True))
    assert len(set(rums)) == len(rums) == 8


# The secretariat's screens.


def secretary(site, username="secretariat"):
    return factories.staff(
        site,
        ["view_batch", "add_batch", "view_creditor", "change_creditor"],
        username=username,
    )


def test_secretary_prepares_a_batch_from_the_admin(scene):
    notified(scene)
    url = reverse("admin:directdebit_batch_prepare")
    with at(10, 1):
        # Signed in on the day itself: a session opened on another day would have expired.
        staff = factories.signed_in(secretary(scene["site"]))
        page = staff.post(url, {"collection_date": f"{Y}-10-05", "preview": "1"})
        assert page.status_code == 200
        assert "1 prélèvement le 5 octobre" in page.text
        assert "30,00" in page.text
        assert Batch.objects.count() == 0
        done = staff.post(url, {"collection_date": f"{Y}-10-05", "confirm": "1"})
        batch = Batch.objects.get()
        assert done.status_code == 302
        assert done["Location"] == reverse("admin:directdebit_batch_change", args=[batch.pk])
        assert batch.created_by.username == "secretariat"
        detail = staff.get(done["Location"])
        assert detail.status_code == 200
        assert scene["mandate"].rum in detail.text
        assert "Télécharger le fichier" in detail.text
        again = staff.post(url, {"collection_date": f"{Y}-10-05", "confirm": "1"})
    assert again.status_code == 200
    assert "Une remise existe déjà" in again.text
    assert 'id="id_collection_date_errors"' in again.text
    assert Batch.objects.count() == 1


def test_the_prepare_page_needs_the_add_permission(scene):
    viewer = factories.staff(scene["site"], ["view_batch"], username="viewer")
    page = factories.signed_in(viewer).get(reverse("admin:directdebit_batch_prepare"))
    assert page.status_code == 403


def test_staff_of_another_site_get_a_404(scene, ploufragan):
    notified(scene)
    batch, _ = prepared(scene, date(Y, 10, 5))
    stranger = factories.signed_in(secretary(ploufragan, username="ploufragan"))
    for name in ["admin:directdebit_batch_change", "admin:directdebit_batch_file"]:
        assert stranger.get(reverse(name, args=[batch.pk])).status_code == 404
    listing = stranger.get(reverse("admin:directdebit_batch_changelist"))
    assert list(listing.context["cl"].result_list) == []


def test_batch_pages_queries_do_not_grow(scene, combs, django_assert_max_num_queries):
    for n in range(3):
        family_paying(combs, scene["year"], scene["plans"][10], f"famille{n}")
    notified(scene)
    staff = factories.signed_in(secretary(combs))
    batch, _ = prepared(scene, date(Y, 10, 5))
    prepared(scene, date(Y, 11, 5))
    with django_assert_max_num_queries(12):
        assert staff.get(reverse("admin:directdebit_batch_changelist")).status_code == 200
    with django_assert_max_num_queries(14):
        page = staff.get(reverse("admin:directdebit_batch_change", args=[batch.pk]))
        assert page.status_code == 200
    for debit in batch.debits.select_related("mandate"):
        assert debit.mandate.rum in page.text
    with at(12, 1):
        staff = factories.signed_in(secretary(combs, username="secretariat2"))
    with at(12, 1), django_assert_max_num_queries(16):
        page = staff.post(
            reverse("admin:directdebit_batch_prepare"),
            {"collection_date": f"{Y}-12-05", "preview": "1"},
        )
    assert "4 prélèvements" in page.text


def test_creditor_admin_checks_the_ics(combs):
    staff = factories.signed_in(secretary(combs))
    creditor = factories.creditor(combs)
    url = reverse("admin:directdebit_creditor_change", args=[creditor.pk])
    page = staff.post(
        url,
        {
            "site": combs.pk,
            "name": "Régie",
            "address": "1 place",
            "ics": "FR00ZZZ000000",
            "iban": creditor.iban,
            "bic": creditor.bic,
            "prenotice_days": 14,
            "rejection_fee": "0",
        },
    )
    assert page.status_code == 200
    assert "ICS" in page.text
    creditor.refresh_from_db()
    assert creditor.name == "Régie du conservatoire"


def test_bad_input_is_a_validation_error():
    assert issubclass(BatchRefused, ValidationError)


def test_the_debit_batch_benchmark_runs(db):
    """bench/debit_batch.py on 5 families: it prepares their batch and cleans up."""
    from bench import debit_batch

    out = io.StringIO()
    assert debit_batch.main(["--families", "5"], stdout=out) == 0
    assert "5 debits" in out.getvalue()
    assert not Batch.objects.exists() and not Mandate.objects.exists()
