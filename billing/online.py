"""Online payment through eopayment (PayFiP, PayZen/SystemPay, and a
simulated bank for development): starting a payment, and recording it when
the bank's server says it is paid — never from the family's return."""

import logging
import secrets
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from urllib.parse import urlsplit

import eopayment
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from extranet.money import money

from .ledger import lock, record_payment, remaining, remaining_of
from .models import Invoice, OnlinePayment, Payment, PaymentGateway

logger = logging.getLogger(__name__)


class NotificationError(Exception):
    """A notification that must not record anything (bad signature, unknown
    reference, wrong amount)."""


def gateway_for(site):
    """The site's (or site id's) active online payment service, or None. The
    simulated bank only where PAYMENT_SIMULATOR is on (development, tests)."""
    gateway = PaymentGateway.objects.filter(site=site, is_active=True).first()
    if gateway is None:
        return None
    if gateway.backend == PaymentGateway.Backend.DUMMY and not settings.PAYMENT_SIMULATOR:
        return None
    return gateway


# How long a family can go back to the same transaction at the bank, by
# backend; the others start a new transaction. PayFiP's operation ids are
# valid for 15 minutes; the simulated bank's, as long as the payment is pending.
RESUMABLE = {
    PaymentGateway.Backend.PAYFIP: timedelta(minutes=15),
    PaymentGateway.Backend.DUMMY: None,
}


def backend(gateway, base_url, online=None):
    """The eopayment backend, with the site's secrets from the settings. The
    family comes back to the page of `online` (its reference in the path:
    banks add their own query string)."""
    site = gateway.site
    return_url = (
        reverse("billing:payment_result", args=[online.reference])
        if online is not None
        else reverse("billing:payment_return")
    )
    options = {
        **gateway.options,
        **settings.PAYMENT_SECRETS.get(site.slug, {}),
        "normal_return_url": f"{base_url}{return_url}",
        "automatic_return_url": base_url
        + reverse("billing:payment_notification", args=[site.slug]),
    }
    if gateway.backend == PaymentGateway.Backend.DUMMY:
        options["origin"] = site.name
    payment = eopayment.Payment(gateway.backend, options, logger=logger)
    if gateway.backend == PaymentGateway.Backend.PAYFIP and settings.PAYFIP_WSDL_URL:
        from eopayment.payfip_ws import PayFiP

        payment.backend.payfip = PayFiP(wsdl_url=settings.PAYFIP_WSDL_URL)
    return payment


def start(family, invoices, user, email, base_url):
    """Record a pending payment of what is left on `invoices` and return
    (online payment, kind, data) for the bank: a URL to go to or a form.
    The bank is asked outside any transaction: a slow bank holds no lock."""
    gateway = gateway_for(family.site)
    if gateway is None:
        raise ValidationError(_("Online payment is not available."), code="unavailable")
    online, current = reserve(family, gateway, invoices, user)
    try:
        transaction_id, kind, data = backend(gateway, base_url, online).request(
            online.amount,
            email=email,
            orderid=online.reference,
            subject=_("Invoices %(numbers)s") % {"numbers": ", ".join(i.number for i in current)},
        )
    except Exception:
        # Nobody reached the bank's page: the invoices can be paid again at once.
        logger.warning("Online payment %s could not be started", online.reference, exc_info=True)
        OnlinePayment.objects.filter(pk=online.pk, status=OnlinePayment.Status.PENDING).update(
            status=OnlinePayment.Status.REFUSED, completed_at=timezone.now()
        )
        raise
    online.transaction_id = transaction_id
    if gateway.backend == PaymentGateway.Backend.DUMMY and kind == eopayment.URL:
        # eopayment's dummy backend always points at Entr'ouvert's service:
        # the simulated bank is this server's own page.
        data = f"{base_url}{reverse('billing:simulated_bank')}?{urlsplit(data).query}"
    if kind == eopayment.URL and gateway.backend in RESUMABLE and len(data) <= 500:
        online.resume_url = data
    online.save(update_fields=["transaction_id", "resume_url"])
    return online, kind, data


def can_resume(online, now=None):
    """Whether the bank still takes the family back to the same transaction."""
    now = now or timezone.now()
    if not online.resume_url or online.backend not in RESUMABLE or online.expires_at <= now:
        return False
    lifetime = RESUMABLE[online.backend]
    return lifetime is None or online.created_at + lifetime > now


