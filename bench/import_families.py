"""Generates a legacy export of N families, imports it and creates the accounts, each
command in its own process as the secretariat would run it, and prints time and peak memory.

    .venv/bin/python bench/import_families.py [--families 10000]

On the database of DATABASE_URL (the development SQLite file without it). Targets for
10,000 families: import under 60 s, create_accounts under 30 s, under 500 MB each. The site
it creates (slug "benchmark") is deleted at the end.
"""

import argparse
import csv
import random
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SITE = "benchmark"

LAST_NAMES = [
    "Martin",
    "Bernard",
    "Dubois",
    "Thomas",
    "Robert",
    "Richard",
    "Petit",
    "Durand",
    "Leroy",
    "Moreau",
    "Simon",
    "Laurent",
    "Lefèvre",
    "Michel",
    "Garcia",
    "Müller",
    "N'Diaye",
    "Le Goff",
    "Da Silva",
    "Nguyen",
]
FIRST_NAMES = [
    "Léa",
    "Hugo",
    "Chloé",
    "Lucas",
    "Emma",
    "Louis",
    "Jade",
    "Gabriel",
    "Inès",
    "Aïssatou",
    "Noé",
    "Zoé",
    "Éloïse",
    "Timothée",
]
WEEKDAYS = ["lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi"]


def generate(folder, families, start_year, seed=2026):
    """The three files of a legacy export: 60 courses of the school year starting in
    `start_year`, `families` families (1 or 2 responsables, 1 or 2 students), enrollments."""
    rng = random.Random(seed)
    courses = folder / "cours.csv"
    with open(courses, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(
            [
                "ref_cours",
                "annee",
                "debut_annee",
                "fin_annee",
                "discipline",
                "categorie",
                "niveau",
                "professeur",
                "jour",
                "heure_debut",
                "heure_fin",
                "salle",
                "collectif",
                "methodes",
            ]
        )
        for n in range(60):
            writer.writerow(
                [
                    f"C{n}",
                    f"{start_year}-{start_year + 1}",
                    f"14/09/{start_year}",
                    f"27/06/{start_year + 1}",
                    f"Discipline {n % 12}",
                    "instrument",
                    f"Niveau {n % 5}",
                    "Hélène Rivière",
                    WEEKDAYS[n % 6],
                    f"{9 + n % 10}:00",
                    f"{10 + n % 10}:00",
                    f"Salle {n % 8}",
                    "oui",
                    "",
                ]
            )
    people = folder / "familles.csv"
    enrollments = folder / "inscriptions.csv"
    counts = {"guardians": 0, "students": 0, "enrollments": 0}
    with (
        open(people, "w", newline="", encoding="cp1252") as handle,
        open(enrollments, "w", newline="", encoding="utf-8") as links,
    ):
        writer = csv.writer(handle, delimiter=";")
        link_writer = csv.writer(links, delimiter=";")
        writer.writerow(
            [
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
        )
        link_writer.writerow(["ref_eleve", "ref_cours", "niveau"])
        for f in range(families):
            name = rng.choice(LAST_NAMES).replace("ü", "u")
            guardians = 2 if f % 2 else 1
            students = 2 if f % 2 == 0 else 1
            for g in range(guardians):
                counts["guardians"] += 1
                writer.writerow(
                    [
                        "responsable",
                        f"R{f}-{g}",
                        f"F{f}",
                        name if g == 0 else "",
                        f"famille{f}@example.org" if f % 10 else "",
                        "06 12 34 56 78",
                        "Mme" if g == 0 else "M.",
                        name,
                        rng.choice(FIRST_NAMES),
                        f"{1 + f % 28:02d}/0{1 + g}/1982",
                        "3 rue de la Gare",
                        "77000",
                        "Melun",
                        f"06 12 {f % 100:02d} 56 78",
                        "oui" if g == 0 else "non",
                    ]
                )
            for s in range(students):
                counts["students"] += 1
                writer.writerow(
                    [
                        "eleve",
                        f"E{f}-{s}",
                        f"F{f}",
                        "",
                        "",
                        "",
                        "",
                        name,
                        rng.choice(FIRST_NAMES),
                        f"{1 + s:02d}/03/2014",
                        "",
                        "",
                        "",
                        "",
                        "",
                    ]
                )
                for c in range(2 if s == 0 else 1):
                    counts["enrollments"] += 1
                    link_writer.writerow([f"E{f}-{s}", f"C{(f + c * 7) % 60}", ""])
    return courses, people, enrollments, counts


def in_subprocess(args):
    """Runs one manage.py command in a fresh process: its seconds and peak MB."""
    script = (
        "import resource, subprocess, sys, time; start = time.monotonic(); "
        "code = subprocess.call(sys.argv[1:]); "
        "peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024; "
        "print(f'{time.monotonic() - start:.1f} {peak:.0f} {code}')"
    )
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            script,
            sys.executable,
            str(ROOT / "manage.py"),
            *args,
            "--verbosity",
            "0",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    seconds, peak, code = out.stdout.split()[-3:]
    if code != "0":
        raise SystemExit(out.stdout + out.stderr)
    return float(seconds), float(peak)


def main(argv=None, stdout=sys.stdout, run=in_subprocess):
    """`run` runs one command (a list of manage.py arguments) and gives its seconds and peak
    MB: by default in its own process."""
    from bench import environment

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--families", type=int, default=10_000, help="how many (10000)")
    options = parser.parse_args(argv)
    environment.ready()

    from extranet.models import Site

    Site.objects.filter(slug=SITE).delete()
    Site.objects.create(slug=SITE, name="Benchmark")
    try:
        with tempfile.TemporaryDirectory() as folder:
            started = time.monotonic()
            today = date.today()
            this_year = today.year if today.month >= 7 else today.year - 1
            courses, people, enrollments, counts = generate(
                Path(folder), options.families, this_year
            )
            stdout.write(
                f"Generated {options.families} families, {counts['guardians']} "
                f"responsables, {counts['students']} students, "
                f"{counts['enrollments']} enrollments in "
                f"{time.monotonic() - started:.1f} s\n"
            )
            total = 0.0
            for args in [
                ["import_courses", str(courses)],
                ["import_families", str(people)],
                ["import_enrollments", str(enrollments)],
                ["create_accounts"],
            ]:
                seconds, peak = run([*args, "--site", SITE])
                if args[0] != "create_accounts":
                    total += seconds
                stdout.write(f"{args[0]:20} {seconds:6.1f} s  peak {peak:5.0f} MB\n")
            stdout.write(f"{'import (total)':20} {total:6.1f} s  (target < 60 s for 10,000)\n")
    finally:
        cleanup()
    return 0


def cleanup():
    from extranet.models import Site
    from families.models import Family
    from students.models import Course, SchoolYear

    site = Site.objects.get(slug=SITE)
    site.accounts.all().delete()
    Family.objects.filter(site=site).delete()
    Course.objects.filter(site=site).delete()
    SchoolYear.objects.filter(site=site).delete()
    site.delete()


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
