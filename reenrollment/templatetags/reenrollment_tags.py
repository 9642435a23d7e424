"""What the re-enrollment pages need to read well in French."""

import unicodedata

from django import template

from reenrollment.queries import not_granted as answered

register = template.Library()


@register.filter
def elides(name):
    """Whether "de" before `name` becomes "d’" in French (« la demande
    d’Hugo », « d’Inès », but « de Léa »)."""
    first = unicodedata.normalize("NFD", str(name).strip()[:1]).casefold()[:1]
    return first in set("aeiouyh")


@register.filter
def not_granted(wishes):
    """The wishes answered without a course (refused, waiting list)."""
    return answered(wishes)
