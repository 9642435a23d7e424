from django.core.management.base import BaseCommand

from directdebit.batches import collect


class Command(BaseCommand):
    help = (
        "Records as payments the debits of the batches whose collection date has come "
        "(receipts e-mailed by the task worker). Run it daily (cron, systemd timer); "
        "running it twice records nothing twice."
    )

    def handle(self, *args, **options):
        summary = collect()
        self.stdout.write(
            f"{summary.debits} debit(s) recorded as payments ({summary.total} €), "
            f"{summary.batches} batch(es) collected."
        )
