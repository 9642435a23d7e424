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


class PlanChoiceField(forms.ModelChoiceField):
    widget = forms.RadioSelect

    def __init__(self, school_year, **kwargs):
        self.school_year = school_year
        super().__init__(**kwargs)

    def label_from_instance(self, plan):
        return f"{plan.name} ({describe(plan, self.school_year)})"


class PlanForm(forms.Form):
    """The family's choice among the site's plans for `school_year`."""

    def __init__(self, *args, plans, school_year, initial_plan=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["plan"] = PlanChoiceField(
            school_year,
            queryset=plans,
            label=gettext_lazy("How do you pay the year %(year)s?") % {"year": school_year},
            initial=initial_plan,
            empty_label=None,
            error_messages={
                "required": gettext_lazy("Choose how you will pay."),
                "invalid_choice": gettext_lazy("This plan is not offered: choose another one."),
            },
        )


def offered_plans(site_id):
    return InstalmentPlan.objects.filter(site_id=site_id, is_active=True).order_by(
        "position", "instalments"
    )
