"""Choosing how to pay a school year: the plans a site offers, each with
its dates and the payment modes it allows."""

from django import forms
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .models import InstalmentPlan


def describe(plan, school_year):
    """“10 instalments from 5 October 2026 to 5 July 2027 – by direct debit
    only”, as a family reads it."""
    dates = plan.dates(school_year)
    if len(dates) == 1:
        when = _("due on %(date)s") % {"date": date_format(dates[0], "j F Y")}
    else:
        when = _("%(count)s instalments from %(first)s to %(last)s") % {
            "count": len(dates),
            "first": date_format(dates[0], "j F Y"),
            "last": date_format(dates[-1], "j F Y"),
        }
    if plan.debit_only:
        how = _("by direct debit only")
    else:
        modes = dict(InstalmentPlan.Mode.choices)
        how = ", ".join(str(modes[m]) for m in plan.modes if m in modes)
    return f"{when} – {how}"


class PlanForm(forms.Form):
    """The family's choice among `plans` (the site's, already read) for
    `school_year`; `cleaned_data["plan"]` is the plan chosen."""

    def __init__(self, *args, plans, school_year, initial_plan=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.plans = {plan.pk: plan for plan in plans}
        initial = initial_plan.pk if isinstance(initial_plan, InstalmentPlan) else initial_plan
        self.fields["plan"] = forms.TypedChoiceField(
            label=gettext_lazy("How do you pay the year %(year)s?") % {"year": school_year},
            choices=[
                (plan.pk, f"{plan.name} ({describe(plan, school_year)})")
                for plan in self.plans.values()
            ],
            coerce=int,
            initial=initial,
            widget=forms.RadioSelect,
            error_messages={
                "required": gettext_lazy("Choose how you will pay."),
                "invalid_choice": gettext_lazy("This plan is not offered: choose another one."),
            },
        )

    def clean_plan(self):
        return self.plans[self.cleaned_data["plan"]]


def offered_plans(site_id):
    return InstalmentPlan.objects.filter(site_id=site_id, is_active=True).order_by(
        "position", "instalments"
    )
