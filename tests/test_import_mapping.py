"""Importing an export as the previous software writes it: its own column
names through a mapping (--columns), a separate students file, two
responsables on a line; the mapping guessed (--suggest-columns); every error
of a line at once; rejects that import again once corrected."""

import csv
import io
import re
import shutil
import textwrap
import tomllib
from datetime import date
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from families.models import Family, Guardian
from students.models import Student

DATA = Path(__file__).resolve().parent / "data" / "imports"
SAMPLES = Path(__file__).resolve().parent.parent / "students" / "imports" / "samples"
README = Path(__file__).resolve().parent.parent / "README.md"


@pytest.fixture
def export(tmp_path):
    """A copy of the export and its mapping (the commands write reports beside)."""
    for name in ("familles.csv", "eleves.csv", "correspondance.toml"):
        shutil.copy(DATA / name, tmp_path / name)
    return tmp_path


def call(command, *args, site="combs-la-ville"):
    """(stdout, stderr, the CommandError or None)."""
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command(
            command, *map(str, args), "--site", site, "--verbosity", "0", stdout=out, stderr=err
        )
    except CommandError as error:
        return out.getvalue(), err.getvalue(), error
    return out.getvalue(), err.getvalue(), None


def read_rows(path, encoding="utf-8-sig"):
    with open(path, encoding=encoding, newline="") as handle:
        return list(csv.reader(handle, delimiter=";"))


def write_rows(path, rows, encoding="utf-8"):
    with open(path, "w", encoding=encoding, newline="") as handle:
        csv.writer(handle, delimiter=";").writerows(rows)
    return path


def edit(path, changes, encoding="utf-8"):
    """Sets cells: {(line number, column name): value}; line 1 is the header."""
    rows = read_rows(path)
    for (line, column), value in changes.items():
        rows[line - 1][rows[0].index(column)] = value
    return write_rows(path, rows, encoding)


def counts(out):
    """The summary table: {"Familles": (created, updated, unchanged, rejected)…}."""
    found = {}
    for line in out.splitlines():
        match = re.match(r"^(Familles|Responsables|Élèves)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)$", line)
        if match:
            found[match[1]] = tuple(int(n) for n in match.groups()[1:])
    return found


def families_import(export, *extra):
    return call(
        "import_families",
        export / "familles.csv",
        "--students",
        export / "eleves.csv",
        "--columns",
        export / "correspondance.toml",
        *extra,
    )


def test_families_and_students_files_through_a_mapping(combs, export):
    out, err, error = families_import(export)
    assert error is None, err
    assert counts(out) == {
        "Familles": (3, 0, 0, 0),
        "Responsables": (4, 0, 0, 0),
        "Élèves": (3, 0, 0, 0),
    }
    families = {
        f.external_ref: (f.name, f.reference_email, str(f.reference_mobile))
        for f in Family.objects.filter(site=combs)
    }
    assert families == {
        # No « Mail famille »: the first responsable's e-mail.
        "1001": ("Müller", "anne.muller@example.org", "+33612345678"),
        "1002": ("N'Diaye", "famille.ndiaye@example.org", "+33611223344"),
        # No mobile: the first non-empty of the two phone columns.
        "1003": ("Le Goff", "", "+33160000000"),
    }
    guardians = sorted(
        Guardian.objects.values_list(
            "external_ref", "family__external_ref", "position", "first_name", "address_line1"
        )
    )
    assert guardians == [
        ("1001-1", "1001", 1, "Anne-Sophie", "3 rue de l'Église"),
        ("1001-2", "1001", 2, "Jean", "3 rue de l'Église"),
        ("1002-1", "1002", 1, "Aïssatou", "12 avenue Jean Jaurès"),
        ("1003-1", "1003", 1, "Yann", "8 allée des Tilleuls"),
    ]
    students = sorted(
        Student.objects.values_list("external_ref", "family__external_ref", "birth_date", "sex")
    )
    assert students == [
        ("E1", "1001", date(2015, 3, 12), "F"),
        ("E2", "1002", date(2016, 9, 20), "M"),
        ("E3", "1003", date(2014, 5, 2), "F"),
    ]
    # The same files again change nothing.
    out, _err, error = families_import(export)
    assert error is None
    assert counts(out) == {
        "Familles": (0, 0, 3, 0),
        "Responsables": (0, 0, 4, 0),
        "Élèves": (0, 0, 3, 0),
    }


