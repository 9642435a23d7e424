from datetime import date

from django.core.management.base import BaseCommand, CommandError

from billing.reminders import run


class Command(BaseCommand):
    help = (
        "Records the reminders owed today for overdue invoices on every site with an "
        "active reminder policy: the e-mails are sent and the letters rendered by the "
        "task worker. Run it once a day (cron, systemd timer); running it again the "
        "same day sends nothing twice."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--date", help="The day to remind as of (YYYY-MM-DD); today by default."
        )
        parser.add_argument(
            "--site", action="append", help="Only this site (its slug); repeatable."
        )

    def handle(self, *args, **options):
        today = None
        if options["date"]:
            try:
                today = date.fromisoformat(options["date"])
            except ValueError as error:
                raise CommandError(f"Not a date: {options['date']}") from error
        sites = None
        if options["site"]:
            from extranet.models import Site

            sites = list(Site.objects.filter(slug__in=options["site"]))
            if len(sites) != len(set(options["site"])):
                raise CommandError("Unknown site.")
        summary = run(today=today, sites=sites)
        self.stdout.write(
            f"{len(summary.emails)} e-mail reminder(s), {len(summary.letters)} letter(s) to "
            f"print, {len(summary.without_email)} overdue invoice(s) of families without e-mail."
        )
