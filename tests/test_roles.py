"""The staff's roles: the groups the migration makes from workspace/roles.py,
and what each lets its members do in the administration."""

from datetime import timedelta
from importlib import import_module

import pytest
from django.contrib.auth.models import Group, Permission
from django.urls import reverse
from django.utils import timezone

from billing.models import Payment
from families.models import FamilyDocument
from workspace import roles

from . import factories
from .test_migrations import migrate_exactly_to

pytestmark = pytest.mark.django_db

# The latest migration that syncs the roles with the table.
ROLES_MIGRATION = ("workspace", "0002_roles_messages_and_deposits")


def rights(group):
    return {(p.content_type.app_label, p.codename) for p in group.permissions.all()}


@pytest.mark.django_db(transaction=True)
def test_the_migration_makes_the_groups_on_a_new_database(migrator):
    # Every app up to what the roles' migrations need, the latest per app.
    before = {}
    for name in ["0001_roles", "0002_roles_messages_and_deposits"]:
        for app, migration in import_module(f"workspace.migrations.{name}").Migration.dependencies:
            if app != "workspace":
                before[app] = max(before.get(app, migration), migration)
    old = migrate_exactly_to(sorted(before.items()))
    # Permissions are not there yet (they come after the migrations), and the
    # demo may already have made a group of the same name.
    assert not old.apps.get_model("auth", "Permission").objects.exists()
    old.apps.get_model("auth", "Group").objects.create(name=roles.SECRETARIAT)

    new = migrator.apply_tested_migration([ROLES_MIGRATION])
    groups = new.apps.get_model("auth", "Group").objects.prefetch_related(
        "permissions__content_type"
    )
    assert {g.name: rights(g) for g in groups} == {
        role: set(roles.codenames(role)) for role in roles.ROLES
    }
    back = migrator.apply_tested_migration([("workspace", None)])
    assert not back.apps.get_model("auth", "Group").objects.exists()


def test_every_permission_of_the_table_exists():
    for role in roles.ROLES:
        assert roles.permissions_of(role).count() == len(roles.codenames(role)), role


def test_the_direction_only_reads():
    codenames = [codename for _label, codename in roles.codenames(roles.DIRECTION)]
    assert codenames and all(c.startswith("view_") for c in codenames)
    others = {c for role in [roles.SECRETARIAT, roles.CASH_OFFICE] for c in roles.codenames(role)}
    assert {(label, f"view_{c.split('_', 1)[1]}") for label, c in others} == set(
        roles.codenames(roles.DIRECTION)
    )


def test_sync_makes_the_groups_match_the_table_again():
    roles.sync()
    secretariat = Group.objects.get(name=roles.SECRETARIAT)
    secretariat.permissions.add(Permission.objects.get(codename="add_payment"))
    roles.sync()
    assert rights(secretariat) == set(roles.codenames(roles.SECRETARIAT))
    assert Group.objects.filter(name__in=roles.ROLES).count() == 3


@pytest.fixture
def family(combs):
    parent = factories.make_parent(combs)
    factories.payer(parent.family)
    return parent.family


@pytest.fixture
def document(family, combs):
    kind = factories.DocumentKind.objects.create(site=combs, name="Justificatif de domicile")
    return FamilyDocument.objects.create(
        family=family,
        kind=kind,
        file="x.pdf",
        original_name="x.pdf",
        content_type="application/pdf",
        size=1,
        uploaded_at=timezone.now() - timedelta(days=1),
    )


def client_of(site, role, username):
    return factories.signed_in(factories.member(site, role, username=username))


def payment_data(site, family, invoice):
    return {
        "site": site.pk,
        "family": family.pk,
        "date": timezone.localdate().isoformat(),
        "mode": "cheque",
        "other_mode": "",
        "reference": "0001234",
        "amount": "186.00",
        "allocations-TOTAL_FORMS": "1",
        "allocations-INITIAL_FORMS": "0",
        "allocations-MIN_NUM_FORMS": "0",
        "allocations-MAX_NUM_FORMS": "1000",
        "allocations-0-invoice": invoice.pk,
        "allocations-0-amount": "186.00",
    }


def family_data(family):
    return {
        "site": family.site_id,
        "name": "Martin-Durand",
        "reference_email": "",
        "reference_mobile": "",
        "external_ref": "",
        "guardians-TOTAL_FORMS": "0",
        "guardians-INITIAL_FORMS": "0",
        "guardians-MIN_NUM_FORMS": "0",
        "guardians-MAX_NUM_FORMS": "1000",
        "documents-TOTAL_FORMS": "0",
        "documents-INITIAL_FORMS": "0",
        "documents-MIN_NUM_FORMS": "0",
        "documents-MAX_NUM_FORMS": "0",
    }


