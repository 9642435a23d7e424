"""Generates N families (1 to 3 students, about 3 enrollments per family) on a site with a
fee grid, runs the invoice generation as a dry run, and prints its time, peak memory and
number of queries.

    .venv/bin/python bench/generate_invoices.py [--families 10000]

On the database of DATABASE_URL (the development SQLite file without it). Target for
10,000 families (about 30,000 enrollments): under 60 s and 500 MB on PostgreSQL. The site it
creates (slug "benchmark-fees") is deleted at the end.
"""

import argparse
import subprocess
import sys
import time
import tracemalloc
from datetime import date, timedelta
from datetime import time as clock_time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SITE = "benchmark-fees"
COMMUNES = [("77380", "Combs-la-Ville"), ("77550", "Moissy-Cramayel"), ("77000", "Melun")]


def build(families, start_year):
    """The site, its school year, 12 courses, the grid, and `families` families in bulk."""
    from extranet.models import Site
    from families.models import Family, Guardian
    from fees.models import (
        Band,
        Commune,
        FamilyIncome,
        FeeGrid,
        FeeItem,
        Price,
        Reduction,
        Term,
        Zone,
    )
    from students.models import Course, Discipline, Enrollment, SchoolYear, Student

    site = Site.objects.create(slug=SITE, name="Benchmark (tarifs)")
    year = SchoolYear.objects.create(
        site=site,
        name=f"{start_year}-{start_year + 1}",
        start_date=date(start_year, 9, 14),
        end_date=date(start_year + 1, 6, 27),
    )
    disciplines = [
        Discipline.objects.create(site=site, name=name, category=category)
        for name, category in [
            ("Piano", "instrument"),
            ("Violon", "instrument"),
            ("Formation musicale", "musicianship"),
            ("Danse classique", "dance"),
        ]
    ]
    courses = [
        Course.objects.create(
            site=site,
            school_year=year,
            discipline=disciplines[n % 4],
            weekday=n % 6,
            start_time=clock_time(9 + n % 10),
            end_time=clock_time(10 + n % 10),
            is_collective=disciplines[n % 4].category != "instrument",
        )
        for n in range(12)
    ]
    grid = FeeGrid.objects.create(site=site, school_year=year, billing=FeeGrid.Billing.TERMS)
    limits = [
        (year.start_date, date(start_year, 12, 31)),
        (date(start_year + 1, 1, 1), date(start_year + 1, 3, 31)),
        (date(start_year + 1, 4, 1), year.end_date),
    ]
    for number, (first, last) in enumerate(limits, start=1):
        Term.objects.create(
            grid=grid,
            number=number,
            start_date=first,
            end_date=last,
            due_date=first + timedelta(30),
        )
    inside = Zone.objects.create(grid=grid, name="Agglomération")
    outside = Zone.objects.create(grid=grid, name="Hors agglomération", is_outside=True)
    for postal_code, name in COMMUNES[:2]:
        Commune.objects.create(zone=inside, postal_code=postal_code, name=name)
    bands = [
        Band.objects.create(grid=grid, code=f"T{n + 1}", min_qf=Decimal(floor))
        for n, floor in enumerate([0, 400, 800, 1200, 2000])
    ]
    items = [
        FeeItem.objects.create(grid=grid, name="Instrument", categories=["instrument"]),
        FeeItem.objects.create(grid=grid, name="Formation musicale", categories=["musicianship"]),
        FeeItem.objects.create(grid=grid, name="Danse", categories=["dance"]),
        FeeItem.objects.create(grid=grid, name="Frais de dossier", per_family=True),
    ]
    Price.objects.bulk_create(
        Price(item=item, band=band, zone=zone, amount=Decimal(60 + 40 * i + 25 * b + 30 * z))
        for i, item in enumerate(items)
        for b, band in enumerate(bands)
        for z, zone in enumerate([inside, outside])
    )
    Reduction.objects.create(
        grid=grid, kind=Reduction.Kind.SIBLING, name="2e enfant", percent=Decimal(10)
    )
    made = Family.objects.bulk_create(
        Family(site=site, name=f"Famille {n}", reference_email=f"f{n}@example.org")
        for n in range(families)
    )
    guardians, students, incomes = [], [], []
    for n, family in enumerate(made):
        postal_code, city = COMMUNES[n % 3]
        guardians.append(
            Guardian(
                family=family,
                civility="MME",
                first_name="Claire",
                last_name=family.name,
                address_line1="3 rue de la Gare",
                postal_code=postal_code,
                city=city,
                is_payer=True,
            )
        )
        for s in range(1 + n % 3):
            students.append(
                Student(
                    family=family,
                    first_name=f"Élève {s}",
                    last_name=family.name,
                    birth_date=date(2012 + s, 3, 1),
                )
            )
        if n % 4:
            incomes.append(
                FamilyIncome(
                    family=family,
                    school_year=year,
                    reference_income=Decimal(12000 + 900 * (n % 40)),
                    parts=Decimal(2 + n % 3),
                    verified=n % 8 != 1,
                )
            )
    Guardian.objects.bulk_create(guardians, batch_size=2000)
    FamilyIncome.objects.bulk_create(incomes, batch_size=2000)
    students = Student.objects.bulk_create(students, batch_size=2000)
    enrollments = []
    for n, student in enumerate(students):
        # About 1.5 enrollments a student: 30,000 for 10,000 families of two students.
        enrollments.append(Enrollment(student=student, course=courses[n % 12]))
        if n % 2 == 0:
            enrollments.append(Enrollment(student=student, course=courses[(n + 2) % 12]))
    Enrollment.objects.bulk_create(enrollments, batch_size=2000)
    return grid, len(students), len(enrollments)


