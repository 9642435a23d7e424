import csv
import io
import re
from datetime import date, timedelta
from pathlib import Path

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from openpyxl import Workbook
from pypdf import PdfReader

from extranet.models import User
from families.models import Family, Guardian
from students.models import Course, Enrollment, Student

SAMPLES = Path(__file__).resolve().parent.parent / "students" / "imports" / "samples"
HEADER = [
    "type",
    "ref",
    "ref_famille",
    "nom_famille",
    "email_reference",
    "mobile_reference",
    "civilite",
    "nom",
    "prenom",
    "date_naissance",
    "adresse",
    "code_postal",
    "ville",
    "mobile",
    "payeur",
]
ROWS = [
    [
        "responsable",
        "R1",
        "F1",
        "Müller",
        "muller@example.org",
        "06 12 34 56 78",
        "Mme",
        "Müller",
        "Anne-Sophie",
        "14/07/1980",
        "3 rue de l'Église",
        "77000",
        "Melun",
        "06 12 34 56 78",
        "oui",
    ],
    [
        "responsable",
        "R2",
        "F2",
        "N'Diaye",
        "",
        "+33 6 11 22 33 44",
        "M.",
        "N'Diaye",
        "Moussa",
        "02/02/1978",
        "12 avenue Jean Jaurès",
        "77380",
        "Combs-la-Ville",
        "0611223344",
        "non",
    ],
    ["eleve", "E1", "F1", "", "", "", "", "Müller", "Léa", "12/03/2015", "", "", "", "", ""],
]


