"""Backup (pg_dump and a copy of the storages) restored into a fresh database and folder:
the family's statement and documents come back identical. On a throwaway PostgreSQL
database of its own whatever the suite runs on (the backup is PostgreSQL's pg_dump)."""

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

# pg_dump and pg_restore on a PostgreSQL database of their own, whatever the suite's
# database: see the `deployment` marker in pyproject.toml.
pytestmark = pytest.mark.deployment

ROOT = Path(__file__).resolve().parent.parent
SERVER = os.environ.get("BACKUP_TEST_PG", "postgres://postgres@127.0.0.1:5432")

# What the secretariat and the family leave on the account: the demo family's issued
# invoices with their PDFs, a payment with its receipt, a document of each kind of owner.
FILL = """
import sys
from datetime import date
from decimal import Decimal
sys.path.insert(0, {root!r})
from bench.environment import ready
ready()
from django.core.files.base import ContentFile
from billing import ledger
from billing.models import Invoice, Payment
from billing.pdfs import ensure_invoice_pdf, ensure_receipt_pdf
from documents.models import DocumentKind
from extranet.models import User
from families.models import FamilyDocument
from students.models import StudentDocument
from tests import files

family = User.objects.get(site__slug="combs-la-ville", username="demo").family
invoices = list(family.invoices.filter(status=Invoice.Status.ISSUED).order_by("pk"))
for invoice in invoices:
    ensure_invoice_pdf(invoice)
payment = ledger.record_payment(
    family, Decimal("25.00"), Payment.Mode.CASH, [(invoices[0], Decimal("25.00"))],
    date=date(2026, 11, 3),
)
ensure_receipt_pdf(payment)
kind = DocumentKind.objects.filter(site=family.site, scope="family").first()
content = files.pdf()
FamilyDocument.objects.create(
    family=family, kind=kind, file=ContentFile(content, name="domicile.pdf"),
    original_name="domicile.pdf", content_type="application/pdf", size=len(content),
)
student = family.students.order_by("pk").first()
kind = DocumentKind.objects.filter(site=family.site, scope="student").first()
content = files.image("JPEG")
StudentDocument.objects.create(
    student=student, kind=kind, file=ContentFile(content, name="certificat.jpg"),
    original_name="certificat.jpg", content_type="image/jpeg", size=len(content),
)
print(family.pk)
"""


def drop(name):
    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def databases():
    names = [f"extranet_backup_{secrets.token_hex(4)}" for _ in range(2)]
    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{names[0]}"')
    try:
        yield [f"{SERVER}/{name}" for name in names]
    finally:
        for name in names:
            drop(name)


def environment(tmp_path, database):
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "extranet.settings",
        "DATABASE_URL": database,
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "ALLOWED_HOSTS": "127.0.0.1",
        "DOCUMENTS_ROOT": str(tmp_path / "source" / "documents"),
        "MEDIA_ROOT": str(tmp_path / "source" / "media"),
        "PAYMENT_SIMULATOR": "0",
    }


def run(command, env, **kwargs):
    return subprocess.run(
        [sys.executable, *command],
        env=env,
        cwd=ROOT,
        check=kwargs.pop("check", True),
        capture_output=True,
        text=True,
        **kwargs,
    )


def test_a_backup_restored_into_a_fresh_database_and_folder_is_identical(tmp_path, databases):
    source, restored = databases
    env = environment(tmp_path, source)
    run(["manage.py", "migrate", "--no-input", "-v0"], env)
    run(["manage.py", "load_demo_data", "--force"], env)
    family = run(["-c", FILL.format(root=str(ROOT))], env).stdout.split()[-1]

    made = run(["deploy/backup.py", str(tmp_path / "backups")], env)
    (folder,) = (tmp_path / "backups").iterdir()
    assert folder.name.startswith("extranet-") and str(folder) in made.stdout
    manifest = json.loads((folder / "manifest.json").read_text())
    stored = manifest["storage"]["documents"]
    assert len(stored) >= 5  # Invoice PDFs, the receipt, the two documents.
    assert (folder / "database.dump").read_bytes()[:5] == b"PGDMP"

    checked = run(
        [
            "deploy/restore_check.py",
            str(folder),
            "--database-url",
            restored,
            "--storage-root",
            str(tmp_path / "restored"),
        ],
        env,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "identical" in checked.stdout
    restored_files = sorted(
        p.relative_to(tmp_path / "restored" / "documents").as_posix()
        for p in (tmp_path / "restored" / "documents").rglob("*")
        if p.is_file()
    )
    assert restored_files == sorted(stored)

    # The comparison sees a changed byte, and a changed statement.
    sys.path.insert(0, str(ROOT / "deploy"))
    import restore_check

    restored_env = {
        **env,
        "DATABASE_URL": restored,
        "DOCUMENTS_ROOT": str(tmp_path / "restored" / "documents"),
        "MEDIA_ROOT": str(tmp_path / "restored" / "media"),
    }
    before = restore_check.side(env, [int(family)], 0)
    assert before[family]["lines"] and before[family]["totals"]["balance"]
    assert (
        restore_check.differences(before, restore_check.side(restored_env, [int(family)], 0)) == []
    )
    document = next(
        tmp_path / "restored" / "documents" / name for name in stored if name.endswith(".jpg")
    )
    document.write_bytes(document.read_bytes() + b"\0")
    with psycopg.connect(restored.replace("postgres://", "postgresql://", 1)) as connection:
        connection.execute("UPDATE billing_payment SET amount = amount + 1")
    after = restore_check.side(restored_env, [int(family)], 0)
    found = restore_check.differences(before, after)
    assert any("files differ" in line for line in found)
    assert any("lines differ" in line or "totals differ" in line for line in found)

    # A restore goes into a fresh database only.
    again = run(
        [
            "deploy/restore_check.py",
            str(folder),
            "--database-url",
            restored,
            "--storage-root",
            str(tmp_path / "elsewhere"),
        ],
        env,
        check=False,
    )
    assert again.returncode != 0 and "exists already" in again.stderr