def test_the_reference_e_mail_rule_is_said_in_the_summary(combs, export):
    out, _err, _error = families_import(export)
    assert (
        "E-mail de référence\u00a0: colonne «\u00a0Mail famille\u00a0» pour 1 famille(s), "
        "e-mail du premier responsable qui en a un pour 1 (cellule vide), conservé tel "
        "qu’il est sur le portail pour 0, aucun pour 1 (lettre à imprimer)."
    ) in out
    # A family changed its address on the portal: a responsable's e-mail never replaces it.
    Family.objects.filter(external_ref="1001").update(reference_email="choisi@example.org")
    mapping = (export / "correspondance.toml").read_text()
    (export / "correspondance.toml").write_text(
        mapping.replace('email_reference = "Mail famille"\n', "")
    )
    (export / "correspondance.toml").write_text(
        (export / "correspondance.toml")
        .read_text()
        .replace("ignorer = [", 'ignorer = ["Mail famille", ')
    )
    out, _err, error = families_import(export)
    assert error is None
    assert (
        "E-mail de référence\u00a0: pas de colonne, donc e-mail du premier responsable qui en "
        "a un pour 0 famille(s), conservé tel qu’il est sur le portail pour 2, aucun pour 1 "
        "(lettre à imprimer)."
    ) in out
    assert Family.objects.get(external_ref="1001").reference_email == "choisi@example.org"


def test_the_first_responsable_with_an_e_mail_gives_it(combs, export):
    edit(export / "familles.csv", {(2, "Mail"): ""})
    families_import(export)
    assert Family.objects.get(external_ref="1001").reference_email == "jean.muller@example.org"


def test_invitations_go_by_e_mail_to_every_family_with_an_address(combs, export, tmp_path):
    families_import(export)
    call_command("create_accounts", "--site", combs.slug, stdout=io.StringIO())
    out = io.StringIO()
    call_command(
        "send_invitations",
        "--site",
        combs.slug,
        "--base-url",
        "https://extranet.example.org",
        "--letters",
        str(tmp_path / "lettres.pdf"),
        stdout=out,
    )
    assert "2 invitation(s)" in out.getvalue()
    assert re.search(r"le-goff\s+Le Goff", out.getvalue())  # The one letter.


def test_students_file_alone_joins_families_already_on_the_portal(combs, export):
    call("import_families", export / "familles.csv", "--columns", export / "correspondance.toml")
    assert Student.objects.count() == 0
    rows = read_rows(export / "eleves.csv")
    rows.append(["E9", "9999", "Inconnu", "Tom", "01/01/2015", "M", ""])
    write_rows(export / "eleves.csv", rows)
    args = ("import_students", export / "eleves.csv", "--columns", export / "correspondance.toml")
    _out, err, error = call(*args)
    assert error is not None
    assert "eleves.csv:5:N° dossier: Famille «\u00a09999\u00a0» inconnue" in err
    out, _err, error = call(*args, "--skip-invalid")
    assert error is None
    assert out.splitlines()[-1].startswith("3 créé(s), 0 mis à jour, 0 inchangé(s), 1 rejeté(s)")
    assert Student.objects.filter(family__external_ref="1001").get().first_name == "Léa"
    report = read_rows(export / "eleves-rejets.csv")
    assert report[0] == [*rows[0], "ligne", "erreurs"]
    assert report[1][:7] == rows[4] and report[1][7] == "5"


def test_a_students_file_without_a_mapping_needs_no_type_column(combs, tmp_path):
    call_command(
        "import_families",
        str(SAMPLES / "familles.csv"),
        "--site",
        combs.slug,
        "--verbosity",
        "0",
        stdout=io.StringIO(),
    )
    path = write_rows(
        tmp_path / "eleves.csv",
        [
            ["ref", "ref_famille", "nom", "prenom", "date_naissance"],
            ["E-9", "F-001", "Müller", "Tom", "01/02/2017"],
        ],
    )
    _out, err, error = call("import_students", path)
    assert error is None, err
    assert Student.objects.get(external_ref="E-9").family.external_ref == "F-001"


# Guessing the mapping.


