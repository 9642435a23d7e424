"""The staff's roles: one group each, with the permissions the table below
gives it. The table is the one truth: a data migration makes the groups
match it, and so does any later migration that changes it, for example
when an app adds a model the roles must reach: one that depends on that
app's migration and runs `migrations.RunPython(roles.migrate,
migrations.RunPython.noop)`.

A role gives what the job needs on the staff member's own site(s); the
site itself is never in the table (see extranet/admin_scoping.py)."""

from django.apps import apps as global_apps
from django.contrib.auth.management import create_permissions
from django.db.models import Q

SECRETARIAT = "Secrétariat"
CASH_OFFICE = "Régie / comptabilité"
DIRECTION = "Direction"

# The fee grids, the plans and their parts: the accounting office's.
_FEES = ["feegrid", "term", "zone", "commune", "band", "feeitem", "price", "reduction"]

ROLES = {
    # The families, students and their documents, the courses, the
    # re-enrollment, the portal's accounts and news; the invoices and
    # payments read only, to answer the families.
    SECRETARIAT: {
        "extranet.site": "view change",
        "extranet.user": "view add change",
        "documents.documentkind": "view add change",
        "families.family": "view add change",
        "families.guardian": "view add change delete",
        "families.familydocument": "view change",
        "students.schoolyear": "view add change",
        "students.closureperiod": "view add change delete",
        "students.discipline": "view add change",
        "students.teacher": "view add change",
        "students.room": "view add change",
        "students.course": "view add change",
        "students.student": "view add change",
        "students.enrollment": "view add change delete",
        "students.studentdocument": "view change",
        "reenrollment.schoolrules": "view add change",
        "reenrollment.reenrollmentcampaign": "view add change",
        "reenrollment.reenrollmentrequest": "view change",
        "home.news": "view add change delete",
        "messaging.message": "view add change",
        "messaging.delivery": "view",
        "fees.familyincome": "view",
        "fees.instalmentplan": "view",
        "fees.planchoice": "view",
        "billing.invoice": "view",
        "billing.payment": "view",
        "billing.onlinepayment": "view",
        "billing.familyaccount": "view",
        "billing.reminder": "view",
        "directdebit.mandate": "view",
    },
    # Billing and payments: the fee grids, invoices and credit notes,
    # payments and refunds, reminders, direct debits. The families and
    # students read only (their documents too: the tax notice behind a
    # quotient), never changed.
    CASH_OFFICE: {
        "families.family": "view",
        "families.guardian": "view",
        "families.familydocument": "view",
        "students.schoolyear": "view",
        "students.discipline": "view",
        "students.course": "view",
        "students.student": "view",
        "students.enrollment": "view",
        **{f"fees.{model}": "view add change delete" for model in _FEES},
        "fees.instalmentplan": "view add change delete",
        "fees.familyincome": "view change",
        "fees.planchoice": "view add change",
        "billing.invoice": "view add change delete",
        "billing.invoiceline": "view add change delete",
        "billing.payment": "view add change",
        "billing.allocation": "view add change",
        "billing.paymentmode": "view add change",
        "billing.paymentgateway": "view change",
        "billing.onlinepayment": "view",
        "billing.familyaccount": "view",
        "billing.instalment": "view",
        "billing.reversal": "view",
        "billing.refund": "view add",
        "billing.chequedeposit": "view add",
        "billing.reminderpolicy": "view add change",
        "billing.reminder": "view change",
        "directdebit.creditor": "view change",
        "directdebit.mandate": "view change",
        "directdebit.batch": "view add",
        "directdebit.debit": "view change",
        "directdebit.returnfile": "view add",
    },
}

# The direction reads everything the two others work on, and changes nothing.
ROLES[DIRECTION] = dict.fromkeys(sorted({m for table in ROLES.values() for m in table}), "view")


def codenames(role):
    """(app_label, codename) of every permission `role` gives."""
    return sorted(
        (label, f"{action}_{model}")
        for path, actions in ROLES[role].items()
        for label, model in [path.split(".")]
        for action in actions.split()
    )


def permissions_of(role, apps=global_apps):
    Permission = apps.get_model("auth", "Permission")
    wanted = Q()
    for label, codename in codenames(role):
        wanted |= Q(content_type__app_label=label, codename=codename)
    return Permission.objects.filter(wanted)


def sync(apps=global_apps):
    """Create the groups and give each exactly its permissions. A model not
    installed yet (an app migrated later) is skipped: the migration that
    adds it to the table syncs again."""
    Group = apps.get_model("auth", "Group")
    for role in ROLES:
        group, _created = Group.objects.get_or_create(name=role)
        group.permissions.set(permissions_of(role, apps))


def migrate(apps, schema_editor):
    """`sync` in a data migration. Permissions are normally created once all
    migrations have run: they are created here first, for every app migrated
    so far, so that the groups get them on a new database too."""
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    sync(apps)
