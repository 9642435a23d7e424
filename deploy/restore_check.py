"""Restores a backup (deploy/backup.py) into a FRESH database and storage, then checks that
the families' statements (lines and balance) and documents (names and sha256 of the bytes)
are identical between the source and the restored copy.

    python deploy/restore_check.py BACKUP_FOLDER \\
        --database-url postgres://postgres@127.0.0.1:5432/extranet_restored \\
        --storage-root /srv/restore-check [--set NAME=VALUE ...] [--families 12 57] [--sample 200]

The source is the environment's (DATABASE_URL, DOCUMENTS_ROOT…): the portal backed up, which
must not have changed since for the families compared. The restored side is the same
environment with DATABASE_URL replaced (a database that must not exist yet: it is created),
DOCUMENTS_ROOT and MEDIA_ROOT under --storage-root (an empty folder), and any --set (e.g. the
bucket of an object storage restored into). Exits non-zero on any difference, or when no
family was compared.
"""

import argparse
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
HERE = Path(__file__).resolve().parent


def fingerprint(family_ids, sample):
    """What must survive a restore, per family: the statement and the documents' bytes."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "extranet.settings")
    import django

    django.setup()
    from django.utils import translation

    from billing.models import Invoice, Payment
    from billing.statement import statement
    from families.models import Family, FamilyDocument
    from students.models import StudentDocument

    translation.activate("fr")
    families = Family.objects.order_by("pk")
    if family_ids:
        families = families.filter(pk__in=family_ids)
    else:
        ids = list(families.values_list("pk", flat=True))
        step = max(1, len(ids) // sample) if sample else 1
        families = families.filter(pk__in=ids[::step][: sample or None])

    def digest(field):
        if not field:
            return None
        with field.storage.open(field.name, "rb") as handle:
            return hashlib.sha256(handle.read()).hexdigest()

    result = {}
    for family in families.select_related("site"):
        found = statement(family)
        files = [
            (f"document:{d.kind_id}", d.file.name, digest(d.file))
            for d in FamilyDocument.objects.filter(family=family).order_by("pk")
        ]
        files += [
            (f"student document:{d.student_id}:{d.kind_id}", d.file.name, digest(d.file))
            for d in StudentDocument.objects.filter(student__family=family).order_by("pk")
        ]
        files += [
            (f"invoice:{i.number}", i.pdf.name, digest(i.pdf))
            for i in Invoice.objects.filter(family=family).order_by("pk")
        ]
        files += [
            (f"receipt:{p.receipt_number}", p.receipt_pdf.name, digest(p.receipt_pdf))
            for p in Payment.objects.filter(family=family).order_by("pk")
        ]
        result[str(family.pk)] = {
            "name": family.name,
            "lines": [
                [
                    str(line.date),
                    str(line.mode),
                    line.number,
                    str(line.label),
                    str(line.debit),
                    str(line.credit),
                ]
                for line in found["lines"]
            ],
            "totals": {k: str(v) for k, v in sorted(found.items()) if k != "lines" and _plain(v)},
            "files": files,
        }
    return result


def _plain(value):
    from decimal import Decimal

    return isinstance(value, (Decimal, int, str)) and not isinstance(value, bool)


def side(env, family_ids, sample):
    command = [sys.executable, str(HERE / "restore_check.py"), "--fingerprint"]
    command += ["--sample", str(sample)]
    if family_ids:
        command += ["--families", *map(str, family_ids)]
    output = subprocess.run(
        command, env=env, cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout
    return json.loads(output)


def create_database(url):
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    server = parts._replace(path="/postgres").geturl().replace("postgres://", "postgresql://", 1)
    with psycopg.connect(server, autocommit=True) as connection:
        exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if exists.fetchone():
            raise SystemExit(f"The database {name} exists already: restore into a fresh one.")
        connection.execute(f'CREATE DATABASE "{name}"')


def differences(source, restored):
    found = []
    if set(source) != set(restored):
        found.append(f"families: {sorted(set(source) ^ set(restored))} on one side only")
    for pk in sorted(set(source) & set(restored), key=int):
        for key in ("name", "lines", "totals", "files"):
            if source[pk][key] != restored[pk][key]:
                found.append(f"family {pk} ({source[pk]['name']}): {key} differ")
        missing = [f for f in restored[pk]["files"] if f[1] and f[2] is None]
        if missing:
            found.append(f"family {pk}: files without bytes {missing}")
    return found


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("backup", nargs="?")
    parser.add_argument("--database-url")
    parser.add_argument("--storage-root")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE")
    parser.add_argument("--families", type=int, nargs="*", default=[])
    parser.add_argument("--sample", type=int, default=200, help="families compared at most")
    parser.add_argument("--fingerprint", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.fingerprint:
        json.dump(fingerprint(args.families, args.sample), sys.stdout)
        return 0
    if not (args.backup and args.database_url and args.storage_root):
        parser.error("BACKUP, --database-url and --storage-root are required")
    backup = Path(args.backup)
    root = Path(args.storage_root)
    if root.exists() and any(root.iterdir()):
        raise SystemExit(f"{root} is not empty: restore into a fresh folder.")
    restored_env = {
        **os.environ,
        "DATABASE_URL": args.database_url,
        "DOCUMENTS_ROOT": str(root / "documents"),
        "MEDIA_ROOT": str(root / "media"),
    }
    for item in args.set:
        name, _, value = item.partition("=")
        restored_env[name] = value

    create_database(args.database_url)
    url = args.database_url.replace("postgres://", "postgresql://", 1)
    subprocess.run(
        ["pg_restore", "--no-owner", "--no-privileges", "--exit-on-error", "--dbname", url,
         str(backup / "database.dump")],
        check=True,
    )  # fmt: skip
    subprocess.run(
        [sys.executable, str(HERE / "backup.py"), "--restore-storage", str(backup)],
        env=restored_env,
        cwd=ROOT,
        check=True,
    )
    source = side(dict(os.environ), args.families, args.sample)
    restored = side(restored_env, args.families, args.sample)
    found = differences(source, restored)
    files = sum(len(f["files"]) for f in source.values())
    lines = sum(len(f["lines"]) for f in source.values())
    for difference in found:
        print(difference)
    if not source:
        print("No family compared.")
        return 1
    print(
        f"{len(source)} families compared ({lines} statement lines, {files} files): "
        + ("DIFFERENT" if found else "identical")
    )
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
