from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from documents.forms import DocumentUploadForm
from documents.models import DocumentKind

from .models import Wish

NEW_WISHES = 3
RANK_LABELS = [
    pgettext_lazy("wish", "First choice"),
    pgettext_lazy("wish", "Second choice"),
    pgettext_lazy("wish", "Third choice"),
]


class WishesForm(forms.Form):
    """Continue or stop each course of the year, up to three new
    disciplines in order of preference, the formation musicale level and a
    comment. Choices come from the site's offer for next year."""

    musicianship_level = forms.ChoiceField(
        label=_("Formation musicale level proposed"),
        required=False,
        help_text=_(
            "The level the teacher proposed for next year, if the student takes formation musicale."
        ),
    )
    comment = forms.CharField(
        label=_("Comment for the secretariat"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("For example the instrument chosen, a preferred time slot, a constraint."),
    )

    def __init__(
        self,
        *args,
        enrollments,
        disciplines,
        levels,
        implied_level="",
        request=None,
        wishes=(),
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.enrollments = enrollments
        kept = {w.enrollment_id: w.choice for w in wishes if w.enrollment_id}
        new = [
            w.discipline_id
            for w in sorted(wishes, key=lambda w: w.rank)
            if w.choice == Wish.Choice.NEW
        ]
        fields = {}
        for enrollment in enrollments:
            course = enrollment.course
            label = str(course.discipline) + (f" – {course.level}" if course.level else "")
            fields[f"enrollment_{enrollment.pk}"] = forms.ChoiceField(
                label=label,
                # The parent's choice for the child, not the child speaking.
                choices=[
                    (Wish.Choice.CONTINUE, pgettext_lazy("wish", "Continue")),
                    (Wish.Choice.STOP, pgettext_lazy("wish", "Stop")),
                ],
                widget=forms.RadioSelect,
                initial=kept.get(enrollment.pk, Wish.Choice.CONTINUE),
                error_messages={
                    "required": _("Say whether the student continues."),
                    "invalid_choice": _("Choose “Continue” or “Stop”."),
                },
            )
        # A new discipline is one the student does not follow already.
        followed = {e.course.discipline_id for e in enrollments}
        disciplines = [d for d in disciplines if d.pk not in followed]
        self.discipline_choices = {d.pk: d for d in disciplines}
        for n in range(NEW_WISHES):
            fields[f"new_{n + 1}"] = forms.TypedChoiceField(
                label=RANK_LABELS[n],
                required=False,
                coerce=int,
                empty_value=None,
                choices=[("", _("No new discipline"))] + [(d.pk, d.name) for d in disciplines],
                initial=new[n] if n < len(new) else None,
                error_messages={"invalid_choice": _("Choose a discipline from the list.")},
            )
        # Enrollments first, then new wishes, then level and comment.
        self.fields = {**fields, **self.fields}
        self.fields["musicianship_level"].choices = [("", _("Not concerned"))] + [
            (level, level) for level in levels
        ]
        # The level this year's result implies, until the family chose one.
        self.fields["musicianship_level"].initial = implied_level if implied_level in levels else ""
        if request is not None and request.wishes_saved_at is not None:
            self.fields["musicianship_level"].initial = request.musicianship_level
        if request is not None:
            self.fields["comment"].initial = request.comment
        if not levels:
            del self.fields["musicianship_level"]

    def enrollment_fields(self):
        return [self[f"enrollment_{e.pk}"] for e in self.enrollments]

    def new_fields(self):
        return [self[f"new_{n + 1}"] for n in range(NEW_WISHES)]

    def other_fields(self):
        return [self[name] for name in ["musicianship_level", "comment"] if name in self.fields]

    def clean(self):
        cleaned = super().clean()
        seen = set()
        continued = {
            e.course.discipline_id
            for e in self.enrollments
            if cleaned.get(f"enrollment_{e.pk}") == Wish.Choice.CONTINUE
        }
        for n in range(NEW_WISHES):
            name = f"new_{n + 1}"
            discipline_id = cleaned.get(name)
            if discipline_id is None:
                continue
            if discipline_id in seen:
                self.add_error(name, _("This discipline is already among the choices above."))
            elif discipline_id in continued:
                self.add_error(name, _("The student already continues this discipline."))
            seen.add(discipline_id)
        if self.errors:
            return cleaned
        if not continued and not seen:
            raise forms.ValidationError(
                _(
                    "Choose at least one course to continue or one new discipline. If the student "
                    "leaves the conservatoire, no request is needed: tell the secretariat."
                ),
                code="nothing_wished",
            )
        return cleaned

    def wishes(self):
        """The Wish objects (unsaved, without their request) the cleaned form
        stands for."""
        result = []
        for enrollment in self.enrollments:
            result.append(
                Wish(
                    enrollment=enrollment,
                    discipline_id=enrollment.course.discipline_id,
                    choice=self.cleaned_data[f"enrollment_{enrollment.pk}"],
                )
            )
        rank = 0
        for n in range(NEW_WISHES):
            discipline_id = self.cleaned_data.get(f"new_{n + 1}")
            if discipline_id is not None:
                rank += 1
                result.append(Wish(discipline_id=discipline_id, choice=Wish.Choice.NEW, rank=rank))
        return result


class AcceptanceForm(forms.Form):
    accept_rules = forms.BooleanField(
        label=_("I accept the school rules"),
        error_messages={"required": _("Tick “I accept the school rules” to send the request.")},
    )
    # The version the family read: if the secretariat publishes another one
    # meanwhile, the family must read that one.
    rules = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args, rules, **kwargs):
        super().__init__(*args, **kwargs)
        self.rules = rules
        self.fields["rules"].initial = rules.pk

    def clean(self):
        cleaned = super().clean()
        if "rules" in cleaned and cleaned["rules"] != self.rules.pk:
            raise forms.ValidationError(
                _("The school rules have just changed: read this new version, then accept it."),
                code="rules_changed",
            )
        return cleaned


class ReenrollmentUploadForm(DocumentUploadForm):
    """The shared upload form, offering the kinds this request asks for."""

    def __init__(self, kinds, *args, **kwargs):
        # The step read these kinds for its checklists: listed from them, not asked again.
        super().__init__(
            DocumentKind.objects.filter(pk__in=[kind.pk for kind in kinds]),
            *args,
            kinds_read=kinds,
            **kwargs,
        )
