# DocumentKind moves here from the families app. Its table is kept as it is
# (state only); 0002 renames it once no other app's state points at the old
# model.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ("extranet", "0001_initial"),
        ("families", "0002_documentkind_familydocument_guardian_and_more"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="DocumentKind",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("name", models.CharField(max_length=100, verbose_name="name")),
                        ("help_text", models.CharField(blank=True, max_length=250, verbose_name="explanation for families")),
                        ("scope", models.CharField(choices=[("family", "family"), ("student", "student")], default="family", max_length=10, verbose_name="concerns")),
                        ("required", models.BooleanField(default=False, verbose_name="required")),
                        ("proves_address", models.BooleanField(default=False, help_text="Asked again whenever a guardian's address changes.", verbose_name="proof of address")),
                        ("validity", models.CharField(choices=[("permanent", "no expiry"), ("months", "a number of months after upload"), ("school_year", "the school year of upload")], default="permanent", max_length=12, verbose_name="valid for")),
                        ("validity_months", models.PositiveSmallIntegerField(default=3, help_text="When valid for a number of months.", verbose_name="months of validity")),
                        ("position", models.PositiveSmallIntegerField(default=0, verbose_name="order")),
                        ("is_active", models.BooleanField(default=True, verbose_name="active")),
                        ("site", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="document_kinds", to="extranet.site", verbose_name="site")),
                    ],
                    options={
                        "verbose_name": "document kind",
                        "verbose_name_plural": "document kinds",
                        "ordering": ["site", "position", "name"],
                        "db_table": "families_documentkind",
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
