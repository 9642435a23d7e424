# The families app's state forgets DocumentKind once every app points at
# documents.DocumentKind; the table itself is renamed by documents 0002.

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("families", "0003_documentkind_to_documents"),
        ("students", "0002_documentkind_to_documents"),
        ("reenrollment", "0002_documentkind_to_documents"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="DocumentKind")],
            database_operations=[],
        ),
    ]
