"""The "Facturation" tab: the statement, the PDFs, and online payment."""

import io
from urllib.parse import urlencode

import eopayment
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from extranet.decorators import family_required
from extranet.models import Site
from extranet.responses import base_url, private_file, serve_stored_file
from families.emails import family_address
from families.versions import cached, family_cache_key
from fees.estimates import cached_estimate
from fees.models import FeeGrid, PlanChoice
from fees.plan_forms import PlanForm, offered_plans
from students.models import SchoolYear, current_of

from . import online
from .forms import StatementSearchForm
from .instalments import TOO_LATE, choose_plan
from .models import Instalment, Invoice, OnlinePayment, Payment, PaymentGateway
from .pdfs import attestation_pdf, ensure_invoice_pdf, ensure_receipt_pdf
from .statement import search_lines, statement


def pdf_response(file, filename):
    return serve_stored_file(file, filename, "application/pdf", as_attachment=False)


@family_required
@require_safe
def statement_view(request):
    family = request.user.family
    years = list(
        SchoolYear.objects.filter(site=family.site_id)
        .annotate(priced=Exists(FeeGrid.objects.filter(school_year=OuterRef("pk"))))
        .order_by("-start_date")
    )
    year = next((y for y in years if str(y.pk) == request.GET.get("annee")), None)
    # This year's fees as they will be billed, once a grid is voted for it.
    current = current_of(years)
    priced = current is not None and current.priced
    # Invoices are overdue from a day on: the key holds the day.
    key = f"statement:{year.pk if year else ''}"
    found = cached(
        family_cache_key(request, family, key, day=timezone.localdate()),
        lambda: statement_data(family, year),
    )
    can_pay = online.gateway_for(family.site_id) is not None
    # « Recherche »: the lines shown, filtered; the totals stay the year's.
    search = StatementSearchForm(request.GET)
    found["lines"] = search_lines(found["lines"], *search.criteria())
    context = {
        "family": family,
        "search": search,
        **plan_context(family, current, schedules=None if year else found["schedules"]),
        "estimate": cached_estimate(request, family, current) if priced else "",
        "estimate_year": current,
        **found,
        "years": years,
        "year": year,
        "can_pay": can_pay,
        # Only a site that takes payments online has some in progress.
        "pending_payments": list(online.pending_of(family)) if can_pay else [],
    }
    if not search.active:
        context["statement_table"] = cached(
            family_cache_key(request, family, f"{key}:table", day=timezone.localdate()),
            lambda: render_to_string("billing/_statement_table.html", context),
        )
    return render(request, "billing/statement.html", context)


def statement_data(family, year):
    """The statement of `family` for `year` (all years: None), with the years
    its payments were made in."""
    found = statement(family, year)
    if found["payment_years"] is None:
        found["payment_years"] = sorted(
            {
                d.year
                for d in Payment.objects.filter(family=family, reversal__isnull=True).dates(
                    "date", "year"
                )
            },
            reverse=True,
        )
    return found


def plan_context(family, year, data=None, schedules=None):
    """The plan the family pays `year` by, and the form to choose it while
    no instalment of that year is due yet. `schedules`: the statement's,
    when they hold every invoice, saves asking again."""
    if year is None:
        return {}
    plans = list(
        offered_plans(family.site_id).annotate(
            chosen=Exists(
                PlanChoice.objects.filter(family=family, school_year=year, plan=OuterRef("pk"))
            )
        )
    )
    if not plans:
        return {}
    plan = next((p for p in plans if p.chosen), None)
    if plan is None:
        # A plan withdrawn since it was chosen still is the family's.
        chosen = PlanChoice.objects.filter(family=family, school_year=year).select_related("plan")
        plan = next((c.plan for c in chosen), None) or next(
            (p for p in plans if p.is_default), None
        )
    today = timezone.localdate()
    if schedules is not None:
        locked = any(
            row.instalment.due_date <= today
            for invoice, rows in schedules
            if invoice.school_year_id == year.pk
            for row in rows
        )
    else:
        locked = Instalment.objects.filter(
            invoice__family=family,
            invoice__school_year=year,
            invoice__status=Invoice.Status.ISSUED,
            invoice__kind=Invoice.Kind.INVOICE,
            due_date__lte=today,
        ).exists()
    form = None
    if not locked:
        form = PlanForm(data, plans=plans, school_year=year, initial_plan=plan)
    return {"plan": plan, "plan_year": year, "plan_form": form, "plan_locked": locked}


