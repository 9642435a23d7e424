"""How the portal's forms render their fields.

Each field group (`{{ field.as_field_group }}`) is Bootstrap's markup that
django-crispy-forms produced before, written as one small template: the label
(with its asterisk when required), the input with its classes, the errors and
the help text linked to the input by `aria-describedby` (Django's own), and
`aria-invalid` on an input in error. Crispy's templates cost about half of an
edit page's time.

Django's templates of the commonest widgets (input, select, textarea) include
one template for their attributes, and a select one more per option: a
country list is hundreds of includes. The versions of form_templates/ write
the same HTML with a filter instead.
"""

from pathlib import Path

import django.forms
from django.forms.renderers import DjangoTemplates
from django.utils.functional import cached_property


class FormRenderer(DjangoTemplates):
    field_template_name = "extranet/forms/field.html"

    @cached_property
    def engine(self):
        return self.backend(
            {
                "APP_DIRS": True,
                "DIRS": [
                    Path(__file__).resolve().parent / "form_templates",
                    Path(django.forms.__file__).resolve().parent / "templates",
                ],
                "NAME": "djangoforms",
                "OPTIONS": {},
            }
        )
