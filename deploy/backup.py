"""Backup of the portal: the PostgreSQL database (pg_dump, custom format) and every file of
its storages (families' documents, invoice/receipt/letter PDFs, logos), into a dated folder.

    python deploy/backup.py /srv/backups            # -> /srv/backups/extranet-20261201T2300Z/

With the settings of the environment (DATABASE_URL, DOCUMENTS_ROOT and MEDIA_ROOT, or the
object storage's variables): the files are read through Django's storages, so a filesystem
and an S3 bucket are copied alike. The folder holds:

    database.dump        pg_dump --format=custom (restore with pg_restore)
    storage/<alias>/...  the files of each storage ("documents", "default")
    manifest.json        when, the database dump's and every file's size and sha256

The database is dumped first, then the files are copied: a file added meanwhile is copied
too (unused by the dump, harmless); a document replaced by its family in between is the one
loss (the dump's file deleted), so run it at a quiet hour and check it with restore_check.
`python deploy/backup.py --restore-storage FOLDER` copies a backup's files into the storages
of the environment (a fresh folder or bucket), checking each one against the manifest;
deploy/restore_check.py restores the database and the files, then compares them.
"""

import argparse
import hashlib
import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The storages that hold files (staticfiles is rebuilt by collectstatic).
ALIASES = ("documents", "default")


def setup():
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "extranet.settings")
    import django

    django.setup()


def libpq_environment():
    """pg_dump's and pg_restore's connection, from the settings' database."""
    from django.conf import settings
    from django.db import connection

    database = settings.DATABASES["default"]
    if connection.vendor != "postgresql":
        raise SystemExit("The backup needs PostgreSQL (pg_dump); DATABASE_URL is not one.")
    env = dict(os.environ)
    for key, name in [("HOST", "PGHOST"), ("PORT", "PGPORT"), ("USER", "PGUSER")]:
        if database.get(key):
            env[name] = str(database[key])
    if database.get("PASSWORD"):
        env["PGPASSWORD"] = database["PASSWORD"]
    env["PGDATABASE"] = database["NAME"]
    return env


def sha256_of(handle):
    digest = hashlib.sha256()
    for chunk in iter(lambda: handle.read(1 << 20), b""):
        digest.update(chunk)
    return digest.hexdigest()


def walk(storage, folder=""):
    """Every file name of a storage, recursively (listdir works on folders and buckets)."""
    folders, files = storage.listdir(folder)
    for name in sorted(files):
        yield f"{folder}/{name}" if folder else name
    for name in sorted(folders):
        yield from walk(storage, f"{folder}/{name}" if folder else name)


def copy_out(alias, target):
    from django.core.files.storage import storages

    storage = storages[alias]
    entries = {}
    try:
        names = list(walk(storage))
    except FileNotFoundError:
        names = []  # A storage nothing was ever written to.
    for name in names:
        path = target / alias / name
        path.parent.mkdir(parents=True, exist_ok=True)
        with storage.open(name, "rb") as source, open(path, "wb") as copy:
            for chunk in iter(lambda: source.read(1 << 20), b""):
                copy.write(chunk)
        with open(path, "rb") as copy:
            entries[name] = {"size": path.stat().st_size, "sha256": sha256_of(copy)}
    return entries


def backup(destination):
    setup()
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    folder = Path(destination) / f"extranet-{stamp}"
    folder.mkdir(parents=True)
    dump = folder / "database.dump"
    subprocess.run(
        ["pg_dump", "--format=custom", "--no-owner", "--no-privileges", "--file", str(dump)],
        env=libpq_environment(),
        check=True,
    )
    manifest = {"created": stamp, "database": {"file": dump.name, "size": dump.stat().st_size}}
    with open(dump, "rb") as handle:
        manifest["database"]["sha256"] = sha256_of(handle)
    manifest["storage"] = {alias: copy_out(alias, folder / "storage") for alias in ALIASES}
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=1, sort_keys=True))
    count = sum(len(files) for files in manifest["storage"].values())
    print(f"{folder}: database {dump.stat().st_size} bytes, {count} files")
    return folder


def restore_storage(folder):
    """Copies a backup's files into the environment's storages, each checked first."""
    setup()
    from django.core.files.storage import storages

    folder = Path(folder)
    manifest = json.loads((folder / "manifest.json").read_text())
    for alias, files in manifest["storage"].items():
        storage = storages[alias]
        for name, expected in files.items():
            path = folder / "storage" / alias / name
            with open(path, "rb") as handle:
                if sha256_of(handle) != expected["sha256"]:
                    raise SystemExit(f"{alias}/{name}: not the file that was backed up")
                handle.seek(0)
                if storage.exists(name):
                    raise SystemExit(f"{alias}/{name}: already in the target storage")
                saved = storage.save(name, handle)
            if saved != name:
                raise SystemExit(f"{alias}/{name}: stored as {saved}")
    print(f"{sum(len(f) for f in manifest['storage'].values())} files restored")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", help="where to write the backup (or the backup to restore)")
    parser.add_argument("--restore-storage", action="store_true")
    args = parser.parse_args(argv)
    if args.restore_storage:
        restore_storage(args.folder)
    else:
        backup(args.folder)


if __name__ == "__main__":
    main()
