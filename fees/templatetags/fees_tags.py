from django import template

from fees.estimates import estimate_context

register = template.Library()


@register.inclusion_tag("fees/_estimate.html")
def fee_estimate(estimate, school_year, heading_level=2, assumed=()):
    """The estimate of a family for a school year (see fees/_estimate.html);
    `assumed`: the students whose wishes are not known, priced as this year."""
    return estimate_context(estimate, school_year, heading_level, assumed)