def test_suggest_columns_from_the_export_s_headers(combs, export):
    target = export / "devine.toml"
    out, _err, error = call(
        "import_families",
        export / "familles.csv",
        "--students",
        export / "eleves.csv",
        "--suggest-columns",
        target,
    )
    assert error is None
    assert "13 supposition(s) à vérifier, 2 colonne(s) non reconnue(s)" in out
    text = target.read_text(encoding="utf-8")
    mapping = tomllib.loads(text)
    assert mapping["ignorer"] == ["Pointure", "Instrument"]
    assert mapping["famille"] == {
        "ref_famille": "N° dossier",
        "nom_famille": "Nom famille",
        "email_reference": "Mail famille",
    }
    assert mapping["responsable1"] == {
        "civilite": "Civilité",
        "nom": "Nom",
        "prenom": "Prénom",
        "adresse": {"joindre": ["N° voie", "Voie"]},
        "code_postal": "CP",
        "ville": "Ville",
        "tel_domicile": "Tél. domicile",
        "mobile": "Tél. portable",
        "email": "Mail",
    }
    assert mapping["responsable2"]["nom"] == "Resp. 2 – Nom"
    assert mapping["responsable2"]["mobile"] == "Resp. 2 – Tél. portable"
    assert mapping["eleve"] == {
        "ref": "N° élève",
        "ref_famille": "N° dossier",
        "nom": "Nom",
        "prenom": "Prénom",
        "sexe": "Sexe",
        "date_naissance": "Né(e) le",
    }
    # Guesses are marked; names that are the field's own are not.
    for guessed in ["N° dossier", "Tél. portable", "Mail", "CP", "Resp. 2 – Mail"]:
        assert re.search(rf'^\w+ = "{guessed}"  # à vérifier$', text, re.M), guessed
    assert re.search(r'^adresse = \{ joindre = \["N° voie", "Voie"\] \}  # à vérifier$', text, re.M)
    assert re.search(r'^nom = "Nom"$', text, re.M)
    assert re.search(r'^\s+"Pointure",  # familles\.csv$', text, re.M)
    assert "# email_reference" not in text
    # As guessed, the files import.
    _out, err, error = call(
        "import_families",
        export / "familles.csv",
        "--students",
        export / "eleves.csv",
        "--columns",
        target,
    )
    assert error is None, err
    assert Guardian.objects.count() == 4 and Student.objects.count() == 3
    # An existing mapping is never overwritten.
    _out, _err, error = call(
        "import_families", export / "familles.csv", "--suggest-columns", target
    )
    assert "existe déjà" in str(error)


def test_suggest_columns_says_what_is_missing(combs, tmp_path):
    path = write_rows(tmp_path / "f.csv", [["Dossier", "Nom", "Prénom", "Téléphone", "Pointure"]])
    target = tmp_path / "m.toml"
    call("import_families", path, "--suggest-columns", target)
    text = target.read_text()
    assert "# civilite = OBLIGATOIRE" in text and "# adresse = OBLIGATOIRE" in text
    comments = text.replace("\n# ", " ")  # Long comments are wrapped.
    assert (
        "email_reference\u00a0: aucune colonne, donc l’e-mail de référence de chaque famille "
        "sera celui de son premier responsable qui en a un." in comments
    )
    assert tomllib.loads(text)["responsable1"] == {
        "nom": "Nom",
        "prenom": "Prénom",
        "tel_domicile": "Téléphone",
    }
    # Until the required fields are given, the mapping is refused.
    _out, err, error = call("import_families", path, "--columns", target)
    assert "m.toml: [responsable1]\u00a0: «\u00a0civilite\u00a0» est obligatoire" in err
    assert error is not None and Family.objects.count() == 0


def test_suggest_columns_for_a_file_in_the_portal_s_own_names(combs, tmp_path):
    out, _err, error = call(
        "import_families", SAMPLES / "familles.csv", "--suggest-columns", tmp_path / "m.toml"
    )
    assert error is None
    assert "sont celles du portail" in out and not (tmp_path / "m.toml").exists()


