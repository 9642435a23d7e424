import phonenumbers
from django import template

register = template.Library()


@register.filter
def phone_fr(value):
    """A phone number as French readers write it: 01 64 88 77 00, or in
    international form for foreign numbers."""
    if not value:
        return ""
    try:
        number = phonenumbers.parse(str(value), "FR")
    except phonenumbers.NumberParseException:
        return value
    if number.country_code == 33:
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


@register.filter
def has_required_fields(form):
    return any(field.required and not field.widget.is_hidden for field in form.fields.values())
