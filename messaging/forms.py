from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from .models import Message

Audience = Message.Audience

# The field naming each audience's target, and what to say when it is missing.
TARGETS = {
    Audience.COURSE: ("course", _("Choose the course.")),
    Audience.DISCIPLINE: ("discipline", _("Choose the discipline.")),
    Audience.TEACHER: ("teacher", _("Choose the teacher.")),
    Audience.LEVEL: ("level", _("Choose the level.")),
}


class MessageForm(forms.ModelForm):
    """The message and its audience. The admin limits the courses,
    disciplines and teachers to the secretary's site and gives the level
    its choices (see MessageAdmin)."""

    class Meta:
        model = Message
        fields = ["site", "subject", "body", "audience", "course", "discipline", "teacher", "level"]
        widgets = {
            "audience": forms.RadioSelect,
            "subject": forms.TextInput(attrs={"class": "vTextField"}),
            "body": forms.Textarea(attrs={"rows": 14, "cols": 80}),
        }
        help_texts = {
            "audience": _("Then choose the course, the discipline, the teacher or the level below.")
        }

    # The secretary's own site, when she does not choose one (see MessageAdmin).
    staff_site_id = None

    def clean_subject(self):
        subject = self.cleaned_data["subject"]
        # A line break in a subject would start another mail header.
        if any(ord(char) < 32 for char in subject):
            raise ValidationError(_("The subject must fit on one line."), code="line_break")
        return subject

    def clean(self):
        cleaned = super().clean()
        audience = cleaned.get("audience")
        chosen, missing = TARGETS.get(audience, (None, None))
        # Only the target of the audience chosen is kept.
        for name, _message in TARGETS.values():
            if name != chosen:
                cleaned[name] = "" if name == "level" else None
        if chosen is None:
            return cleaned
        target = cleaned.get(chosen)
        if not target:
            if chosen not in self.errors:
                self.add_error(chosen, missing)
            return cleaned
        site_id = cleaned["site"].pk if cleaned.get("site") else self.staff_site_id
        if chosen != "level" and site_id is not None and target.site_id != site_id:
            self.add_error(chosen, _("This belongs to another site."))
        return cleaned
