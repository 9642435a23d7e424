# DocumentKind moved to the documents app: the foreign key now points there
# (same table, so nothing changes in the database).

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("documents", "0001_initial"),
        ("families", "0002_documentkind_familydocument_guardian_and_more"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="familydocument",
                    name="kind",
                    field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, to="documents.documentkind", verbose_name="kind"),
                ),
            ],
            database_operations=[],
        ),
        migrations.AlterModelOptions(
            name="familydocument",
            options={"ordering": ["-uploaded_at", "-pk"], "verbose_name": "family document", "verbose_name_plural": "family documents"},
        ),
    ]
