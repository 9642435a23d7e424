# DocumentKind moved to the documents app (same tables: state only).

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("documents", "0001_initial"),
        ("reenrollment", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="reenrollmentcampaign",
                    name="family_documents",
                    field=models.ManyToManyField(blank=True, help_text="For example a proof of address of less than 3 months, the tax notice, the civil liability certificate.", limit_choices_to={"scope": "family"}, related_name="campaigns_as_family_document", to="documents.documentkind", verbose_name="documents asked of each family"),
                ),
                migrations.AlterField(
                    model_name="reenrollmentcampaign",
                    name="student_documents",
                    field=models.ManyToManyField(blank=True, help_text="Documents required by a discipline (a medical certificate for dance) are added for its students.", limit_choices_to={"scope": "student"}, related_name="campaigns_as_student_document", to="documents.documentkind", verbose_name="documents asked of each student"),
                ),
            ],
            database_operations=[],
        ),
    ]
