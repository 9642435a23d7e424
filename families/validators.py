import re
from datetime import date

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

# Corsica is 2A and 2B (no more 20) since 1976.
DEPARTMENT_RE = re.compile(r"^(0[1-9]|1[0-9]|2[1-9]|[3-8][0-9]|9[0-5]|2A|2B|97[1-6]|99)$")
FRENCH_POSTAL_CODE_RE = re.compile(r"^\d{5}$")
OLDEST_PLAUSIBLE_AGE = 120


def validate_department(value):
    if value and not DEPARTMENT_RE.match(value.upper()):
        raise ValidationError(
            _(
                "Enter a French department code: 01 to 95, 2A, 2B, 971 to 976, "
                "or 99 if born abroad."
            ),
            code="department",
        )


def is_france(country):
    return (country or "").strip().casefold() in {"", "france", "fr"}


def validate_postal_code(postal_code, country):
    if is_france(country) and postal_code and not FRENCH_POSTAL_CODE_RE.match(postal_code):
        raise ValidationError(
            {"postal_code": _("A French postal code has 5 digits, for example 77380.")},
            code="postal_code",
        )


def validate_birth_date(value, youngest_age=0):
    today = timezone.localdate()
    if value > today:
        raise ValidationError(_("The date of birth cannot be in the future."), code="future")
    if value < date(today.year - OLDEST_PLAUSIBLE_AGE, 1, 1):
        raise ValidationError(_("Check the year of birth."), code="implausible")
    if youngest_age and value > today.replace(year=today.year - youngest_age):
        raise ValidationError(
            _("A guardian must be at least %(age)d years old.") % {"age": youngest_age},
            code="too_young",
        )


def validate_adult_birth_date(value):
    validate_birth_date(value, youngest_age=16)


def invoice_shares_problem(shares):
    """Why the payers' shares of split billing (percentages, None when not
    set) cannot be used, or "" when they can: none set, or payers whose
    shares add up to 100."""
    given = [share for share in shares if share]
    if not given:
        return ""
    if len(given) != len(shares) or sum(given) != 100:
        return _("The payers' shares of the invoices must add up to 100 %.")
    return ""