def pending_of(family):
    """The family's payments waiting for the bank, which hold their invoices
    (a new payment of them is refused meanwhile), newest first."""
    return (
        OnlinePayment.objects.filter(
            family=family, status=OnlinePayment.Status.PENDING, expires_at__gt=timezone.now()
        )
        .prefetch_related("invoices")
        .order_by("-created_at")
    )


def abandon(online):
    """The family gives up a pending payment: its invoices can be paid again
    at once. A notification of success that still comes is recorded (what
    is paid twice stays to the family's credit). Returns whether it was
    still pending."""
    with transaction.atomic():
        # The notification holds this lock while it records the payment.
        current = OnlinePayment.objects.select_for_update().get(pk=online.pk)
        if current.status != OnlinePayment.Status.PENDING:
            return False
        current.status = OnlinePayment.Status.ABANDONED
        current.completed_at = timezone.now()
        current.save(update_fields=["status", "completed_at"])
    return True


def resume(online, user, email, base_url):
    """Back to the bank for a pending payment: the same transaction while the
    bank allows it, else the pending one is abandoned and a new one started
    for what is still left on its invoices. Returns like start()."""
    with transaction.atomic():
        current = OnlinePayment.objects.select_for_update().get(pk=online.pk)
        if current.status != OnlinePayment.Status.PENDING:
            raise ValidationError(
                _("This payment is no longer waiting for the bank."), code="not_pending"
            )
        if can_resume(current):
            return current, eopayment.URL, current.resume_url
    abandon(current)
    invoices = [
        invoice
        for invoice in remaining_of(current.invoices.filter(status=Invoice.Status.ISSUED))
        if remaining(invoice) > 0
    ]
    if not invoices:
        raise ValidationError(_("These invoices have nothing left to pay."), code="paid")
    return start(current.family, invoices, user, email, base_url)


def reserve(family, gateway, invoices, user):
    """The pending payment of what is left on `invoices`, unless one of them
    is already being paid. The invoices' rows stay locked until the pending
    payment is committed: of two tabs paying at once, the second waits, then
    sees the first's payment in progress."""
    ids = [invoice.pk for invoice in invoices]
    with transaction.atomic():
        lock(Invoice.objects.filter(family=family, pk__in=ids))
        # Read after the lock: only a later query sees what the first tab committed.
        current = list(
            remaining_of(
                Invoice.objects.issued().filter(
                    family=family, kind=Invoice.Kind.INVOICE, pk__in=ids
                )
            )
        )
        if not current or len(current) != len(invoices):
            raise ValidationError(_("Choose invoices of your family to pay."), code="foreign")
        if OnlinePayment.objects.filter(
            status=OnlinePayment.Status.PENDING, expires_at__gt=timezone.now(), invoices__in=current
        ).exists():
            raise ValidationError(
                _(
                    "A payment of these invoices is waiting for the bank: resume it "
                    "or abandon it below, then pay again."
                ),
                code="in_progress",
            )
        amount = money(sum((remaining(i) for i in current), Decimal(0)))
        if any(remaining(i) <= 0 for i in current) or amount <= 0:
            raise ValidationError(_("One of these invoices has nothing left to pay."), code="paid")
        online = OnlinePayment.objects.create(
            site=family.site,
            family=family,
            backend=gateway.backend,
            amount=amount,
            reference=secrets.token_hex(8),
            short_reference=OnlinePayment.new_short_reference(family.site_id),
            created_by=user,
            expires_at=timezone.now() + timedelta(minutes=settings.PAYMENT_EXPIRY_MINUTES),
        )
        online.invoices.set(current)
    return online, current


def notified_amount(backend_name, bank_data):
    """The amount the bank says it took, in euros."""

    def first(key):
        value = bank_data.get(key)
        return value[0] if isinstance(value, list) else value

    try:
        if backend_name == PaymentGateway.Backend.DUMMY:
            return money(Decimal(first("amount")))
        if backend_name == PaymentGateway.Backend.SYSTEMPAY:
            return money(Decimal(first("vads_amount")) / 100)
        if backend_name == PaymentGateway.Backend.PAYFIP:
            return money(Decimal(first("montant")) / 100)
    except (InvalidOperation, TypeError):
        pass
    raise NotificationError("no amount")


