"""A pending online payment resumed or abandoned at once, a late
notification kept as the family's credit, carried over or refunded by the
secretariat, the return page of the payment it returns from, and the short
payment reference."""

import re
from datetime import timedelta
from decimal import Decimal
from urllib.parse import urlencode

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from billing import ledger, online
from billing.models import Invoice, OnlinePayment, Payment, Refund
from billing.statement import statement

from . import billing_data
from .factories import make_parent
from .test_billing import secretary

SHORT = re.compile(r"^PAY-[2-9A-HJKMNP-TW-Z]{4}-[2-9A-HJKMNP-TW-Z]{4}$")


@pytest.fixture
def two_invoices(parent, combs):
    billing_data.simulator(combs)
    return [
        billing_data.issued(parent.family, lines=[("Piano", "117.00")]),
        billing_data.issued(parent.family, lines=[("Location", "60.00")]),
    ]


def pay(client, invoices):
    response = client.post(reverse("billing:pay"), {"invoices": [i.pk for i in invoices]})
    assert response.status_code == 302, response
    return OnlinePayment.objects.latest("created_at"), response["Location"]


def bank_says_paid(site, started, amount=None):
    return Client().post(
        reverse("billing:payment_notification", args=[site.slug]),
        urlencode(
            {
                "transaction_id": started.transaction_id,
                "signed": "1",
                "ok": "1",
                "amount": amount or str(started.amount),
            }
        ),
        content_type="application/x-www-form-urlencoded",
    )


def messages_of(response):
    return [str(m) for m in response.context["messages"]]


def test_a_payment_left_at_the_bank_is_shown_and_resumed_at_the_same_transaction(
    parent_client, combs, two_invoices
):
    started, location = pay(parent_client, two_invoices)
    page = parent_client.get(reverse("billing:statement"))
    assert page.context["pending_payments"] == [started]
    assert "Reprendre le paiement" in page.text and started.short_reference in page.text
    # Paying again is refused, with what to do instead.
    again = parent_client.post(
        reverse("billing:pay"), {"invoices": [two_invoices[0].pk]}, follow=True
    )
    (message,) = messages_of(again)
    assert "reprenez-le ou abandonnez-le" in message and "quelques minutes" not in message
    # Resumed: back to the same transaction at the (simulated) bank.
    resumed = parent_client.post(reverse("billing:resume_payment", args=[started.reference]))
    assert resumed.status_code == 302 and resumed["Location"] == location
    assert OnlinePayment.objects.count() == 1


def test_a_payment_the_bank_cannot_resume_is_started_again(parent_client, combs, two_invoices):
    started, _location = pay(parent_client, two_invoices)
    OnlinePayment.objects.filter(pk=started.pk).update(resume_url="")  # A form-posting bank.
    resumed = parent_client.post(reverse("billing:resume_payment", args=[started.reference]))
    assert resumed.status_code == 302 and reverse("billing:simulated_bank") in resumed["Location"]
    started.refresh_from_db()
    new = OnlinePayment.objects.latest("created_at")
    assert started.status == OnlinePayment.Status.ABANDONED
    assert new != started and new.status == OnlinePayment.Status.PENDING
    assert new.amount == Decimal("177.00") and new.short_reference != started.short_reference


def test_a_payfip_operation_is_resumed_only_while_valid(parent, combs):
    started = OnlinePayment(
        backend="payfip_ws",
        resume_url="https://www.payfip.gouv.fr/tpa/paiementws.web?idop=x",
        created_at=timezone.now() - timedelta(minutes=10),
        expires_at=timezone.now() + timedelta(minutes=20),
    )
    assert online.can_resume(started)
    assert not online.can_resume(started, timezone.now() + timedelta(minutes=6))
    started.backend = "systempayv2"
    assert not online.can_resume(started)


def test_abandoned_at_once_then_paid_again_and_the_late_notification_becomes_credit(
    parent_client, parent, combs, two_invoices
):
    first, _location = pay(parent_client, two_invoices)
    response = parent_client.post(
        reverse("billing:abandon_payment", args=[first.reference]), follow=True
    )
    (message,) = messages_of(response)
    assert first.short_reference in message and "abandonné" in message
    first.refresh_from_db()
    assert first.status == OnlinePayment.Status.ABANDONED and first.completed_at
    assert response.context["pending_payments"] == []
    # A new payment starts at once, and is paid.
    second, _location = pay(parent_client, two_invoices)
    assert bank_says_paid(combs, second).status_code == 200
    # The bank had taken the first one after all: recorded, never lost.
    assert bank_says_paid(combs, first).status_code == 200
    first.refresh_from_db()
    assert first.status == OnlinePayment.Status.PAID
    assert first.payment.amount == Decimal("177.00") and not first.payment.allocations.exists()
    assert ledger.credit_of(parent.family) == Decimal("177.00")
    assert statement(parent.family)["balance"] == Decimal("177.00")
    page = parent_client.get(reverse("billing:statement"))
    assert "Crédit en votre faveur\u00a0: 177,00\u00a0€" in page.text
    # Abandoning what is no longer pending changes nothing.
    again = parent_client.post(
        reverse("billing:abandon_payment", args=[first.reference]), follow=True
    )
    assert "n’attend plus" in messages_of(again)[0]
    first.refresh_from_db()
    assert first.status == OnlinePayment.Status.PAID


