from django import template

from extranet import formatting

register = template.Library()

register.filter("phone_fr", formatting.phone_fr)
register.filter("eur", formatting.eur)
register.filter("of_name", formatting.of_name)


@register.filter
def has_required_fields(form):
    return any(field.required and not field.widget.is_hidden for field in form.fields.values())