def test_an_excel_export_through_a_mapping(combs, export):
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    for number, row in enumerate(read_rows(export / "familles.csv")):
        if number:
            # Excel keeps numbers as numbers: leading zeros lost.
            row[0] = int(row[0])
            row[8] = int(row[8].replace("77000", "07700"))
            row[11] = int(row[11].replace(" ", "")) if row[11] else None
        sheet.append(row)
    workbook.save(export / "familles.xlsx")
    _out, err, error = call(
        "import_families", export / "familles.xlsx", "--columns", export / "correspondance.toml"
    )
    assert error is None, err
    anne = Guardian.objects.get(external_ref="1001-1")
    assert anne.postal_code == "07700" and anne.mobile_phone == "+33612345678"
    assert Family.objects.get(external_ref="1001").reference_mobile == "+33612345678"


# Errors.


def test_every_error_of_a_line_is_reported(combs, export):
    rows = read_rows(export / "familles.csv")
    rows[3][0] = "1001"  # Line 4: the family of line 2 again…
    rows[3][11] = "12 34"  # …with a wrong mobile…
    rows[3][8] = "770"  # …and a wrong postal code.
    write_rows(export / "familles.csv", rows)
    _out, err, error = families_import(export)
    assert "rien n’a été importé" in str(error)
    line_4 = [line for line in err.splitlines() if line.startswith("familles.csv:4:")]
    # The mobile and the family's mobile (the first of the two phones) come
    # from the same cell: said once.
    assert len(line_4) == 3, err
    assert any(
        re.match(r"familles\.csv:4:N° dossier: .*«\u00a01001\u00a0».*ligne 2", e) for e in line_4
    )
    assert any(e.startswith("familles.csv:4:Tél. portable: ") for e in line_4)
    assert any(e.startswith("familles.csv:4:CP: ") and "5 chiffres" in e for e in line_4)
    assert Family.objects.count() == 0


def test_every_error_of_a_row_without_mapping(combs, tmp_path):
    header = [
        "type",
        "ref",
        "ref_famille",
        "civilite",
        "nom",
        "prenom",
        "adresse",
        "code_postal",
        "ville",
        "mobile",
    ]
    person = ["responsable", "R1", "F1", "Mme", "Durand", "Anne", "1 rue", "77000", "Melun", ""]
    again = [*person[:9], "12 34"]
    again[7] = "770"
    path = write_rows(tmp_path / "f.csv", [header, person, again])
    _out, err, _error = call("import_families", path)
    assert re.search(r"^f\.csv:3:ref: .*double.*ligne 2", err, re.M)
    assert re.search(r"^f\.csv:3:mobile: ", err, re.M)
    assert re.search(r"^f\.csv:3:code_postal: ", err, re.M)


@pytest.mark.parametrize(
    "case", ["unknown column", "missing column", "not in the file", "neither", "twice"]
)
def test_skip_invalid_never_drops_a_file_silently(combs, export, case):
    if case == "unknown column":
        path = write_rows(
            export / "f.csv",
            [["type", "ref", "ref_famille", "nom", "prenom", "Pointure"], ["responsable"] * 6],
        )
        args = [path]
    elif case == "missing column":
        path = write_rows(export / "f.csv", [["type", "ref", "nom", "prenom"], ["responsable"] * 4])
        args = [path]
    elif case == "not in the file":
        rows = read_rows(export / "familles.csv")
        rows[0][rows[0].index("CP")] = "Code"
        path = write_rows(export / "familles.csv", rows)
        args = [path, "--columns", export / "correspondance.toml"]
    else:
        rows = read_rows(export / "familles.csv")
        rows[0][rows[0].index("Pointure")] = "Quotient" if case == "neither" else "Nom"
        path = write_rows(export / "familles.csv", rows)
        args = [path, "--columns", export / "correspondance.toml"]
    out, err, error = call("import_families", *args, "--skip-invalid")
    assert error is not None and "rien n’a été importé" in str(error)
    assert re.search(rf"^{path.name}:1:", err, re.M)
    if case == "twice":
        assert "familles.csv:1:Nom: Deux colonnes portent ce nom (colonnes 5 et 23)" in err
    assert Family.objects.count() == 0 and Guardian.objects.count() == 0
    assert not list(export.glob("*-rejets.csv")) and "rejet" not in out


