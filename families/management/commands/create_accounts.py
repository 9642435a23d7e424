import time

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils.translation import gettext as _

from extranet.models import Site
from families.accounts import create_accounts


class Command(BaseCommand):
    help = (
        "Gives every family of the site without an account one, with an identifiant made "
        "from the family name (dupont, dupont2…) or taken from the legacy export."
    )

    def add_arguments(self, parser):
        parser.add_argument("--site", required=True, help="slug of the site")

    def handle(self, *args, **options):
        try:
            site = Site.objects.get(slug=options["site"])
        except Site.DoesNotExist:
            raise CommandError(_("Unknown site “%(slug)s”.") % {"slug": options["site"]}) from None
        started = time.monotonic()
        with transaction.atomic():
            accounts = create_accounts(site)
        if options["verbosity"] >= 2:
            for account in accounts:
                self.stdout.write(f"{account.username}\t{account.last_name}")
        self.stdout.write(
            self.style.SUCCESS(
                _("%(count)d account(s) created in %(seconds).1f s.")
                % {"count": len(accounts), "seconds": time.monotonic() - started}
            )
        )
