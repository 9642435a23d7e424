import phonenumbers
from django import template
from django.utils.formats import number_format

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


@register.filter
def eur(value):
    """An amount in euros as French readers write it: 1 186,00 € (the
    active language's separators, the sign after a non-breaking space)."""
    if value is None or value == "":
        return ""
    return f"{number_format(value, 2, use_l10n=True, force_grouping=True)}\u00a0€"
