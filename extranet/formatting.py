"""French ways of writing phones and money, for templates, e-mails, exports
and the admin alike."""

import phonenumbers
from django.utils.formats import number_format


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


def eur(value):
    """An amount in euros as French readers write it: 1 186,00 € (the
    active language's separators, the sign after a non-breaking space)."""
    if value is None or value == "":
        return ""
    return f"{number_format(value, 2, use_l10n=True, force_grouping=True)}\u00a0€"
