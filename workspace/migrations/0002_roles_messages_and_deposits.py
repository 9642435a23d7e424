"""The roles reach the messages to families (secretariat) and the cheque
deposit slips (cash office)."""

from django.db import migrations

from workspace import roles


class Migration(migrations.Migration):
    dependencies = [
        ("workspace", "0001_roles"),
        ("messaging", "0001_initial"),
        ("billing", "0006_cheque_deposits"),
        ("students", "0004_course_capacity"),
        ("reenrollment", "0004_wish_waiting_course"),
    ]

    operations = [migrations.RunPython(roles.migrate, migrations.RunPython.noop)]
