from django import template

from directdebit import mandates

register = template.Library()


@register.inclusion_tag("directdebit/_mandate_box.html")
def mandate_box(family, heading_level=2):
    """The family's mandate, for the Facturation tab: the active one (holder,
    IBAN masked, RUM, date signed and what can be done with it), else a link
    to sign one when the site takes direct debits, else nothing."""
    # A site that is no creditor has no mandates to show: one query then.
    offered = mandates.creditor_of(family.site_id) is not None
    mandate = mandates.family_mandate(family) if offered else None
    return {"mandate": mandate, "offered": offered, "heading": heading_level}