def test_a_partly_paid_meanwhile_invoice_leaves_the_surplus_as_credit(
    parent_client, parent, combs, two_invoices
):
    started, _location = pay(parent_client, two_invoices)
    online.expire_abandoned(timezone.now() + timedelta(hours=1))
    ledger.record_payment(
        parent.family, Decimal("60.00"), Payment.Mode.CASH, [(two_invoices[1], Decimal("60.00"))]
    )
    assert bank_says_paid(combs, started).status_code == 200
    started.refresh_from_db()
    assert started.status == OnlinePayment.Status.PAID
    assert sum(a.amount for a in started.payment.allocations.all()) == Decimal("117.00")
    assert ledger.credit_of(parent.family) == Decimal("60.00")
    assert (
        "Crédit en votre faveur\u00a0: 60,00\u00a0€"
        in parent_client.get(reverse("billing:statement")).text
    )


def credit_family(parent, combs, amount="60.00"):
    invoice = billing_data.issued(parent.family, lines=[("Piano", "100.00")])
    return ledger.record_payment(
        parent.family,
        Decimal("100.00") + Decimal(amount),
        Payment.Mode.ONLINE_CARD,
        [(invoice, Decimal("100.00"))],
        reference="PAY-7K3Q-9M2X",
    )


def test_the_secretariat_sees_the_credit_and_refunds_it(parent, parent_client, combs):
    payment = credit_family(parent, combs)
    staff = secretary(combs)
    account = staff.get(reverse("admin:billing_familyaccount_change", args=[parent.family.pk]))
    assert account.status_code == 200
    text = account.content.decode()
    assert "60,00\u00a0€" in text and "enregistrer un remboursement" in text
    add = reverse("admin:billing_refund_add")
    assert f"{add}?payment={payment.pk}&amp;amount=60.00" in text
    # More than the credit is refused next to the field.
    today = timezone.localdate()
    form = {
        "payment": payment.pk,
        "amount": "70.00",
        "date": today.strftime("%d/%m/%Y"),
        "mode": Refund.Mode.CARD,
        "reference": "RB-1",
    }
    refused = staff.post(add, form)
    assert refused.status_code == 200 and "Seuls 60,00" in refused.content.decode()
    assert not Refund.objects.exists()
    form["amount"] = "60.00"
    assert staff.post(add, form).status_code == 302
    refund = Refund.objects.get()
    assert refund.amount == Decimal("60.00") and refund.recorded_by.username == "secretariat"
    assert ledger.credit_of(parent.family) == Decimal("0.00")
    found = statement(parent.family)
    assert found["paid"] == Decimal("100.00") and found["balance"] == Decimal("0.00")
    (line,) = [line for line in found["lines"] if line.label == "REMBOURSEMENT"]
    assert line.debit == Decimal("60.00") and line.number == "RB-1"
    page = parent_client.get(reverse("billing:statement"))
    assert "REMBOURSEMENT" in page.text and "Crédit en votre faveur" not in page.text
    # Nothing left to carry over or refund.
    assert ledger.apply_credit(parent.family) == Decimal("0.00")
    with pytest.raises(ValidationError):
        ledger.record_refund(payment, Decimal("0.01"), Refund.Mode.CARD)


def test_the_secretariat_carries_the_credit_over(parent, combs):
    credit_family(parent, combs)
    following = billing_data.issued(parent.family, lines=[("Location", "80.00")])
    staff = secretary(combs)
    staff.post(
        reverse("admin:billing_familyaccount_changelist"),
        {"action": "apply_credit", "_selected_action": [parent.family.pk]},
    )
    left = ledger.remaining(ledger.remaining_of(Invoice.objects.filter(pk=following.pk)).get())
    assert left == Decimal("20.00") and ledger.credit_of(parent.family) == Decimal("0.00")


def test_a_refund_of_a_partly_refunded_payment_counts_what_is_left(parent, combs):
    payment = credit_family(parent, combs)
    ledger.record_refund(payment, Decimal("20.00"), Refund.Mode.TRANSFER)
    assert ledger.credit_of(parent.family) == Decimal("40.00")
    with pytest.raises(ValidationError) as error:
        ledger.record_refund(payment, Decimal("40.01"), Refund.Mode.TRANSFER)
    assert error.value.code == "too_much"
    # The credit carried over is what the refunds left.
    billing_data.issued(parent.family, lines=[("B", "100.00")])
    assert ledger.apply_credit(parent.family) == Decimal("40.00")


