"""The pieces of the portal's field template (extranet/forms/field.html)."""

from django import forms, template
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe

register = template.Library()

# Bootstrap's class for each kind of input.
INPUT_CLASSES = {"checkbox": "form-check-input", "select": "form-select"}


@register.filter
def widget_kind(field):
    """Which markup the field group needs."""
    widget = field.field.widget
    if widget.is_hidden:
        return "hidden"
    if isinstance(widget, (forms.RadioSelect, forms.CheckboxSelectMultiple)):
        return "choices"
    if isinstance(widget, forms.CheckboxInput):
        return "checkbox"
    if isinstance(widget, forms.FileInput):
        return "file"
    if isinstance(widget, forms.Select):
        return "select"
    return "input"


@register.simple_tag
def field_widget(field, kind):
    """The field's input with Bootstrap's classes; the widget's own attributes
    (aria-describedby, aria-invalid, required…) come from Django."""
    widget = field.field.widget
    own = widget.attrs.get("class", "")
    # The widget's name as a class too, as django-crispy-forms gave it.
    name = type(widget).__name__.lower()
    classes = [own, name] if own and name not in own else [own or name]
    classes.append(INPUT_CLASSES.get(kind, "form-control"))
    if field.errors:
        classes.append("is-invalid")
    return field.as_widget(attrs={"class": " ".join(classes)})


@register.filter
def widget_attrs(attrs):
    """A widget's attributes as Django's django/forms/widgets/attrs.html writes
    them (False left out, True as a bare name), without a template."""
    parts = []
    for name, value in attrs.items():
        if value is True:
            parts.append(f" {conditional_escape(name)}")
        elif value is not False:
            parts.append(f' {conditional_escape(name)}="{conditional_escape(str(value))}"')
    return mark_safe("".join(parts))