def test_a_wrong_mapping_is_refused_with_its_reasons(combs, export):
    (export / "correspondance.toml").write_text(
        """
ignorer = "Pointure"
[familles]
ref_famille = "N° dossier"
[famille]
pointure = "Pointure"
[responsable1]
nom = ["Nom", "Resp. 2 – Nom"]
prenom = { joindre = ["Prénom"], premier = ["Prénom"] }
""",
        encoding="utf-8",
    )
    _out, err, error = call(
        "import_families", export / "familles.csv", "--columns", export / "correspondance.toml"
    )
    assert "n’est pas juste" in str(error)
    for expected in [
        "«\u00a0ignorer\u00a0» est une liste",
        "[familles]\u00a0: table inconnue",
        "[famille] pointure\u00a0: champ inconnu ici",
        "[famille]\u00a0: «\u00a0ref_famille\u00a0» est obligatoire",
        "[responsable1] nom\u00a0: écrivez",
        "[responsable1] prenom\u00a0: écrivez",
        "[responsable1]\u00a0: «\u00a0civilite\u00a0» est obligatoire",
    ]:
        assert expected in err, expected
    (export / "correspondance.toml").write_text("[famille\n")
    _out, err, error = call(
        "import_families", export / "familles.csv", "--columns", export / "correspondance.toml"
    )
    assert "ne peut pas être lu comme du TOML" in err


def test_blank_invalid_optional_values(combs, export):
    edit(
        export / "familles.csv",
        {
            (2, "Mail"): "josé@example.org",  # Accents before the @: no mail system takes it.
            (2, "Resp. 2 – Tél. portable"): "12 34",
            (3, "Tél. portable"): "06 11 22 33 44 55",
        },
    )
    _out, err, error = families_import(export)
    assert error is not None and "3 erreur(s)" in str(error)
    out, err, error = families_import(export, "--blank-invalid-optional")
    assert error is None, err
    assert counts(out)["Responsables"] == (4, 0, 0, 0)
    assert "familles.csv:2:Mail: attention\u00a0: «\u00a0josé@example.org\u00a0» laissé vide" in err
    assert (
        "familles.csv:2:Resp. 2 – Tél. portable: attention\u00a0: «\u00a012 34\u00a0» laissé vide"
        in err
    )
    anne = Guardian.objects.get(external_ref="1001-1")
    assert anne.email == ""
    assert Guardian.objects.get(external_ref="1001-2").mobile_phone == ""
    # The family's e-mail: the first responsable's that is valid.
    assert Family.objects.get(external_ref="1001").reference_email == "jean.muller@example.org"
    # The reference mobile of family 1002 came from the same wrong cell: left empty too.
    assert Family.objects.get(external_ref="1002").reference_mobile == ""
    # Required fields still reject the family.
    edit(export / "familles.csv", {(4, "CP"): "770"})
    _out, err, error = families_import(export, "--blank-invalid-optional")
    assert error is not None and "familles.csv:4:CP: " in err


def test_already_blanked_values_keep_the_portal_s(combs, export):
    families_import(export)
    edit(export / "familles.csv", {(2, "Mail"): "josé@example.org"})
    _out, _err, error = families_import(export, "--blank-invalid-optional")
    assert error is None
    assert Guardian.objects.get(external_ref="1001-1").email == "anne.muller@example.org"


def test_question_marks_inside_words_are_warned_about(combs, export):
    edit(
        export / "familles.csv",
        {
            (2, "Prénom"): "Fran?oise",
            (2, "Mail"): "fran?oise@example.org",
            (3, "Voie"): "rue du Ch?teau",
        },
    )
    edit(export / "eleves.csv", {(3, "Prénom"): "Ma\ufffdlle"})
    out, err, error = families_import(export)
    assert error is None, err
    warnings = [line for line in err.splitlines() if "attention" in line]
    assert [w.split(": attention")[0] for w in warnings] == [
        "familles.csv:2:Prénom",
        "familles.csv:2:Mail",
        "familles.csv:3:N° voie + Voie",
        "eleves.csv:3:Prénom",
    ]
    assert "«\u00a0Fran?oise\u00a0»\u00a0: un «\u00a0?\u00a0» au milieu d’un mot" in warnings[0]
    assert "4 avertissement(s)" in out
    assert Guardian.objects.get(external_ref="1001-1").first_name == "Fran?oise"


def test_a_cp1252_export_through_a_mapping(combs, export):
    for name in ("familles.csv", "eleves.csv"):
        text = (export / name).read_text(encoding="utf-8")
        (export / name).write_bytes(text.encode("cp1252"))
    _out, err, error = families_import(export)
    assert error is None, err
    assert "attention" not in err
    assert Guardian.objects.get(external_ref="1001-2").address_line1 == "3 rue de l'Église"
    assert Student.objects.get(external_ref="E1").first_name == "Léa"
    # Read as UTF-8 by mistake: refused with a clear message.
    _out, _err, error = families_import(export, "--encoding", "utf-8")
    assert "encodage" in str(error)


