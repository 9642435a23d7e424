"""The staff's roles as groups: "Secrétariat", "Régie / comptabilité",
"Direction", with the permissions workspace/roles.py gives them."""

from django.db import migrations

from workspace import roles


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=roles.ROLES).delete()


class Migration(migrations.Migration):
    # The latest migration of every app whose permissions the roles give.
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("extranet", "0005_staff_sites_and_invitations"),
        ("documents", "0003_documentkind_proves_income"),
        ("families", "0005_guardian_invoice_share"),
        ("students", "0003_enrollment_starts_on_enrollment_stops_on_and_more"),
        ("fees", "0002_instalment_plans"),
        ("reenrollment", "0003_wish_answers"),
        ("billing", "0005_refunds"),
        ("directdebit", "0001_initial"),
        ("home", "0001_home"),
    ]

    operations = [migrations.RunPython(roles.migrate, remove_roles)]
