"""Django set up for a benchmark run as a script, with the settings and the database of the
environment (DATABASE_URL), as `manage.py` would."""

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def ready():
    """Sets Django up, unless it is already (a test calling a benchmark's main)."""
    from django.apps import apps

    if apps.ready:
        return
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "extranet.settings")
    import django

    django.setup()
