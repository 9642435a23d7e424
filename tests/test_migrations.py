"""Migrating a database made by the code before the documents app existed:
document kinds, the documents pointing at them, the disciplines and
campaigns asking for them, and the secretariat's rights all come across."""

from datetime import date, timedelta

import pytest
from django.core.management.color import no_style
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone
from django_test_migrations import sql
from django_test_migrations.signals import mute_migrate_signals

BEFORE = [
    ("families", "0002_documentkind_familydocument_guardian_and_more"),
    ("students", "0001_initial"),
    ("reenrollment", "0001_initial"),
    ("auth", "0012_alter_user_first_name_max_length"),
    ("contenttypes", "0002_remove_content_type_name"),
]
AFTER = [("documents", "0002_rename_table"), ("families", "0004_delete_documentkind")]


def migrate_exactly_to(targets):
    """A clean database migrated to `targets` and their ancestors only (the
    migrator's own starting point also applies what sorts before them)."""
    sql.drop_models_tables(connection.alias, no_style())
    sql.flush_django_migrations_table(connection.alias, no_style())
    executor = MigrationExecutor(connection)
    with mute_migrate_signals():
        state = executor.migrate(targets)
    state.clear_delayed_apps_cache()
    return state


@pytest.mark.django_db(transaction=True)
def test_document_kinds_move_to_the_documents_app_with_their_data(migrator):
    old = migrate_exactly_to(BEFORE)
    assert "documentkind" not in {model for app, model in old.models if app == "documents"}
    get = old.apps.get_model
    site = get("extranet", "Site").objects.create(name="Combs", slug="combs")
    kind = get("families", "DocumentKind").objects.create(
        site=site, name="Certificat médical", scope="student", required=True, validity="school_year"
    )
    family = get("families", "Family").objects.create(site=site, name="Martin")
    get("families", "FamilyDocument").objects.create(
        family=family,
        kind=kind,
        file="families/a.pdf",
        original_name="a.pdf",
        content_type="application/pdf",
        size=10,
    )
    student = get("students", "Student").objects.create(
        family=family, first_name="Léa", last_name="Martin", birth_date=date(2015, 3, 12)
    )
    get("students", "StudentDocument").objects.create(
        student=student,
        kind=kind,
        file="students/b.pdf",
        original_name="b.pdf",
        content_type="application/pdf",
        size=10,
    )
    dance = get("students", "Discipline").objects.create(site=site, name="Danse", category="dance")
    dance.required_documents.add(kind)
    year = get("students", "SchoolYear").objects.create(
        site=site, name="2027-2028", start_date=date(2027, 9, 1), end_date=date(2028, 6, 30)
    )
    rules = get("reenrollment", "SchoolRules").objects.create(site=site, version="1", text="R")
    now = timezone.now()
    campaign = get("reenrollment", "ReenrollmentCampaign").objects.create(
        site=site, school_year=year, rules=rules, opens_at=now, closes_at=now + timedelta(days=30)
    )
    campaign.student_documents.add(kind)
    content_type = get("contenttypes", "ContentType").objects.create(
        app_label="families", model="documentkind"
    )
    permission = get("auth", "Permission").objects.create(
        content_type=content_type, codename="change_documentkind", name="Can change"
    )
    group = get("auth", "Group").objects.create(name="Secrétariat")
    group.permissions.add(permission)

    new = migrator.apply_tested_migration(AFTER)
    get = new.apps.get_model
    moved = get("documents", "DocumentKind").objects.get()
    assert (moved.pk, moved.name, moved.scope, moved.required) == (
        kind.pk,
        "Certificat médical",
        "student",
        True,
    )
    assert moved._meta.db_table == "documents_documentkind"
    assert get("families", "FamilyDocument").objects.get().kind_id == moved.pk
    assert get("students", "StudentDocument").objects.get().kind_id == moved.pk
    assert list(get("students", "Discipline").objects.get().required_documents.all()) == [moved]
    assert list(
        get("reenrollment", "ReenrollmentCampaign").objects.get().student_documents.all()
    ) == [moved]
    # New kinds can be added after the rename (the id sequence came along).
    extra = get("documents", "DocumentKind").objects.create(site_id=site.pk, name="Autre")
    assert extra.pk > moved.pk
    rights = get("auth", "Group").objects.get().permissions.get()
    assert (rights.content_type.app_label, rights.codename) == ("documents", "change_documentkind")