@family_required
@require_POST
def choose_plan_view(request):
    family = request.user.family
    year = SchoolYear.objects.current(family.site_id)
    context = plan_context(family, year, request.POST)
    form = context.get("plan_form")
    if form is None:
        if not context.get("plan_locked"):
            raise Http404("No plan offered.")
        messages.error(request, TOO_LATE)
        return redirect("billing:statement")
    if form.is_valid():
        try:
            choose_plan(family, year, form.cleaned_data["plan"], request.user)
        except ValidationError as error:
            form.add_error("plan", error)
        else:
            messages.success(
                request,
                _("Your payment plan is saved: %(plan)s.") % {"plan": form.cleaned_data["plan"]},
            )
            return redirect(reverse("billing:statement") + "#schedule-title")
    messages.error(request, " ".join(form.errors.get("plan", [])))
    return redirect(reverse("billing:statement") + "#plan-title")


@family_required
@require_safe
def invoice_pdf(request, pk):
    invoice = get_object_or_404(Invoice.objects.issued(), pk=pk, family=request.user.family)
    invoice = ensure_invoice_pdf(invoice)
    return pdf_response(invoice.pdf, f"{invoice.number}.pdf")


@family_required
@require_safe
def receipt_pdf(request, pk):
    payment = get_object_or_404(Payment, pk=pk, family=request.user.family)
    payment = ensure_receipt_pdf(payment)
    return pdf_response(payment.receipt_pdf, f"recu-{payment.receipt_number}.pdf")


@family_required
@require_safe
def attestation(request, year):
    family = request.user.family
    if not Payment.objects.filter(family=family, date__year=year, reversal__isnull=True).exists():
        raise Http404("No payment that year.")
    return private_file(
        io.BytesIO(attestation_pdf(family, year)),
        f"attestation-paiement-{year}.pdf",
        "application/pdf",
    )


@transaction.non_atomic_requests  # The bank is called outside any transaction.
@family_required
@require_POST
def pay(request):
    family = request.user.family
    ids = request.POST.getlist("invoices")
    if not ids:
        messages.error(request, _("Tick the invoices to pay."))
        return redirect("billing:statement")
    # Only what the page offers: ids of the family's invoices.
    if not all(value.isdigit() and len(value) <= 18 for value in ids):
        raise Http404("Not invoice ids.")
    invoices = list(Invoice.objects.issued().filter(family=family, pk__in=ids))
    if len(invoices) != len(set(ids)):
        raise Http404("Not the family's invoices.")
    return go_to_bank(
        request,
        lambda: online.start(
            family,
            invoices,
            request.user,
            family_address(family) or request.user.email,
            base_url(request),
        ),
    )


def go_to_bank(request, begin):
    """Send the family to the bank's page for the payment `begin()` starts
    (or resumes), or back to the statement with what went wrong."""
    try:
        started, kind, data = begin()
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("billing:statement")
    except eopayment.PaymentException:
        messages.error(request, _("The online payment service cannot be reached; try again later."))
        return redirect("billing:statement")
    except ValueError:
        # The bank's library refuses what it cannot send, above all an e-mail
        # address PayFiP does not take (over 80 characters, not ASCII…).
        messages.error(
            request,
            _(
                "The online payment service refused the request: check the family's reference "
                "e-mail on the Family tab, or contact the secretariat."
            ),
        )
        return redirect("billing:statement")
    if kind == eopayment.URL:
        return redirect(data)
    # The bank wants a form posted to it: one button, no script.
    return render(request, "billing/to_bank.html", {"online": started, "form": data})