def write_csv(path, rows, header=HEADER, encoding="utf-8", delimiter=";"):
    with open(path, "w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle, delimiter=delimiter)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def write_xlsx(path, rows, header=HEADER):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(header)
    for row in rows:
        cells = list(row)
        # Excel keeps dates as dates, and numbers as numbers (leading zeros lost).
        cells[9] = date(*reversed([int(p) for p in row[9].split("/")]))
        if cells[11]:
            cells[11] = int(cells[11])
        if cells[13] and cells[13].replace(" ", "").isdigit():
            cells[13] = int(cells[13].replace(" ", ""))
        sheet.append(cells)
    workbook.save(path)
    return path


def run(command, path, site="combs-la-ville", *args):
    out, err = io.StringIO(), io.StringIO()
    call_command(
        command, str(path), "--site", site, *args, "--verbosity", "0", stdout=out, stderr=err
    )
    return out.getvalue(), err.getvalue()


def snapshot():
    return {
        "families": sorted(
            Family.objects.values_list(
                "external_ref", "name", "reference_email", "reference_mobile"
            )
        ),
        "guardians": sorted(
            Guardian.objects.values_list(
                "external_ref",
                "civility",
                "last_name",
                "first_name",
                "birth_date",
                "postal_code",
                "mobile_phone",
                "is_payer",
            )
        ),
        "students": sorted(
            Student.objects.values_list(
                "external_ref", "first_name", "birth_date", "family__external_ref"
            )
        ),
    }


@pytest.mark.parametrize("variant", ["utf8", "utf8-bom", "cp1252", "comma", "xlsx", "short-year"])
def test_every_input_variant_imports_the_same_data(combs, tmp_path, variant):
    path = tmp_path / "familles.csv"
    rows = [list(r) for r in ROWS]
    if variant == "utf8":
        write_csv(path, rows)
    elif variant == "utf8-bom":
        write_csv(path, rows, encoding="utf-8-sig")
    elif variant == "cp1252":
        write_csv(path, rows, encoding="cp1252")
    elif variant == "comma":
        write_csv(path, rows, delimiter=",")
    elif variant == "xlsx":
        path = write_xlsx(tmp_path / "familles.xlsx", rows)
    elif variant == "short-year":
        for row in rows:
            row[9] = row[9][:6] + row[9][8:] if row[9] and row[9][6:8] == "19" else row[9]
        write_csv(path, rows)
    run("import_families", path)
    assert snapshot() == {
        "families": [
            ("F1", "Müller", "muller@example.org", "+33612345678"),
            ("F2", "N'Diaye", "", "+33611223344"),
        ],
        "guardians": [
            (
                "R1",
                "MME",
                "Müller",
                "Anne-Sophie",
                date(1980, 7, 14),
                "77000",
                "+33612345678",
                True,
            ),
            ("R2", "M", "N'Diaye", "Moussa", date(1978, 2, 2), "77380", "+33611223344", False),
        ],
        "students": [("E1", "Léa", date(2015, 3, 12), "F1")],
    }


def test_samples_shipped_with_the_readme_import(combs):
    run("import_courses", SAMPLES / "cours.csv")
    run("import_families", SAMPLES / "familles.csv")
    run("import_enrollments", SAMPLES / "inscriptions.csv")
    assert Course.objects.count() == 3 and Family.objects.count() == 2
    assert Guardian.objects.count() == 3 and Student.objects.count() == 2
    assert Enrollment.objects.count() == 4


BAD_ROWS = [
    (
        2,
        "nom",
        [
            "responsable",
            "R1",
            "F1",
            "Durand",
            "",
            "",
            "Mme",
            "",
            "Anne",
            "14/07/1980",
            "1 rue",
            "77000",
            "Melun",
            "",
            "",
        ],
        "obligatoire",
    ),
    (
        2,
        "code_postal",
        [
            "responsable",
            "R1",
            "F1",
            "Durand",
            "",
            "",
            "Mme",
            "Durand",
            "Anne",
            "14/07/1980",
            "1 rue",
            "770",
            "Melun",
            "",
            "",
        ],
        "5 chiffres",
    ),
    (
        2,
        "date_naissance",
        [
            "responsable",
            "R1",
            "F1",
            "Durand",
            "",
            "",
            "Mme",
            "Durand",
            "Anne",
            "31/02/1980",
            "1 rue",
            "77000",
            "Melun",
            "",
            "",
        ],
        "date",
    ),
    (
        2,
        "mobile",
        [
            "responsable",
            "R1",
            "F1",
            "Durand",
            "",
            "",
            "Mme",
            "Durand",
            "Anne",
            "14/07/1980",
            "1 rue",
            "77000",
            "Melun",
            "12 34",
            "",
        ],
        "téléphone",
    ),
]


@pytest.mark.parametrize("line, column, row, reason", BAD_ROWS)
def test_bad_rows_are_reported_and_nothing_is_written(combs, tmp_path, line, column, row, reason):
    path = write_csv(tmp_path / "familles.csv", [row, ROWS[1]])
    err = io.StringIO()
    with pytest.raises(CommandError, match="rien n’a été importé"):
        call_command(
            "import_families", str(path), "--site", "combs-la-ville", "--verbosity", "0", stderr=err
        )
    assert re.search(rf"^familles\.csv:{line}:{column}: .*{reason}", err.getvalue(), re.M), (
        err.getvalue()
    )
    assert Family.objects.count() == 0 and Guardian.objects.count() == 0


def test_error_report_names_file_line_column_and_reason(combs, tmp_path):
    rows = [
        BAD_ROWS[1][2],
        ROWS[1],
        ROWS[1],
        ["eleve", "E9", "F9", "", "", "", "", "Seul", "Tom", "01/01/2015", "", "", "", "", ""],
    ]
    path = write_csv(tmp_path / "familles.csv", rows)
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command(
            "import_families", str(path), "--site", "combs-la-ville", "--verbosity", "0", stderr=err
        )
    lines = err.getvalue().splitlines()
    assert any(re.match(r"familles\.csv:2:code_postal: .*5 chiffres", line) for line in lines)
    assert any(re.match(r"familles\.csv:4:ref: .*double.*ligne 3", line) for line in lines)
    assert any(re.match(r"familles\.csv:5:ref_famille: .*sans famille", line) for line in lines)
    assert Family.objects.count() == 0


def test_unknown_course_and_student_in_enrollments(combs, tmp_path):
    run("import_courses", SAMPLES / "cours.csv")
    run("import_families", SAMPLES / "familles.csv")
    path = write_csv(
        tmp_path / "inscriptions.csv",
        [["E-001", "C-XXX", ""], ["E-999", "C-FM1", ""], ["E-001", "C-FM1", ""]],
        header=["ref_eleve", "ref_cours", "niveau"],
    )
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command(
            "import_enrollments",
            str(path),
            "--site",
            "combs-la-ville",
            "--verbosity",
            "0",
            stderr=err,
        )
    assert "inscriptions.csv:2:ref_cours:" in err.getvalue()
    assert "inscriptions.csv:3:ref_eleve:" in err.getvalue()
    assert Enrollment.objects.count() == 0


def test_skip_invalid_imports_the_rest_and_reports_rejects(combs, tmp_path):
    path = write_csv(tmp_path / "familles.csv", [BAD_ROWS[1][2], ROWS[1]])
    out, _err = run("import_families", path, "combs-la-ville", "--skip-invalid")
    assert list(Family.objects.values_list("external_ref", flat=True)) == ["F2"]
    report = tmp_path / "familles-rejets.csv"
    text = report.read_text(encoding="utf-8-sig")
    assert "R1" in text and "5 chiffres" in text and "R2" not in text
    # Corrected and fed back.
    fixed = text.replace(";770;", ";77000;")
    corrected = tmp_path / "corrige.csv"
    corrected.write_text(fixed, encoding="utf-8-sig")
    run("import_families", corrected)
    assert set(Family.objects.values_list("external_ref", flat=True)) == {"F1", "F2"}


def test_dry_run_writes_nothing(combs, tmp_path):
    path = write_csv(tmp_path / "familles.csv", ROWS)
    out, _err = run("import_families", path, "combs-la-ville", "--dry-run")
    lines = out.splitlines()
    assert lines[0] == "Simulation, rien n’a été écrit."
    assert lines[1].split() == ["créés", "mis", "à", "jour", "inchangés", "rejetés"]
    assert [line.split() for line in lines[2:5]] == [
        ["Familles", "2", "0", "0", "0"],
        ["Responsables", "2", "0", "0", "0"],
        ["Élèves", "1", "0", "0", "0"],
    ]
    assert Family.objects.count() == 0 and Guardian.objects.count() == 0


def test_reimport_is_idempotent_and_updates_only_what_changed(combs, tmp_path):
    path = write_csv(tmp_path / "familles.csv", ROWS)
    run("import_families", path)
    before = snapshot()
    histories = Guardian.history.count() + Family.history.count() + Student.history.count()
    out, _err = run("import_families", path)
    assert snapshot() == before
    assert re.search(r"^Familles +0 +0 +2 +0$", out, re.M)
    assert re.search(r"^Responsables +0 +0 +2 +0$", out, re.M)
    assert re.search(r"^Élèves +0 +0 +1 +0$", out, re.M)
    changed = [list(r) for r in ROWS]
    changed[1][12] = "Melun"
    changed[1][11] = "77000"
    run("import_families", write_csv(tmp_path / "v2.csv", changed))
    moussa = Guardian.objects.get(external_ref="R2")
    assert moussa.city == "Melun" and moussa.version == 2
    assert Guardian.objects.get(external_ref="R1").version == 1
    assert (
        Guardian.history.count() + Family.history.count() + Student.history.count() == histories + 1
    )
    assert moussa.history.first().city == "Melun"


def test_same_references_on_another_site_are_other_families(combs, ploufragan, tmp_path):
    path = write_csv(tmp_path / "familles.csv", ROWS)
    run("import_families", path)
    run("import_families", path, "ploufragan")
    assert Family.objects.filter(site=ploufragan).count() == 2
    assert Family.objects.count() == 4


# Accounts.


def families(site, *names, legacy=None):
    return [
        Family.objects.create(
            site=site,
            name=name,
            legacy_username=(legacy or {}).get(name, ""),
            reference_email=f"{i}@example.org",
        )
        for i, name in enumerate(names)
    ]


def test_identifiants_from_family_names(combs, ploufragan):
    User.objects.create_user("dupont", site=combs, password=None)
    families(combs, "Dupont", "Dupont", "Müller", "N'Diaye", "Le Goff-Martin", "Éléonore d'Arc")
    families(ploufragan, "Müller")
    call_command("create_accounts", "--site", "combs-la-ville", stdout=io.StringIO())
    call_command("create_accounts", "--site", "ploufragan", stdout=io.StringIO())
    names = sorted(
        User.objects.filter(site=combs, family__isnull=False).values_list("username", flat=True)
    )
    assert names == ["dupont2", "dupont3", "eleonore-darc", "le-goff-martin", "muller", "ndiaye"]
    assert User.objects.get(site=ploufragan).username == "muller"
    assert not any(u.has_usable_password() for u in User.objects.filter(family__isnull=False))
    # Running again creates nothing.
    out = io.StringIO()
    call_command("create_accounts", "--site", "combs-la-ville", stdout=out)
    assert out.getvalue().startswith("0 ")


def test_identifiant_taken_from_the_legacy_export(combs):
    families(combs, "Martin", legacy={"Martin": "mart1"})
    call_command("create_accounts", "--site", "combs-la-ville", stdout=io.StringIO())
    assert User.objects.get(site=combs, family__isnull=False).username == "mart1"


# Invitations.


@pytest.mark.django_db(transaction=True)
def test_invitations_are_queued_mailed_without_password_and_work_once(run_worker, tmp_path):
    from extranet.models import Site

    site = Site.objects.create(name="Conservatoire", slug="combs-la-ville", email="sec@example.org")
    families(site, "Dupont", "Sans Mail")
    Family.objects.filter(name="Sans Mail").update(reference_email="")
    call_command("create_accounts", "--site", site.slug, stdout=io.StringIO())
    letters = tmp_path / "lettres.pdf"
    out = io.StringIO()
    call_command(
        "send_invitations",
        "--site",
        site.slug,
        "--rate",
        "30/min",
        "--base-url",
        "https://extranet.example.org",
        "--letters",
        str(letters),
        stdout=out,
    )
    assert "sans-mail" in out.getvalue()
    from django_tasks_db.models import DBTaskResult

    assert DBTaskResult.objects.count() == 1
    # The e-mail queued and the letter printed are both recorded on the account.
    assert not User.objects.filter(site=site, invited_at__isnull=True).exists()
    with time_machine.travel(timedelta(minutes=5)):
        run_worker()
    message = mail.outbox[0]
    assert message.to == ["0@example.org"] and "dupont" in message.body
    assert "mot de passe :" not in message.body.lower().replace("choisir", "")
    link = re.search(r"https://extranet\.example\.org(/bienvenue/\S+/)", message.body).group(1)
    client = Client()
    page = client.get(link, follow=True)
    assert page.context["validlink"]
    new = "Une-phrase-de-bienvenue-2026"
    client.post(page.redirect_chain[-1][0], {"new_password1": new, "new_password2": new})
    assert User.objects.get(username="dupont").check_password(new)
    assert not Client().get(link, follow=True).context["validlink"]
    # The letter: one page per family without e-mail, with its identifiant.
    reader = PdfReader(letters)
    assert len(reader.pages) == 1
    text = reader.pages[0].extract_text()
    assert "sans-mail" in text
    short = re.search(r"https://extranet\.example\.org(/b/[A-Z2-9]{4}-[A-Z2-9]{4}/)", text).group(1)
    # The short code leads to a first-connection link, once.
    letter_client = Client()
    page = letter_client.get(short, follow=True)
    assert page.context["validlink"]
    letter_client.post(page.redirect_chain[-1][0], {"new_password1": new, "new_password2": new})
    assert User.objects.get(username="sans-mail").check_password(new)
    assert Client().get(short).status_code == 404


@pytest.mark.django_db(transaction=True)
def test_invitation_link_expires_after_the_configured_days(settings):
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    from extranet.models import Site
    from extranet.tokens import invitation_token_generator

    site = Site.objects.create(name="C", slug="c")
    user = User.objects.create_user("x", site=site, password=None)
    token = invitation_token_generator.make_token(user)
    url = f"/bienvenue/{urlsafe_base64_encode(force_bytes(user.pk))}/{token}/"
    with time_machine.travel(timedelta(days=settings.INVITATION_VALID_DAYS - 1)):
        assert Client().get(url, follow=True).context["validlink"]
    with time_machine.travel(timedelta(days=settings.INVITATION_VALID_DAYS + 1)):
        assert not Client().get(url, follow=True).context["validlink"]


def test_invitations_respect_the_rate_and_never_logged_in(combs):
    from django_tasks_db.models import DBTaskResult

    families(combs, "A", "B", "C")
    call_command("create_accounts", "--site", combs.slug, stdout=io.StringIO())
    User.objects.filter(username="c").update(last_login="2026-01-01T00:00:00Z")
    call_command(
        "send_invitations",
        "--site",
        combs.slug,
        "--rate",
        "2/min",
        "--only-never-logged-in",
        "--base-url",
        "https://x.example",
        stdout=io.StringIO(),
    )
    runs = sorted(DBTaskResult.objects.values_list("run_after", flat=True))
    assert len(runs) == 2 and runs[1] - runs[0] == timedelta(seconds=30)
    # Once a holder has chosen a password, sending again skips the account, saying why.
    account = User.objects.get(username="a")
    account.set_password("Une-phrase-secrete-2026")
    account.save()
    out = io.StringIO()
    call_command(
        "send_invitations", "--site", combs.slug, "--base-url", "https://x.example", stdout=out
    )
    assert "1 compte ignoré\u00a0: son titulaire a déjà choisi un mot de passe." in out.getvalue()
    assert DBTaskResult.objects.count() == 4  # b and c again, not a.


def test_leading_zeros_lost_by_a_spreadsheet_are_restored_only_there():
    from students.imports.readers import Number
    from students.imports.rows import PersonRow

    row = {
        "type": "responsable",
        "ref": "R",
        "ref_famille": "F",
        "nom": "A",
        "prenom": "B",
        "civilite": "Mme",
        "adresse": "1 rue",
        "code_postal": Number(1000),
        "ville": "Bourg-en-Bresse",
        "departement_naissance": Number(1),
        "mobile": Number(612345678),
    }
    form = PersonRow(row)
    assert form.is_valid(), form.errors
    assert form.cleaned_data["code_postal"] == "01000"
    assert form.cleaned_data["departement_naissance"] == "01"
    assert form.cleaned_data["mobile"].as_e164 == "+33612345678"
    # Typed as text (a typo), or abroad: not padded.
    assert not PersonRow({**row, "code_postal": "1000"}).is_valid()
    assert PersonRow({**row, "pays": "Belgique"}).is_valid()
    belgian = PersonRow({**row, "pays": "Belgique"})
    assert belgian.is_valid() and belgian.cleaned_data["code_postal"] == "1000"


def test_reimport_with_fewer_columns_keeps_the_other_values(combs, tmp_path):
    run("import_families", write_csv(tmp_path / "full.csv", ROWS))
    Guardian.objects.filter(external_ref="R1").update(email="corrige@example.org")
    short_header = [
        "type",
        "ref",
        "ref_famille",
        "civilite",
        "nom",
        "prenom",
        "date_naissance",
        "adresse",
        "code_postal",
        "ville",
    ]
    short = [[r[0], r[1], r[2], r[6], r[7], r[8], r[9], r[10], r[11], r[12]] for r in ROWS]
    short[0][9] = "Melun-Centre"
    run("import_families", write_csv(tmp_path / "short.csv", short, header=short_header))
    anne = Guardian.objects.get(external_ref="R1")
    assert anne.city == "Melun-Centre"
    assert anne.email == "corrige@example.org" and anne.mobile_phone.as_e164 == "+33612345678"
    assert anne.is_payer


def test_header_variants_and_unknown_columns(combs, tmp_path):
    header = [
        "Type",
        "Référence",
        "Ref famille",
        "Nom famille",
        "E-mail référence",
        "Mobile référence",
        "Civilité",
        "Nom",
        "Prénom",
        "Date de naissance",
        "Adresse",
        "Code postal",
        "Ville",
        "Téléphone mobile",
        "Payeur",
    ]
    run("import_families", write_csv(tmp_path / "a.csv", ROWS, header=header))
    assert Guardian.objects.get(external_ref="R1").mobile_phone.as_e164 == "+33612345678"
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command(
            "import_families",
            str(write_csv(tmp_path / "b.csv", ROWS, header=[*HEADER[:-1], "Pointure"])),
            "--site",
            "combs-la-ville",
            "--verbosity",
            "0",
            stderr=err,
        )
    assert "b.csv:1:pointure:" in err.getvalue()


def test_a_bad_row_rejects_its_whole_family(combs, tmp_path):
    bad_student = [
        "eleve",
        "E1",
        "F1",
        "",
        "",
        "",
        "",
        "Müller",
        "Léa",
        "31/02/2015",
        "",
        "",
        "",
        "",
        "",
    ]
    path = write_csv(tmp_path / "familles.csv", [ROWS[0], ROWS[1], bad_student])
    run("import_families", path, "combs-la-ville", "--skip-invalid")
    assert list(Family.objects.values_list("external_ref", flat=True)) == ["F2"]
    report = (tmp_path / "familles-rejets.csv").read_text(encoding="utf-8-sig")
    assert "R1" in report and "E1" in report
    corrected = tmp_path / "corrige.csv"
    corrected.write_text(report.replace("31/02/2015", "28/02/2015"), encoding="utf-8-sig")
    run("import_families", corrected)
    assert Guardian.objects.get(external_ref="R1").position == 1
    # A responsable added later comes after the family's existing ones.
    second = [
        "responsable",
        "R3",
        "F1",
        "",
        "",
        "",
        "M.",
        "Müller",
        "Paul",
        "01/01/1979",
        "3 rue",
        "77000",
        "Melun",
        "",
        "",
    ]
    run("import_families", write_csv(tmp_path / "ajout.csv", [second]))
    assert Guardian.objects.get(external_ref="R3").position == 2


def test_encoding_is_detected_on_the_whole_file(combs, tmp_path):
    filler = [
        ["eleve", f"E{n}", "F2", "", "", "", "", "Durand", "Tom", "01/01/2015", "", "", "", "", ""]
        for n in range(3000)
    ]
    rows = [ROWS[1], *filler, ROWS[0]]  # "Müller" only after the first 64 KB.
    path = write_csv(tmp_path / "familles.csv", rows, encoding="cp1252")
    assert path.stat().st_size > 64 * 1024
    run("import_families", path)
    assert Family.objects.get(external_ref="F1").name == "Müller"
    utf8 = write_csv(tmp_path / "utf8.csv", ROWS)
    with pytest.raises(CommandError, match="encodage|encoding"):
        run("import_families", utf8, "combs-la-ville", "--encoding", "ascii")


def test_multiline_cells_keep_line_numbers_and_short_rows_are_refused(combs, tmp_path):
    rows = [list(ROWS[0]), list(ROWS[1])]
    rows[0][10] = "3 rue de l'Église\nBâtiment B"
    path = write_csv(tmp_path / "familles.csv", rows)
    with open(path, "a", encoding="utf-8") as handle:
        handle.write("responsable;R9;F9;Court\n")
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command(
            "import_families", str(path), "--site", "combs-la-ville", "--verbosity", "0", stderr=err
        )
    assert "familles.csv:5:-:" in err.getvalue()  # Header 1, a row on lines 2-3, then 4, 5.


def test_courses_next_year_with_the_same_references(combs, tmp_path):
    run("import_courses", SAMPLES / "cours.csv")
    run("import_families", SAMPLES / "familles.csv")
    run("import_enrollments", SAMPLES / "inscriptions.csv")
    out, _err = run("import_courses", SAMPLES / "cours.csv")
    assert out.startswith("0 créé(s), 0 mis à jour, 3 inchangé(s)")
    out, _err = run("import_enrollments", SAMPLES / "inscriptions.csv")
    assert out.startswith("0 créé(s), 0 mis à jour, 4 inchangé(s)")
    next_year = (
        (SAMPLES / "cours.csv")
        .read_text()
        .replace("2026-2027", "2027-2028")
        .replace("14/09/2026", "13/09/2027")
        .replace("27/06/2027", "25/06/2028")
    )
    path = tmp_path / "cours-2027.csv"
    path.write_text(next_year)
    out, _err = run("import_courses", path, "combs-la-ville", "--dry-run")
    assert out.startswith("Simulation") and "3 créé(s)" in out
    run("import_courses", path)
    assert Course.objects.count() == 6
    assert Enrollment.objects.filter(course__school_year__name="2026-2027").count() == 4
    course = Course.objects.get(school_year__name="2026-2027", external_ref="C-PIA")
    changed = (SAMPLES / "cours.csv").read_text().replace("14:00;14:30", "15:00;15:30")
    (tmp_path / "cours-v2.csv").write_text(changed)
    run("import_courses", tmp_path / "cours-v2.csv")
    course.refresh_from_db()
    assert course.start_time.hour == 15 and course.history.count() == 2


def test_legacy_identifiants_are_reserved_and_case_insensitive(combs):
    families(combs, "Dupont", "Zidane", legacy={"Zidane": "Dupont"})
    call_command("create_accounts", "--site", combs.slug, stdout=io.StringIO())
    names = dict(User.objects.filter(site=combs).values_list("last_name", "username"))
    assert names == {"Zidane": "dupont", "Dupont": "dupont2"}
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create_user("DUPONT", site=combs, password=None)
    client = Client()
    user = User.objects.get(username="dupont")
    user.set_password("Une-phrase-secrete-2026")
    user.save()
    response = client.post(
        "/connexion/",
        {"site": combs.slug, "username": "Dupont", "password": "Une-phrase-secrete-2026"},
    )
    assert response.status_code == 302


def test_letters_are_private(combs, tmp_path):
    import stat

    families(combs, "Sans Mail")
    Family.objects.update(reference_email="")
    call_command("create_accounts", "--site", combs.slug, stdout=io.StringIO())
    letters = tmp_path / "lettres.pdf"
    call_command(
        "send_invitations",
        "--site",
        combs.slug,
        "--base-url",
        "https://x.example",
        "--letters",
        str(letters),
        stdout=io.StringIO(),
    )
    assert stat.S_IMODE(letters.stat().st_mode) == 0o600


def test_invitation_codes_expire_and_are_throttled(combs, settings):
    from extranet.models import InvitationCode

    user = User.objects.create_user("lettre", site=combs, password=None)
    code = InvitationCode.objects.create(user=user)
    assert Client().get(f"/b/{code.display.lower()}/").status_code == 302
    with time_machine.travel(timedelta(days=settings.INVITATION_VALID_DAYS + 1)):
        assert Client().get(f"/b/{code.display}/").status_code == 404
    settings.PASSWORD_RESET_REQUESTS_PER_ADDRESS = "3/h"
    client = Client()
    for attempt in range(3):
        assert client.get(f"/b/AAAA-AAA{attempt + 2}/").status_code == 404
    assert client.get(f"/b/{code.display}/").status_code == 429


def test_the_import_benchmark_runs(db):
    """bench/import_families.py, on 4 families, each command run in this process."""
    from bench import import_families
    from extranet.models import Site

    counts = {}

    def in_this_process(args):
        call_command(*args, "--verbosity", "0", stdout=io.StringIO())
        site = Site.objects.get(slug="benchmark")
        counts[args[0]] = (
            Course.objects.filter(site=site).count(),
            Family.objects.filter(site=site).count(),
            Enrollment.objects.filter(course__site=site).count(),
            User.objects.filter(site=site).count(),
        )
        return 0.5, 100.0

    out = io.StringIO()
    assert import_families.main(["--families", "4"], stdout=out, run=in_this_process) == 0
    assert "4 families, 6 responsables, 6 students, 10 enrollments" in out.getvalue()
    assert counts == {
        "import_courses": (60, 0, 0, 0),
        "import_families": (60, 4, 0, 0),
        "import_enrollments": (60, 4, 10, 0),
        "create_accounts": (60, 4, 10, 4),
    }
    assert "import (total)" in out.getvalue() and "1.5 s" in out.getvalue()
    assert not Site.objects.filter(slug="benchmark").exists()  # Cleaned up.