def test_another_sites_secretariat_cannot_refund(parent, combs, ploufragan):
    payment = credit_family(parent, combs)
    staff = secretary(ploufragan, username="ploufragan")
    response = staff.post(
        reverse("admin:billing_refund_add"),
        {
            "payment": payment.pk,
            "amount": "10.00",
            "date": timezone.localdate().strftime("%d/%m/%Y"),
            "mode": Refund.Mode.CASH,
        },
    )
    assert response.status_code == 200 and not Refund.objects.exists()
    assert (
        staff.get(
            reverse("admin:billing_familyaccount_change", args=[parent.family.pk])
        ).status_code
        == 302
    )


def test_the_return_page_shows_the_payment_it_returns_from(parent_client, combs, two_invoices):
    first, _location = pay(parent_client, [two_invoices[0]])
    parent_client.post(reverse("billing:abandon_payment", args=[first.reference]))
    second, _location = pay(parent_client, [two_invoices[1]])
    assert (first.amount, second.amount) == (Decimal("117.00"), Decimal("60.00"))
    bank_says_paid(combs, first)
    for started, amount in [(first, "117,00"), (second, "60,00")]:
        page = parent_client.get(reverse("billing:payment_result", args=[started.reference]))
        assert page.context["online"] == started
        main = page.text.split("<main", 1)[1]
        assert f"{amount}\u00a0€" in main and started.short_reference in main
    # Back from the simulated bank: its page redirects to the right one.
    bank = parent_client.post(
        reverse("billing:simulated_bank"),
        {"transaction_id": second.transaction_id, "amount": "60.00", "pay": "1"},
    )
    assert bank["Location"] == reverse("billing:payment_result", args=[second.reference])
    # Nothing says which payment: the statement.
    assert parent_client.get(reverse("billing:payment_return"))["Location"] == reverse(
        "billing:statement"
    )


def test_a_strangers_payment_is_a_404(parent_client, combs, two_invoices):
    other_parent = make_parent(combs, username="voisin", family_name="Voisin")
    foreign_invoice = billing_data.issued(other_parent.family, lines=[("Violon", "50.00")])
    stranger = Client()
    stranger.force_login(other_parent)
    foreign, _location = pay(stranger, [foreign_invoice])
    assert (
        parent_client.get(reverse("billing:payment_result", args=[foreign.reference])).status_code
        == 404
    )
    assert (
        parent_client.get(
            reverse("billing:payment_return"),
            {"transaction_id": foreign.transaction_id, "signed": "1"},
        ).status_code
        == 404
    )
    for name in ["billing:resume_payment", "billing:abandon_payment"]:
        assert parent_client.post(reverse(name, args=[foreign.reference])).status_code == 404
        assert parent_client.get(reverse(name, args=[foreign.reference])).status_code == 405
    foreign.refresh_from_db()
    assert foreign.status == OnlinePayment.Status.PENDING
    # The owner's own.
    assert (
        stranger.get(reverse("billing:payment_result", args=[foreign.reference])).status_code == 200
    )


def test_short_references_are_readable_unique_and_on_the_receipt(
    parent_client, parent, combs, two_invoices
):
    started, _location = pay(parent_client, two_invoices)
    assert SHORT.match(started.short_reference), started.short_reference
    bank_says_paid(combs, started)
    started.refresh_from_db()
    assert started.payment.reference == started.short_reference
    assert len(started.transaction_id) >= 16  # The bank keeps its own id.
    (line,) = [line for line in statement(parent.family)["lines"] if line.label == "RÈGLEMENT"]
    assert line.number == started.short_reference
    codes = {OnlinePayment.new_short_reference(combs.pk) for _i in range(200)}
    assert len(codes) == 200 and all(SHORT.match(code) for code in codes)


def test_the_receipt_pdf_shows_the_short_reference(parent_client, combs, two_invoices):
    from .test_billing import pdf_text, response_bytes

    started, _location = pay(parent_client, two_invoices)
    bank_says_paid(combs, started)
    started.refresh_from_db()
    pdf = parent_client.get(reverse("billing:receipt_pdf", args=[started.payment.pk]))
    assert started.short_reference in pdf_text(response_bytes(pdf))


def test_statement_queries_do_not_grow_with_payments_refunds_and_pending(combs):
    billing_data.simulator(combs)
    counts = []
    for size, username in [(1, "petite"), (6, "grande")]:
        parent = make_parent(combs, username=username, family_name=username.title())
        for _i in range(size):
            invoice = billing_data.issued(parent.family)
            payment = ledger.record_payment(
                parent.family, Decimal("30.00"), Payment.Mode.CASH, [(invoice, Decimal("10.00"))]
            )
            ledger.record_refund(payment, Decimal("5.00"), Refund.Mode.CASH)
            online.start(parent.family, [invoice], parent, "a@example.org", "http://testserver")
        client = Client()
        client.force_login(parent)
        with CaptureQueriesContext(connection) as queries:
            page = client.get(reverse("billing:statement"))
        assert len(page.context["lines"]) == 3 * size
        assert len(page.context["pending_payments"]) == size
        assert page.context["credit"] == Decimal("15.00") * size
        counts.append(len(queries))
        year_page = client.get(reverse("billing:statement"), {"annee": "0"})
        assert year_page.context["credit"] == page.context["credit"]
    assert counts[0] == counts[1], counts
