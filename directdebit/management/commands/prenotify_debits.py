from django.core.management.base import BaseCommand

from directdebit.prenotification import prenotify_all


class Command(BaseCommand):
    help = (
        "E-mails each family paying by direct debit the dates and amounts of its coming "
        "debits (with the mandate's RUM and the creditor's ICS) when it has not been told "
        "them yet, or an amount changed. Run it daily (cron, systemd timer): a debit is "
        "taken into a batch only once its amount was told Creditor.prenotice_days before."
    )

    def handle(self, *args, **options):
        for slug, summary in prenotify_all().items():
            self.stdout.write(
                f"{slug}: {summary.notified} family(ies) told, {summary.instalments} "
                f"instalment(s), {summary.without_address} without an e-mail address."
            )