# Rejects.


def test_rejects_keep_the_file_s_columns_and_import_again_once_corrected(combs, export):
    edit(export / "familles.csv", {(2, "Resp. 2 – CP"): "770", (3, "Tél. portable"): "0"})
    out, err, error = families_import(export, "--skip-invalid")
    assert error is None, err
    assert counts(out) == {
        "Familles": (1, 0, 0, 2),
        "Responsables": (1, 0, 0, 3),
        "Élèves": (1, 0, 0, 2),
    }
    assert "2 ligne(s) rejetée(s) enregistrée(s) dans" in out
    report = read_rows(export / "familles-rejets.csv")
    original = read_rows(export / "familles.csv")
    assert report[0] == [*original[0], "ligne", "erreurs"]
    assert [row[-2] for row in report[1:]] == ["2", "3"]
    assert report[1][:-2] == original[1] and "Resp. 2 – CP : " in report[1][-1]
    students = read_rows(export / "eleves-rejets.csv")
    assert [row[0] for row in students[1:]] == ["E1", "E2"]
    assert "rejetée avec les autres lignes de sa famille" in students[1][-1]
    # Corrected, the reports import with the same mapping; a line still wrong
    # keeps its first line number.
    rows = read_rows(export / "familles-rejets.csv")
    rows[1][original[0].index("Resp. 2 – CP")] = "77000"
    write_rows(export / "familles-rejets.csv", rows)
    out, err, error = call(
        "import_families",
        export / "familles-rejets.csv",
        "--students",
        export / "eleves-rejets.csv",
        "--columns",
        export / "correspondance.toml",
        "--skip-invalid",
    )
    assert error is None, err
    assert counts(out)["Familles"] == (1, 0, 0, 1)
    again = read_rows(export / "familles-rejets-rejets.csv")
    assert [row[-2] for row in again[1:]] == ["3"]
    rows = read_rows(export / "familles-rejets-rejets.csv")
    rows[1][original[0].index("Tél. portable")] = "06 11 22 33 44"
    write_rows(export / "familles-rejets-rejets.csv", rows)
    out, err, error = call(
        "import_families",
        export / "familles-rejets-rejets.csv",
        "--students",
        export / "eleves-rejets-rejets.csv",
        "--columns",
        export / "correspondance.toml",
    )
    assert error is None, err
    assert Family.objects.count() == 3 and Guardian.objects.count() == 4
    assert Student.objects.count() == 3


def test_the_readme_example(combs, tmp_path, monkeypatch):
    """The README's example: its files, mapping, commands and output."""
    monkeypatch.chdir(tmp_path)
    for name in ("export-familles.csv", "export-eleves.csv"):
        shutil.copy(SAMPLES / name, tmp_path / name)
    readme = README.read_text()
    files = ["export-familles.csv", "--students", "export-eleves.csv"]
    out, _err, error = call("import_families", *files, "--suggest-columns", "correspondance.toml")
    assert error is None
    assert textwrap.indent(out.rstrip(), "    ") in readme, out
    # The checked mapping is the suggestion, with the family's mobile added.
    checked = tomllib.loads((SAMPLES / "correspondance.toml").read_text())
    suggested = tomllib.loads((tmp_path / "correspondance.toml").read_text())
    assert checked["famille"].pop("mobile_reference") == {
        "premier": ["Tél. portable", "Resp. 2 – Tél. portable"]
    }
    assert suggested == checked
    shutil.copy(SAMPLES / "correspondance.toml", tmp_path / "correspondance.toml")
    assert (SAMPLES / "correspondance.toml").read_text().strip() in readme
    out, err, error = call("import_families", *files, "--columns", "correspondance.toml")
    assert error is None, err
    shown = re.sub(r"en \d+\.\d s", "en 0.4 s", out.rstrip())
    assert textwrap.indent(shown, "    ") in readme, shown
    assert Family.objects.count() == 3 and Student.objects.count() == 4
    assert Family.objects.get(external_ref="1002").reference_mobile == "+33611223344"
