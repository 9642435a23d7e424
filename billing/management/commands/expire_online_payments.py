from django.core.management.base import BaseCommand

from billing.online import expire_abandoned


class Command(BaseCommand):
    help = (
        "Marks as abandoned the online payments the bank has not confirmed in time "
        "(PAYMENT_EXPIRY_MINUTES). Run it every few minutes (cron, systemd timer); a "
        "late confirmation from the bank is still recorded."
    )

    def handle(self, *args, **options):
        count = expire_abandoned()
        self.stdout.write(f"{count} online payment(s) marked as abandoned.")