def in_subprocess(args):
    """Runs one manage.py command in a fresh process: its output, seconds and peak MB."""
    script = (
        "import resource, subprocess, sys, time; start = time.monotonic(); "
        "out = subprocess.run(sys.argv[1:], capture_output=True, text=True); "
        "peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024; "
        "sys.stdout.write(out.stdout + out.stderr); "
        "print(f'{time.monotonic() - start:.1f} {peak:.0f} {out.returncode}')"
    )
    out = subprocess.run(
        [sys.executable, "-c", script, sys.executable, str(ROOT / "manage.py"), *args],
        capture_output=True,
        text=True,
        check=True,
    )
    *output, last = out.stdout.rstrip("\n").split("\n")
    seconds, peak, code = last.split()
    if code != "0":
        raise SystemExit(out.stdout + out.stderr)
    return "\n".join(output), float(seconds), float(peak)


def in_process(args):
    """The same in this process (tests): its output, seconds and peak MB allocated."""
    import io

    from django.core.management import call_command

    out = io.StringIO()
    tracemalloc.start()
    started = time.monotonic()
    call_command(*args, stdout=out)
    seconds = time.monotonic() - started
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return out.getvalue().rstrip("\n"), seconds, peak


def main(argv=None, stdout=sys.stdout, run=in_subprocess):
    """`run` runs the command (a list of manage.py arguments) and gives its output, seconds
    and peak MB: by default in its own process, as the secretariat would run it."""
    from bench import environment

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--families", type=int, default=1000, help="how many (1000)")
    options = parser.parse_args(argv)
    environment.ready()

    cleanup()
    try:
        started = time.monotonic()
        today = date.today()
        grid, students, enrollments = build(
            options.families, today.year if today.month >= 7 else today.year - 1
        )
        stdout.write(
            f"Generated {options.families} families, {students} students, {enrollments} "
            f"enrollments in {time.monotonic() - started:.1f} s\n"
        )
        output, seconds, peak = run(
            ["generate_invoices", "--site", SITE, "--year", grid.school_year.name, "--dry-run"]
        )
        stdout.write(output + "\n")
        stdout.write(
            f"{'generate_invoices --dry-run':28} {seconds:6.1f} s  peak {peak:5.0f} MB  "
            f"(target < 60 s and 500 MB for 10,000 families)\n"
        )
    finally:
        cleanup()
    return 0


def cleanup():
    from django.db.models import ProtectedError

    from extranet.models import Site
    from families.models import Family
    from fees.models import FeeGrid
    from students.models import Course, SchoolYear

    site = Site.objects.filter(slug=SITE).first()
    if site is None:
        return
    try:
        FeeGrid.objects.filter(site=site).delete()
        Family.objects.filter(site=site).delete()
        Course.objects.filter(site=site).delete()
        SchoolYear.objects.filter(site=site).delete()
        site.delete()
    except ProtectedError as error:  # Never expected: the run is a dry run.
        raise SystemExit(f"Could not clean the benchmark site up: {error}") from error


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