def handle_notification(site, query_string, base_url):
    """Check the bank's notification and record the payment once, however
    many times it arrives. Returns (online payment, content to answer)."""
    gateway = gateway_for(site)
    if gateway is None:
        raise NotificationError("no gateway")
    if gateway.backend == PaymentGateway.Backend.PAYFIP:
        # The operation's id, whichever way the notification spells it.
        query_string = query_string.replace("idOp=", "idop=")
    try:
        response = backend(gateway, base_url).response(query_string)
    except eopayment.PaymentException as error:
        raise NotificationError(f"unreadable: {error}") from error
    if not response.signed:
        raise NotificationError("not signed")
    if response.test and not (
        settings.PAYMENT_ALLOW_TEST or gateway.backend == PaymentGateway.Backend.DUMMY
    ):
        raise NotificationError("a test payment, on a site taking real ones")
    anomaly = None
    with transaction.atomic():
        online = (
            OnlinePayment.objects.select_for_update(of=("self",))
            .select_related("family__site")
            .filter(site=site, transaction_id=response.order_id)
            .first()
        )
        if online is None:
            raise NotificationError(f"unknown transaction {response.order_id}")
        if online.status == OnlinePayment.Status.PAID:
            return online, response.return_content  # Told twice: recorded once.
        online.bank_data = {
            k: v for k, v in response.bank_data.items() if isinstance(v, (str, int, list))
        }
        if response.result in (eopayment.PAID, eopayment.ACCEPTED):
            if notified_amount(online.backend, response.bank_data) != online.amount:
                # Kept for the secretariat to look at: the bank may have taken
                # money, but not what was asked.
                online.status = OnlinePayment.Status.ANOMALY
                online.save(update_fields=["status", "bank_data"])
                anomaly = "amount differs"
            else:
                record_paid(online, response, base_url)
        elif response.result in (
            eopayment.DENIED,
            eopayment.CANCELLED,
            eopayment.ERROR,
            eopayment.EXPIRED,
        ):
            online.status = OnlinePayment.Status.REFUSED
            online.completed_at = timezone.now()
            online.save(update_fields=["status", "completed_at", "bank_data"])
    if anomaly:
        raise NotificationError(anomaly)
    return online, response.return_content


def record_paid(online, response, base_url):
    """The money is taken: record it, even if the family gave up waiting or
    an invoice was settled otherwise meanwhile (what is left over stays to
    the family's credit)."""
    invoice_ids = list(online.invoices.values_list("pk", flat=True))
    lock(Invoice.objects.filter(pk__in=invoice_ids))
    invoices = list(remaining_of(Invoice.objects.filter(pk__in=invoice_ids)))
    left = online.amount
    allocations = []
    for invoice in sorted(invoices, key=lambda i: (i.due_date, i.number)):
        part = min(remaining(invoice), left)
        if part > 0:
            allocations.append((invoice, part))
            left -= part
    payment = record_payment(
        online.family,
        online.amount,
        Payment.Mode.ONLINE_CARD,
        allocations,
        # What the family reads to the secretariat; the bank's own id stays
        # on the online payment.
        reference=online.short_reference or str(response.transaction_id)[:80],
        base_url=base_url,
    )
    online.payment = payment
    online.status = OnlinePayment.Status.PAID
    online.completed_at = timezone.now()
    online.save(update_fields=["payment", "status", "completed_at", "bank_data"])


def returning_transaction(site_id, method, query_string, body=b""):
    """The bank's transaction id in what the bank added to the return URL,
    as eopayment reads it; None when nothing says which."""
    gateway = gateway_for(site_id)
    if gateway is None:
        return None
    try:
        _kind, transaction_id = eopayment.Payment.guess(
            method=method, query_string=query_string, body=body, backends=[gateway.backend]
        )
    except Exception:  # eopayment raises whatever its backends raise.
        return None
    return transaction_id or None


def expire_abandoned(now=None):
    """Pending payments past their time are abandoned; a late notification
    of success is still recorded."""
    now = now or timezone.now()
    return OnlinePayment.objects.filter(
        status=OnlinePayment.Status.PENDING, expires_at__lte=now
    ).update(status=OnlinePayment.Status.EXPIRED)