@family_required
@require_safe
def payment_return(request, reference=None):
    """Where the bank sends the family back: the payment it returns from
    (its reference in the return URL, else the transaction the bank's query
    string names), in the state the bank's notification left. It never
    records anything itself."""
    family = request.user.family
    payments = OnlinePayment.objects.filter(family=family).prefetch_related("invoices")
    if reference is None:
        transaction_id = online.returning_transaction(
            family.site_id, request.method, request.META.get("QUERY_STRING", "")
        )
        if transaction_id is None:
            return redirect("billing:statement")
        returned = get_object_or_404(payments, transaction_id=transaction_id)
    else:
        returned = get_object_or_404(payments, reference=reference)
    late = returned.status == OnlinePayment.Status.PENDING and returned.expires_at <= timezone.now()
    return render(
        request,
        "billing/payment_return.html",
        {"online": returned, "expired": late, "Status": OnlinePayment.Status},
    )


def family_payment(request, reference):
    return get_object_or_404(OnlinePayment, reference=reference, family=request.user.family)


@transaction.non_atomic_requests  # The bank is called outside any transaction.
@family_required
@require_POST
def resume_payment(request, reference):
    """Back to the bank for a payment the family left: the same transaction
    while the bank allows it, else a new one of what is still due."""
    pending = family_payment(request, reference)
    family = request.user.family
    return go_to_bank(
        request,
        lambda: online.resume(
            pending, request.user, family_address(family) or request.user.email, base_url(request)
        ),
    )


@family_required
@require_POST
def abandon_payment(request, reference):
    """The family gives up a payment it left: its invoices can be paid again
    at once."""
    pending = family_payment(request, reference)
    if online.abandon(pending):
        messages.success(
            request,
            _("The payment %(reference)s is abandoned: you can pay these invoices again.")
            % {"reference": pending.short_reference},
        )
    else:
        messages.info(request, _("This payment is no longer waiting for the bank."))
    return redirect(reverse("billing:statement") + "#unpaid-title")


@transaction.non_atomic_requests  # The bank is called outside any transaction.
@csrf_exempt
@require_http_methods(["GET", "POST"])
def payment_notification(request, site_slug):
    """The bank's server calls this, without session or CSRF token: only
    the backend's verification (signature, web service) is trusted."""
    site = get_object_or_404(Site, slug=site_slug, is_active=True)
    query = (
        request.body.decode("utf-8", "replace")
        if request.method == "POST"
        else request.META.get("QUERY_STRING", "")
    )
    try:
        _online, content = online.handle_notification(site, query, base_url(request))
    except online.NotificationError as error:
        online.logger.warning("Payment notification refused for %s: %s", site_slug, error)
        return HttpResponseBadRequest("refused", content_type="text/plain")
    return HttpResponse(content or "OK", content_type="text/plain")


@family_required
@require_http_methods(["GET", "POST"])
def simulated_bank(request):
    """The simulated bank of development and tests: "Payer" or "Refuser",
    then the notification its server would send, then back to the portal."""
    if not settings.PAYMENT_SIMULATOR:
        raise Http404
    data = request.GET if request.method == "GET" else request.POST
    pending = get_object_or_404(
        OnlinePayment,
        transaction_id=data.get("transaction_id", ""),
        family=request.user.family,
        backend=PaymentGateway.Backend.DUMMY,
        status=OnlinePayment.Status.PENDING,
    )
    if request.method == "GET":
        return render(
            request, "billing/simulated_bank.html", {"online": pending, "query": request.GET}
        )
    fields = {
        "transaction_id": pending.transaction_id,
        "signed": "1",
        "amount": data.get("amount", ""),
    }
    if "pay" in data:
        fields["ok"] = "1"
    # What the bank's server would post to the notification address, handed
    # over in-process: the simulator never makes requests of its own.
    try:
        online.handle_notification(pending.site, urlencode(fields), base_url(request))
    except online.NotificationError as error:
        online.logger.warning("Simulated notification refused: %s", error)
    return redirect("billing:payment_result", pending.reference)
