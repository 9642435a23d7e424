from django.core.management.base import BaseCommand, CommandError
from django.utils import translation
from django.utils.translation import gettext as _

from billing.generation import GenerationError, generate, report
from fees.models import FeeGrid


class Command(BaseCommand):
    help = (
        "Drafts the year's invoices (or one term's) from the enrollments with the site's fee "
        "grid, and only the difference with what was already billed: a complementary invoice "
        "or a credit note. Issued invoices are never changed; issuing stays the secretariat's."
    )

    def add_arguments(self, parser):
        parser.add_argument("--site", required=True, help="the site's slug")
        parser.add_argument("--year", required=True, help="the school year, e.g. 2026-2027")
        parser.add_argument("--period", type=int, help="a term's number (grids billed per term)")
        parser.add_argument("--dry-run", action="store_true", help="show the summary, save nothing")

    def handle(self, *args, **options):
        with translation.override("fr"):
            grid = (
                FeeGrid.objects.select_related("site", "school_year")
                .filter(site__slug=options["site"], school_year__name=options["year"])
                .first()
            )
            if grid is None:
                raise CommandError(
                    _("No fee grid for %(year)s on site “%(site)s”.")
                    % {"year": options["year"], "site": options["site"]}
                )
            try:
                summary = generate(grid, options["period"], dry_run=options["dry_run"])
            except GenerationError as error:
                raise CommandError(str(error)) from error
            for line in report(summary):
                self.stdout.write(line)
