"""IBAN, BIC and creditor identifier checks, with French messages."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from schwifty import BIC, IBAN
from schwifty.exceptions import SchwiftyException


def normalized_iban(value):
    """An IBAN typed any way (spaces, lower case), checked: its checksum and a
    country of the SEPA scheme."""
    text = "".join((value or "").split()).upper()
    if not text:
        raise ValidationError(_("Enter the IBAN."), code="required")
    try:
        iban = IBAN(text)
    except SchwiftyException:
        raise ValidationError(
            _("This IBAN is not valid: check it against your bank details (RIB)."),
            code="invalid",
        ) from None
    if not iban.in_sepa_zone:
        raise ValidationError(
            _("Direct debit needs an account in a country of the SEPA area."), code="not_sepa"
        )
    return iban


def normalized_bic(value):
    text = "".join((value or "").split()).upper()
    try:
        return BIC(text)
    except SchwiftyException:
        raise ValidationError(
            _("This BIC is not valid (8 or 11 characters)."), code="invalid"
        ) from None


def grouped(iban):
    return " ".join(iban[i : i + 4] for i in range(0, len(iban), 4))


def masked(iban):
    """`FR76 •••• •••• •••• •••• •••• 1234`: enough to recognise the account."""
    if not iban:
        return ""
    hidden = iban[:4] + "•" * (len(iban) - 8) + iban[-4:]
    return grouped(hidden)


def creditor_id_valid(ics):
    """A SEPA creditor identifier: country, two check digits (ISO 7064 mod
    97-10 over the national part and the country), business code, national
    identifier."""
    ics = "".join((ics or "").split()).upper()
    if len(ics) < 8 or not ics[:2].isalpha() or not ics[2:4].isdigit():
        return False
    national = ics[7:]
    if not national.isalnum():
        return False
    digits = "".join(str(int(c, 36)) for c in national + ics[:2] + "00")
    return 98 - int(digits) % 97 == int(ics[2:4])


def check_creditor(creditor):
    errors = {}
    if creditor.ics and not creditor_id_valid(creditor.ics):
        errors["ics"] = _("This creditor identifier (ICS) is not valid.")
    else:
        creditor.ics = "".join(creditor.ics.split()).upper()
    try:
        creditor.iban = str(normalized_iban(creditor.iban).compact)
    except ValidationError as error:
        errors["iban"] = error.messages
    try:
        creditor.bic = str(normalized_bic(creditor.bic))
    except ValidationError as error:
        errors["bic"] = error.messages
    if errors:
        raise ValidationError(errors)
