"""French ways of writing phones and money, for templates, e-mails, exports
and the admin alike."""

import re
from decimal import Decimal

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


# Amounts as French people type them: 32480, 32 480, 32 480,50, 2,5 or 2.5, a
# euro sign after; thousands grouped by three only, so that "12 3,4" is a typing
# mistake rather than 123.4.
NUMBER = re.compile(r"(?P<units>[0-9]{1,3}(?: [0-9]{3})+|[0-9]+)(?:[,.](?P<cents>[0-9]{1,2}))?")
SPACES = str.maketrans({"\u00a0": " ", "\u202f": " ", "\u2009": " ", "\t": " "})


def parse_decimal(text):
    """`text` as a Decimal, None when empty; ValueError when it is no number."""
    text = " ".join(str(text).translate(SPACES).split()).removesuffix("€").strip()
    if not text:
        return None
    negative = text.startswith("-")
    match = NUMBER.fullmatch(text.removeprefix("-").strip())
    if match is None:
        raise ValueError(text)
    value = Decimal(f"{match['units'].replace(' ', '')}.{match['cents'] or '0'}")
    return -value if negative else value


# The article a French name takes after "de": "le secrétariat du Conservatoire
# Maurice Ohana", "de l’École de musique", "de la Maison des arts", "de Ploufragan".
_MASCULINE = {"centre", "conservatoire", "pôle", "espace", "institut", "atelier", "studio"}
_FEMININE = {"école", "maison", "cité", "académie", "scène", "médiathèque", "salle"}


def of_name(name):
    """`name` after the French preposition "de", contracted as French
    requires: "du Conservatoire…", "de l’École…", "de la Maison…", "de Paris"."""
    name = str(name or "").strip()
    first, _, rest = name.partition(" ")
    lower = first.lower()
    if lower == "le":
        return f"du {rest}"
    if lower == "les":
        return f"des {rest}"
    if lower == "la":
        return f"de la {rest}"
    if lower.startswith(("l’", "l'")):
        return f"de l’{name[2:]}"
    if lower in _MASCULINE or lower in _FEMININE:
        if lower[0] in "aeiouyéèêàâîôh":
            return f"de l’{name}"
        return f"du {name}" if lower in _MASCULINE else f"de la {name}"
    return f"de {name}"
