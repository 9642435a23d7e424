"""How the portal's forms render their fields.

Each field group (`{{ field.as_field_group }}`) is Bootstrap's markup that
django-crispy-forms produced before, written as one small template: the label
(with its asterisk when required), the input with its classes, the errors and
the help text linked to the input by `aria-describedby` (Django's own), and
`aria-invalid` on an input in error. Crispy's templates cost about half of an
edit page's time; this one renders the same output several times faster.
"""

from django.forms.renderers import DjangoTemplates


class FormRenderer(DjangoTemplates):
    field_template_name = "extranet/forms/field.html"
