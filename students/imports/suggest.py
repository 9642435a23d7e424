"""A mapping guessed from an export's column names, for the secretary to
check: « Tél. portable » → mobile, « Mail » → email, « N° dossier » →
ref_famille, « Resp. 2 – Nom » → [responsable2] nom. Names are compared
without accents, case or punctuation, with the synonyms offices use; every
guess is marked, and the columns not recognised are listed in `ignorer`."""

import difflib
import json
import re
import textwrap
import unicodedata

from django.utils.translation import gettext as _

from .mapping import FAMILY, FIELDS, REQUIRED, STUDENT
from .readers import REPORT_COLUMNS, normalise_header

# Words that mean the same in column names.
SAME_WORD = {
    "telephone": "tel",
    "tels": "tel",
    "portable": "mobile",
    "gsm": "mobile",
    "cellulaire": "mobile",
    "mail": "email",
    "mails": "email",
    "courriel": "email",
    "mel": "email",
    "emails": "email",
    "reference": "ref",
    "references": "ref",
    "n": "numero",
    "no": "numero",
    "num": "numero",
    "nr": "numero",
    "prenoms": "prenom",
    "resp": "responsable",
    "responsables": "responsable",
    "representant": "responsable",
    "parent": "responsable",
    "naiss": "naissance",
    "nee": "ne",
    "postale": "postal",
    "foyer": "famille",
    "enfant": "eleve",
    "eleves": "eleve",
    "dept": "departement",
    "dep": "departement",
}
# "e": « Né(e) le ».
FILLER = {"de", "d", "du", "des", "la", "le", "l", "en", "au", "e"}

STREET_NUMBER = "numero_voie"

# Column names (in the words above) offices give each field.
SYNONYMS = {
    "ref_famille": [
        "numero dossier",
        "dossier",
        "numero famille",
        "code famille",
        "id famille",
        "famille id",
        "famille ref",
        "famille numero",
        "ref dossier",
        "code dossier",
    ],
    "nom_famille": ["famille", "famille nom", "libelle famille"],
    "email_reference": ["email famille", "email principal", "email contact", "ref email"],
    "mobile_reference": [
        "mobile famille",
        "tel famille",
        "sms",
        "tel sms",
        "mobile sms",
        "ref mobile",
    ],
    "identifiant": ["login", "utilisateur", "nom utilisateur", "identifiant extranet", "compte"],
    "ref": ["numero", "id", "code", "matricule", "numero personne", "ref personne"],
    "civilite": ["titre", "civ"],
    "nom": ["nom usage", "nom usuel", "patronyme"],
    "nom_naissance": ["nom jeune fille", "nom ne"],
    "sexe": ["genre"],
    "date_naissance": ["naissance", "ne le", "date nais", "ddn", "naissance date"],
    "lieu_naissance": ["ville naissance", "commune naissance", "ne a"],
    "departement_naissance": ["departement", "departement ne"],
    "adresse": ["adresse 1", "adresse1", "rue", "voie", "adresse ligne 1", "adresse postale"],
    # Not a field: the number in the street, joined before the street's name.
    STREET_NUMBER: ["numero voie", "numero rue", "numero adresse", "numero dans voie"],
    "complement_adresse": [
        "adresse 2",
        "adresse2",
        "complement",
        "adresse ligne 2",
        "adresse suite",
        "suite adresse",
        "batiment",
    ],
    "code_postal": ["cp", "postal", "code post"],
    "ville": ["commune", "localite"],
    "tel_domicile": [
        "domicile",
        "tel fixe",
        "fixe",
        "tel maison",
        "tel",
        "tel perso",
        "tel personnel",
    ],
    "mobile": ["tel mobile", "mobile tel", "mobile perso"],
    "tel_travail": [
        "travail",
        "tel professionnel",
        "tel pro",
        "professionnel",
        "tel bureau",
        "bureau",
    ],
    "email": ["adresse email", "email perso", "email personnel", "adresse electronique"],
    "payeur": ["payant", "debiteur", "redevable", "paie"],
    "ecole": ["etablissement scolaire", "etablissement", "college", "lycee", "scolarite"],
    "classe": ["niveau scolaire", "classe scolaire"],
    "droit_image": [
        "droit a image",
        "autorisation image",
        "droit photo",
        "image",
        "photo",
        "autorisation photo",
    ],
}
ROLE = re.compile(r"^(?:responsable|resp|parent|rl|r)([1-9])$")


def words(name):
    """[(word as written, the word it means)] of a column name, without
    accents, case, punctuation or little words."""
    text = unicodedata.normalize("NFKD", str(name)).encode("ascii", "ignore").decode().lower()
    text = text.replace("e-mail", "email").replace("e mail", "email")
    found = []
    for word in re.findall(r"[a-z0-9]+", text):
        meaning = SAME_WORD.get(word, word)
        if meaning not in FILLER:
            found.append((word, meaning))
    return found


def _known():
    """{words joined by a space: field}."""
    known = {}
    for field, synonyms in SYNONYMS.items():
        for synonym in synonyms:
            known.setdefault(" ".join(m for _w, m in words(synonym)), field)
    for field in {name for names in FIELDS.values() for name in names}:
        known[" ".join(m for _w, m in words(field.replace("_", " ")))] = field
    return known


KNOWN = _known()


def responsable_number(found):
    """(the responsable's number the name gives, the other words)."""
    for index, (_word, meaning) in enumerate(found):
        match = ROLE.match(meaning)
        if match:
            return int(match[1]), found[:index] + found[index + 1 :]
        following = found[index + 1 : index + 2]
        if meaning == "responsable" and following and re.fullmatch(r"[1-9]", following[0][0]):
            return int(following[0][0]), found[:index] + found[index + 2 :]
    if any(meaning == "responsable" for _word, meaning in found):
        return 1, [pair for pair in found if pair[1] != "responsable"]
    return None, found


