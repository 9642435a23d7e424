from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from documents.checklist import checklist, this_year
from documents.files import store_upload, upload_status
from documents.forms import DocumentUploadForm
from extranet.decorators import family_required
from extranet.formatting import eur
from families.models import FamilyDocument

from .income import (
    YearIncome,
    band_of,
    declare,
    income_documents,
    income_kinds,
    offered_years,
    plain,
    rules_by_year,
)
from .income_forms import IncomeForm
from .models import FamilyIncome


def _income_page(request, upload_form=None, status=200):
    family = request.user.family
    years = offered_years(family.site_id)
    rules = rules_by_year(years, site=family.site_id)
    incomes = {
        income.school_year_id: income
        for income in FamilyIncome.objects.filter(family=family, school_year__in=years)
    }
    kinds = list(income_kinds(family.site_id).order_by("position", "name"))
    context = {
        "family": family,
        "rows": [YearIncome(year, incomes.get(year.pk), rules.get(year.pk)) for year in years],
        "checklist": checklist(
            kinds, income_documents(family), this_year(), family.address_changed_at
        ),
        "upload_form": upload_form or _upload_form(family),
    }
    return render(request, "fees/income.html", context, status=status)


def _upload_form(family, *args):
    return DocumentUploadForm(income_kinds(family.site_id), *args)


@family_required
@require_safe
def income(request):
    return _income_page(request)


@family_required
def edit_income(request, year):
    family = request.user.family
    year = next((y for y in offered_years(family.site_id) if y.pk == year), None)
    if year is None:
        raise Http404("Not a year the family may declare.")
    rules = rules_by_year([year], site=family.site_id).get(year.pk)
    row = YearIncome(
        year, FamilyIncome.objects.filter(family=family, school_year=year).first(), rules
    )
    form = IncomeForm(
        request.POST if request.method == "POST" else None,
        source=row.formula,
        initial=_initial(row.income),
    )
    if request.method == "POST" and form.is_valid():
        income, changed = declare(family, year, form.figures())
        if changed:
            band = band_of(income, rules)
            values = {"year": year, "qf": eur(income.quotient), "band": band}
            if band:
                text = _(
                    "Quotient familial %(year)s saved: %(qf)s, band %(band)s, to be checked by "
                    "the secretariat."
                )
            else:
                text = _(
                    "Quotient familial %(year)s saved: %(qf)s, to be checked by the secretariat."
                )
            messages.success(request, text % values)
        else:
            messages.info(request, _("Nothing changed."))
        return redirect("fees:income")
    return render(request, "fees/income_form.html", {"form": form, "row": row})


@family_required
@require_POST
def upload_notice(request):
    family = request.user.family
    form = _upload_form(family, request.POST, request.FILES)
    if form.is_valid() and store_upload(FamilyDocument(family=family), form, request):
        return redirect("fees:income")
    return _income_page(request, upload_form=form, status=upload_status(form))


def _initial(income):
    if income is None:
        return {}
    return {
        "source": income.source,
        "reference_income": plain(income.reference_income),
        "parts": plain(income.parts),
        "caf_quotient": plain(income.caf_quotient),
        "caf_number": income.caf_number,
    }
