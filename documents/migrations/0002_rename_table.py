# The table takes the documents app's name, and the permissions of the
# moved model keep their content type (so the secretariat's groups keep
# their rights on document kinds).

from django.db import migrations


def move_content_type(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    db = schema_editor.connection.alias
    old = ContentType.objects.using(db).filter(app_label="families", model="documentkind")
    if not old.exists():
        return
    # A content type made for the new label by an earlier `migrate` would
    # block the rename; it holds no rights yet.
    ContentType.objects.using(db).filter(app_label="documents", model="documentkind").delete()
    old.update(app_label="documents")


def restore_content_type(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    ContentType.objects.using(schema_editor.connection.alias).filter(
        app_label="documents", model="documentkind").update(app_label="families")


class Migration(migrations.Migration):

    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("documents", "0001_initial"),
        ("families", "0004_delete_documentkind"),
    ]

    operations = [
        migrations.AlterModelTable(name="documentkind", table=None),
        migrations.RunPython(move_content_type, restore_content_type),
    ]
