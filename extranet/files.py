"""Files rendered by the task worker (invoice, receipt, letter and mandate
PDFs), stored once whatever the number of runs.

A file's name is derived from its object (unguessable: a keyed hash), so that
a run again after a worker died mid-way writes over the file it left instead
of adding a second one. The row is updated only while its field is empty:
the first rendering recorded wins; a later one of the same name is that file.
"""

import posixpath

from django.core.files.base import ContentFile
from django.utils.crypto import salted_hmac


def stored_name(instance, field, filename):
    """Where `field` of `instance` is stored: the folder its upload_to gives,
    a name derived from the object and `filename` (e.g. with its version)."""
    file_field = instance._meta.get_field(field)
    folder = posixpath.dirname(file_field.generate_filename(instance, filename))
    extension = posixpath.splitext(filename)[1]
    digest = salted_hmac(
        "extranet.files.stored_name",
        f"{instance._meta.label}:{instance.pk}:{field}:{filename}",
        algorithm="sha256",
    ).hexdigest()[:32]
    return posixpath.join(folder, digest + extension)


def store_once(instance, field, filename, content, **unchanged):
    """Store `content` as `field` of `instance` unless it is stored already;
    `unchanged` are the values the row must still have (else nothing is
    recorded and the file is removed). The instance, refreshed, is returned."""
    model = type(instance)
    rows = model.objects.filter(pk=instance.pk, **{field: ""}, **unchanged)
    storage = instance._meta.get_field(field).storage
    name = stored_name(instance, field, filename)
    if storage.exists(name):
        if not rows.exists():  # Recorded meanwhile by another worker.
            instance.refresh_from_db()
            return instance
        # Left by a run that died before recording it.
        storage.delete(name)
    saved = storage.save(name, ContentFile(content))
    if not rows.update(**{field: saved}):
        instance.refresh_from_db()
        if getattr(instance, field).name != saved:
            storage.delete(saved)
        return instance
    instance.refresh_from_db()
    return instance