def guess(name, role):
    """(table, field, certain) for a column name, or None. Certain: the
    name is the field's own (« Code postal »), not a synonym."""
    found = words(name)
    number = None
    if role == "students":
        found = [pair for pair in found if pair[1] != STUDENT]
    else:
        number, found = responsable_number(found)
    key = " ".join(meaning for _word, meaning in found)
    field = KNOWN.get(key)
    if field is None:
        close = difflib.get_close_matches(key, list(KNOWN), n=1, cutoff=0.85)
        if not close:
            return None
        field = KNOWN[close[0]]
    certain = "_".join(word for word, _meaning in found) == field
    if role == "students":
        return (STUDENT, field, certain) if field in FIELDS[STUDENT] else None
    if field == "ref" and number is None:
        field, certain = "ref_famille", False  # A bare number on a family's line is the family's.
    if field in FIELDS[FAMILY]:
        return FAMILY, field, certain
    if field in FIELDS["responsable"] or field == STREET_NUMBER:
        return f"responsable{number or 1}", field, certain
    return None


def toml_string(text):
    # JSON's escapes are all TOML's; DEL is the only control JSON leaves as is.
    return json.dumps(str(text), ensure_ascii=False).replace("\x7f", "\\u007F")


def suggest_mapping(files):
    """`files`: [(file name, header, role)]. (TOML text, guesses, unmatched)."""
    tables = {}  # table → {field: (column, certain)}
    unmatched = []  # (column, file name, note)
    order = {}  # table → file name, role
    for file_name, header, role in files:
        if role == "students":
            order.setdefault(STUDENT, (file_name, role))
        else:
            order.setdefault(FAMILY, (file_name, role))
        for column in header:
            if normalise_header(column) in REPORT_COLUMNS:
                continue
            found = guess(column, role)
            if found is None:
                unmatched.append((column, file_name, ""))
                continue
            table, field, certain = found
            order.setdefault(table, (file_name, role))
            fields = tables.setdefault(table, {})
            if field in fields:
                note = _("looks like [%(table)s] %(field)s too, given to “%(other)s”") % {
                    "table": table,
                    "field": field,
                    "other": fields[field][0],
                }
                unmatched.append((column, file_name, note))
                continue
            fields[field] = (column, certain)
    if FAMILY in order and not any(t.startswith("responsable") for t in order):
        order["responsable1"] = order[FAMILY]
    for table, fields in tables.items():
        number = fields.pop(STREET_NUMBER, None)
        if number and "adresse" in fields:
            fields["adresse"] = ([number[0], fields["adresse"][0]], False)
        elif number:
            unmatched.append((number[0], order[table][0], ""))

    out = [
        *comment(
            _(
                "Which column of the export gives which field of the portal, guessed from "
                "the column names: check each line marked “to check”, then import with "
                "--columns. A field is written:"
            )
        ),
        '#   champ = "Colonne"',
        '#   champ = { joindre = ["Colonne 1", "Colonne 2"] }   # '
        + _("joined with a space (or separateur)"),
        '#   champ = { premier = ["Colonne 1", "Colonne 2"] }   # ' + _("the first non-empty"),
        "",
        *comment(_("Columns not recognised: left out, unless you give them to a field below.")),
        "ignorer = [",
    ]
    for column, file_name, note in unmatched:
        out.append(f"    {toml_string(column)},  # {file_name}{' – ' + note if note else ''}")
    out += ["]", ""]
    guesses = 0
    table_names = sorted(order, key=_table_order)
    for table in table_names:
        file_name, role = order[table]
        fields = tables.get(table, {})
        if table == FAMILY:
            out += comment(_("%(file)s: one family per line.") % {"file": file_name})
        elif table == STUDENT:
            out += comment(_("%(file)s: one student per line.") % {"file": file_name})
        out.append(f"[{table}]")
        allowed = FIELDS["responsable" if table.startswith("responsable") else table]
        required = REQUIRED["responsable" if table.startswith("responsable") else table]
        for field in allowed:
            if field in fields:
                column, certain = fields[field]
                if isinstance(column, list):
                    joined = ", ".join(toml_string(c) for c in column)
                    line = f"{field} = {{ joindre = [{joined}] }}"
                else:
                    line = f"{field} = {toml_string(column)}"
                if not certain:
                    guesses += 1
                    line += "  # " + _("to check")
                out.append(line)
            elif field in required:
                out.append(
                    f"# {field} = " + _("REQUIRED: no column found, give the one it comes from.")
                )
        if table == FAMILY and "email_reference" not in fields:
            out += comment(
                _(
                    "email_reference: no column, so each family's reference e-mail will be "
                    "the e-mail of its first responsable who has one."
                )
            )
        if table.startswith("responsable") and "ref" not in fields:
            out += comment(
                _(
                    "ref: no column, so the responsable's reference is the family's "
                    "followed by -%(n)s."
                )
                % {"n": table.removeprefix("responsable")}
            )
        others = [
            f
            for f in allowed
            if f not in fields
            and f not in required
            and not (f == "ref" and table != STUDENT)
            and not (f == "email_reference" and table == FAMILY)
        ]
        if others:
            out += comment(_("Other fields: %(fields)s") % {"fields": ", ".join(others)})
        out.append("")
    return "\n".join(out), guesses, len(unmatched)


def comment(text):
    return ["# " + line for line in textwrap.wrap(text, width=88, break_on_hyphens=False)]


def _table_order(table):
    if table == FAMILY:
        return 0
    if table == STUDENT:
        return 99
    return int(table.removeprefix("responsable"))
