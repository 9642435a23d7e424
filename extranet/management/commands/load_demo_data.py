from importlib import import_module
from importlib.util import find_spec

from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction


class Command(BaseCommand):
    help = (
        "Loads the demonstration data: each installed app's `demo.load()`, in the "
        "order of INSTALLED_APPS. Running it again changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--force",
            action="store_true",
            help="Load the demo data even though DEBUG is off (the demo accounts have a "
            "published password).",
        )

    def handle(self, *args, **options):
        if not (settings.DEBUG or options["force"]):
            raise CommandError(
                "Refusing to load demo accounts with a published password while DEBUG is off; "
                "use --force on a demonstration server."
            )
        with transaction.atomic():
            for app_config in apps.get_app_configs():
                module_name = f"{app_config.name}.demo"
                if find_spec(module_name) is None:
                    continue
                import_module(module_name).load(self.stdout)
        self.stdout.write(self.style.SUCCESS("Demo data ready."))