def test_the_direction_views_but_changes_nothing(combs, family, document):
    invoice = factories.issued(family)
    client = client_of(combs, roles.DIRECTION, "direction")
    change = reverse("admin:families_family_change", args=[family.pk])
    page = client.get(change)
    assert page.status_code == 200 and 'name="_save"' not in page.text
    assert client.post(change, family_data(family)).status_code == 403
    assert client.get(reverse("admin:families_family_add")).status_code == 403
    document_change = reverse("admin:families_familydocument_change", args=[document.pk])
    assert client.get(document_change).status_code == 200
    assert client.post(document_change, {"status": "accepted"}).status_code == 403
    assert client.get(reverse("admin:billing_payment_changelist")).status_code == 200
    add_payment = reverse("admin:billing_payment_add")
    assert client.post(add_payment, payment_data(combs, family, invoice)).status_code == 403
    family.refresh_from_db()
    document.refresh_from_db()
    assert family.name == "Martin" and document.status == FamilyDocument.Status.PENDING
    assert not Payment.objects.exists()


def test_the_cash_office_records_payments_but_not_documents(combs, family, document):
    invoice = factories.issued(family)
    client = client_of(combs, roles.CASH_OFFICE, "regie")
    response = client.post(
        reverse("admin:billing_payment_add"), payment_data(combs, family, invoice)
    )
    assert response.status_code == 302, response.text[:2000]
    assert Payment.objects.get().amount == invoice.total
    document_change = reverse("admin:families_familydocument_change", args=[document.pk])
    assert client.get(document_change).status_code == 200  # Read, as the quotient's proof.
    assert client.post(document_change, {"status": "accepted"}).status_code == 403
    change = reverse("admin:families_family_change", args=[family.pk])
    assert client.post(change, family_data(family)).status_code == 403
    document.refresh_from_db()
    assert document.status == FamilyDocument.Status.PENDING


def test_the_secretariat_reviews_documents_but_records_no_payment(combs, family, document):
    factories.issued(family)
    client = client_of(combs, roles.SECRETARIAT, "secretariat")
    document_change = reverse("admin:families_familydocument_change", args=[document.pk])
    response = client.post(document_change, {"status": "accepted", "refusal_reason": ""})
    assert response.status_code == 302
    document.refresh_from_db()
    assert document.status == FamilyDocument.Status.ACCEPTED
    change = reverse("admin:families_family_change", args=[family.pk])
    assert client.post(change, family_data(family)).status_code == 302
    family.refresh_from_db()
    assert family.name == "Martin-Durand"
    # The invoices read, to answer the families; no payment recorded.
    assert client.get(reverse("admin:billing_invoice_changelist")).status_code == 200
    assert client.get(reverse("admin:billing_payment_add")).status_code == 403


def test_the_demo_staff_have_their_roles(demo):
    from extranet.models import User

    def groups(username):
        return set(User.objects.get(username=username).groups.values_list("name", flat=True))

    assert groups("secretariat-combs") == {roles.SECRETARIAT, roles.CASH_OFFICE}
    assert groups("regie-combs") == {roles.CASH_OFFICE}
    assert groups("direction-combs") == {roles.DIRECTION}
    travelling = User.objects.get(username="secretariat-ploufragan")
    assert travelling.site == demo["ploufragan"]
    assert list(travelling.other_sites.all()) == [demo["combs"]]
    for role in roles.ROLES:
        assert rights(Group.objects.get(name=role)) == set(roles.codenames(role))


def test_the_cash_office_makes_cheque_slips_and_the_secretariat_writes_to_families():
    roles.sync()
    cash_office = rights(Group.objects.get(name=roles.CASH_OFFICE))
    secretariat = rights(Group.objects.get(name=roles.SECRETARIAT))
    direction = rights(Group.objects.get(name=roles.DIRECTION))
    assert ("billing", "add_chequedeposit") in cash_office
    assert ("billing", "add_chequedeposit") not in secretariat
    assert {("messaging", "add_message"), ("messaging", "view_delivery")} <= secretariat
    assert ("messaging", "add_message") not in cash_office
    assert {("billing", "view_chequedeposit"), ("messaging", "view_message")} <= direction
    assert ("messaging", "add_message") not in direction
