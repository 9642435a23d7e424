"""The family's direct debit pages: sign a SEPA mandate online with a
one-time code sent by e-mail, change its bank account, revoke it, download
it. Everything is fetched through the signed-in family."""

from functools import partial

from django.conf import settings
from django.contrib import messages
from django.db import transaction
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe
from django_ratelimit.core import get_usage

from extranet.decorators import family_required
from extranet.formatting import eur
from extranet.forms import throttled_error
from extranet.responses import base_url, serve_stored_file
from extranet.throttling import client_address
from fees.pricing import payer_of

from . import mandates
from .banking import grouped, masked
from .forms import AccountForm, CodeForm, MandateForm
from .mandate_tasks import render_mandate_pdf, send_code
from .models import Mandate
from .pdfs import ensure_mandate_pdf

AMENDMENT = "directdebit_amendment"


def codes_rate():
    return settings.MANDATE_CODES_PER_FAMILY


def _code_wait(request, family, increment):
    """Codes are e-mailed at most MANDATE_CODES_PER_FAMILY times per family:
    seconds to wait, 0 when a code may be sent (and is then counted)."""
    usage = get_usage(
        request,
        group="mandate-code",
        key=lambda group, request: f"family:{family.pk}",
        rate=codes_rate(),
        increment=False,
    )
    if usage and usage["count"] >= usage["limit"]:
        return max(usage["time_left"], 1)
    if increment:
        get_usage(
            request,
            group="mandate-code",
            key=lambda group, request: f"family:{family.pk}",
            rate=codes_rate(),
            increment=True,
        )
    return 0


def _send_code(request, mandate, account, amendment=False):
    # After the commit, by the worker: the mail server is never waited for
    # inside a transaction.
    transaction.on_commit(
        partial(send_code.enqueue, mandate.pk, base_url(request), masked(account), amendment)
    )


def _holder_initial(family):
    payer = payer_of(family)
    if payer is None:
        return {}
    lines = [
        payer.address_line1,
        payer.address_line2,
        f"{payer.postal_code} {payer.city}".strip(),
    ]
    if payer.country and payer.country.lower() != "france":
        lines.append(payer.country)
    return {
        "holder_name": f"{payer.first_name} {payer.last_name}".strip(),
        "holder_address": "\n".join(line for line in lines if line),
    }


def _summary(mandate, creditor, iban=None):
    return {
        "mandate": mandate,
        "creditor": creditor,
        "iban_grouped": grouped(iban or mandate.iban),
    }


@family_required
@require_http_methods(["GET", "POST"])
def mandate(request):
    """ "Payer par prélèvement": the family's active mandate, or the form to
    sign one (when the site is a SEPA creditor)."""
    family = request.user.family
    creditor = mandates.creditor_of(family.site_id)
    active = mandates.family_mandate(family)
    if active is not None:
        if request.method == "POST":
            return redirect("directdebit:mandate")
        return render(
            request,
            "directdebit/mandate.html",
            {"active": active, "creditor": creditor, "family": family},
        )
    email = family.contact_email()
    if creditor is None or not email:
        return render(
            request,
            "directdebit/mandate_form.html",
            {"creditor": creditor, "email": email, "form": None},
        )
    form = MandateForm(request.POST or None, initial=_holder_initial(family))
    if request.method == "POST" and form.is_valid():
        wait = _code_wait(request, family, increment=True)
        if wait:
            form.add_error(None, throttled_error(wait))
        else:
            data = form.cleaned_data
            pending = mandates.start_signature(
                family, data["holder_name"], data["holder_address"], data["iban"], data["bic"]
            )
            _send_code(request, pending, pending.iban)
            return redirect("directdebit:confirm", pk=pending.pk)
    return render(
        request,
        "directdebit/mandate_form.html",
        {"creditor": creditor, "email": email, "form": form},
    )


def _pending(request, pk):
    return get_object_or_404(
        Mandate, pk=pk, family=request.user.family, status=Mandate.Status.PENDING
    )


def _creditor(family):
    creditor = mandates.creditor_of(family.site_id)
    if creditor is None:
        raise Http404("This site takes no direct debit.")
    return creditor


@family_required
@require_http_methods(["GET", "POST"])
def confirm(request, pk):
    """The mandate to sign, in full, and the code that signs it."""
    pending = _pending(request, pk)
    family = request.user.family
    creditor = _creditor(family)
    form = CodeForm(pending, request.POST or None)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            still = Mandate.objects.select_for_update().filter(pk=pending.pk, status="pending")
            signed = still.first()
            if signed is not None:
                mandates.activate(signed, user=request.user, ip=client_address(request))
        if signed is not None:
            transaction.on_commit(
                partial(render_mandate_pdf.enqueue, pending.pk, False, base_url(request))
            )
            messages.success(
                request,
                _("Your mandate is signed: the instalments will be debited from this account."),
            )
        return redirect("directdebit:mandate")
    context = {
        **_summary(pending, creditor),
        "form": form,
        "email": family.contact_email(),
    }
    return render(request, "directdebit/mandate_confirm.html", context)


