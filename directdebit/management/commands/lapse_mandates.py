from django.core.management.base import BaseCommand

from directdebit import mandates


class Command(BaseCommand):
    help = (
        "Mark as lapsed the active SEPA mandates unused for 36 months (no debit since then, or "
        "never one since the signature), and forget unconfirmed signatures. Run it daily."
    )

    def handle(self, *args, **options):
        lapsed = mandates.lapse()
        for mandate in lapsed:
            self.stdout.write(f"{mandate.rum}: lapsed")
        self.stdout.write(f"{len(lapsed)} mandate(s) lapsed.")
