"""Where a family's post goes: its paying responsable's address, as printed
on invoices, reminders and invitation letters."""


def payer_of(family):
    """The responsable who pays: the one marked as payer, else the first.
    Reads `family.guardians.all()`, so a prefetch saves the query."""
    guardians = list(family.guardians.all())
    return next((g for g in guardians if g.is_payer), guardians[0] if guardians else None)


def postal_lines(guardian):
    """The address block, line by line: name, street, postal code and city,
    and the country when it is not France (La Poste's order)."""
    lines = [
        str(guardian),
        guardian.address_line1,
        guardian.address_line2,
        f"{guardian.postal_code} {guardian.city}".strip(),
    ]
    if guardian.country and guardian.country.lower() != "france":
        lines.append(guardian.country)
    return [line for line in lines if line]


def postal_address(family, payer=None):
    """`payer`'s postal address (split billing), else the family's payer's,
    else the first responsable's: (name, address block)."""
    guardian = payer or payer_of(family)
    if guardian is None:
        return family.name, ""
    name = f"{guardian.first_name} {guardian.last_name}".strip()
    return name, "\n".join(postal_lines(guardian))
