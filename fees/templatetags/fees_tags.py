from django import template

from fees.estimates import parts

register = template.Library()


@register.inclusion_tag("fees/_estimate.html")
def fee_estimate(estimate, school_year, heading_level=2, assumed=()):
    """The estimate of a family for a school year (see fees/_estimate.html);
    `assumed`: the students whose wishes are not known, priced as this year."""
    context = {
        "estimate": estimate,
        "school_year": school_year,
        "heading": heading_level,
        "subheading": heading_level + 1,
        "assumed": assumed,
    }
    if estimate is not None and estimate.priced and estimate.lines:
        context["parts"] = parts(estimate)
        context["periods"] = estimate.by_period()
    return context
