# DocumentKind moved to the documents app (same table: state only).

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("documents", "0001_initial"),
        ("students", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="discipline",
                    name="required_documents",
                    field=models.ManyToManyField(blank=True, help_text="For example a medical certificate for dance.", limit_choices_to={"scope": "student"}, to="documents.documentkind", verbose_name="documents required from its students"),
                ),
                migrations.AlterField(
                    model_name="studentdocument",
                    name="kind",
                    field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, to="documents.documentkind", verbose_name="kind"),
                ),
            ],
            database_operations=[],
        ),
        migrations.AlterModelOptions(
            name="studentdocument",
            options={"ordering": ["-uploaded_at", "-pk"], "verbose_name": "student document", "verbose_name_plural": "student documents"},
        ),
    ]