def _new_code_sent(request, family):
    wait = _code_wait(request, family, increment=True)
    if wait:
        messages.error(request, throttled_error(wait).messages[0])
        return False
    messages.success(
        request,
        _("A new code was sent to %(email)s.") % {"email": family.contact_email()},
    )
    return True


@family_required
@require_POST
def new_code(request, pk):
    pending = _pending(request, pk)
    if _new_code_sent(request, request.user.family):
        _send_code(request, pending, pending.iban)
    return redirect("directdebit:confirm", pk=pending.pk)


def _active(request):
    found = mandates.family_mandate(request.user.family)
    if found is None:
        raise Http404("No active mandate.")
    return found


@family_required
@require_http_methods(["GET", "POST"])
def amend(request):
    """ "Changer de compte bancaire": a new account under the same mandate,
    confirmed with a code like the signature."""
    active = _active(request)
    family = request.user.family
    creditor = _creditor(family)
    form = AccountForm(request.POST or None, mandate=active)
    if request.method == "POST" and form.is_valid():
        wait = _code_wait(request, family, increment=True)
        if wait:
            form.add_error(None, throttled_error(wait))
        else:
            request.session[AMENDMENT] = {
                "mandate": active.pk,
                "iban": form.cleaned_data["iban"],
                "bic": form.cleaned_data["bic"],
            }
            _send_code(request, active, form.cleaned_data["iban"], amendment=True)
            return redirect("directdebit:amend_confirm")
    context = {
        "active": active,
        "creditor": creditor,
        "form": form,
        "email": family.contact_email(),
    }
    return render(request, "directdebit/mandate_amend.html", context)


def _amendment(request, active):
    asked = request.session.get(AMENDMENT)
    if not asked or asked.get("mandate") != active.pk:
        return None
    return asked


@family_required
@require_http_methods(["GET", "POST"])
def amend_confirm(request):
    active = _active(request)
    family = request.user.family
    creditor = _creditor(family)
    asked = _amendment(request, active)
    if asked is None:
        return redirect("directdebit:amend")
    form = CodeForm(active, request.POST or None)
    if request.method == "POST" and form.is_valid():
        mandates.amend(active, asked["iban"], asked["bic"])
        del request.session[AMENDMENT]
        transaction.on_commit(
            partial(render_mandate_pdf.enqueue, active.pk, True, base_url(request))
        )
        messages.success(
            request,
            _("Your bank account is changed: the next instalments will be debited from it."),
        )
        return redirect("directdebit:mandate")
    context = {
        **_summary(active, creditor, asked["iban"]),
        "holder_name": active.holder_name,
        "form": form,
        "email": family.contact_email(),
        "amendment": True,
    }
    return render(request, "directdebit/mandate_confirm.html", context)


@family_required
@require_POST
def amend_new_code(request):
    active = _active(request)
    asked = _amendment(request, active)
    if asked is None:
        return redirect("directdebit:amend")
    if _new_code_sent(request, request.user.family):
        _send_code(request, active, asked["iban"], amendment=True)
    return redirect("directdebit:amend_confirm")


def debits_notice(debits):
    """What happens to the debits already sent to the bank, in words."""
    if not debits:
        return ""
    sentences = [
        _(
            "The debit of %(date)s (%(amount)s) has already been sent to the bank: it will be "
            "collected."
        )
        % {"date": date_format(debit.batch.collection_date), "amount": eur(debit.amount)}
        for debit in debits
    ]
    sentences.append(_("The following instalments will have to be paid another way."))
    return " ".join(sentences)


@family_required
@require_http_methods(["GET", "POST"])
def revoke(request):
    """ "Révoquer le mandat": a confirmation page, then the mandate ends."""
    active = _active(request)
    if request.method == "POST":
        debits = mandates.revoke(active)
        request.session.pop(AMENDMENT, None)
        messages.success(request, _("Your direct debit mandate is revoked."))
        notice = debits_notice(debits)
        if notice:
            messages.warning(request, notice)
        return redirect("billing:statement")
    debits = mandates.submitted_debits(active)
    context = {"active": active, "notice": debits_notice(debits)}
    return render(request, "directdebit/mandate_revoke.html", context)


@family_required
@require_safe
def pdf(request, pk):
    """A signed mandate of the family (the current one or an ended one)."""
    found = get_object_or_404(
        Mandate.objects.exclude(status=Mandate.Status.PENDING),
        pk=pk,
        family=request.user.family,
    )
    found = ensure_mandate_pdf(found)
    return serve_stored_file(
        found.pdf, f"mandat-{found.rum}.pdf", "application/pdf", as_attachment=False
    )
