import re
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from extranet.models import Site
from families import onboarding


def rate(value):
    match = re.fullmatch(r"(\d+)(?:/min)?", value)
    if not match or int(match[1]) < 1:
        raise ValueError(value)
    return int(match[1])


class Command(BaseCommand):
    help = (
        "Queues one first-connection e-mail per family account of the site (identifiant "
        "and a link to choose the password, never a password) and prints letters (PDF) "
        "for the families without an e-mail address. Accounts whose holder has chosen a "
        "password already are skipped."
    )

    def add_arguments(self, parser):
        parser.add_argument("--site", required=True, help="slug of the site")
        parser.add_argument(
            "--only-never-logged-in",
            action="store_true",
            help="skip the accounts that have already signed in",
        )
        parser.add_argument(
            "--rate",
            type=rate,
            default=onboarding.DEFAULT_RATE,
            help="e-mails per minute, e.g. 120/min (default %(default)s)",
        )
        parser.add_argument(
            "--base-url",
            default=settings.PORTAL_URL,
            help="public address of the portal (default: PORTAL_URL)",
        )
        parser.add_argument(
            "--letters",
            help="PDF of letters for families without e-mail (default: invitations-<site>.pdf)",
        )
        parser.add_argument(
            "--renew",
            action="store_true",
            help=(
                "print new codes on the letters: the codes of letters printed before stop "
                "working (by default a letter printed again shows the same code)"
            ),
        )

    def handle(self, *args, **options):
        try:
            site = Site.objects.get(slug=options["site"])
        except Site.DoesNotExist:
            raise CommandError(_("Unknown site “%(slug)s”.") % {"slug": options["site"]}) from None
        base_url = (options["base_url"] or "").rstrip("/")
        if not base_url.startswith(("https://", "http://")):
            raise CommandError(_("Give the portal's address with --base-url or PORTAL_URL."))
        accounts = (
            get_user_model()
            .objects.filter(site=site, family__isnull=False, is_active=True)
            .order_by("username")
        )
        if options["only_never_logged_in"]:
            accounts = accounts.filter(last_login__isnull=True)
        selection = onboarding.select(accounts)
        if selection.with_password:
            self.stdout.write(
                ngettext(
                    "%(count)d account skipped: its holder has already chosen a password.",
                    "%(count)d accounts skipped: their holders have already chosen a password.",
                    len(selection.with_password),
                )
                % {"count": len(selection.with_password)}
            )
        queued, without_email = onboarding.send_first_connection_links(
            selection.ready, base_url, rate=options["rate"]
        )
        self.stdout.write(
            self.style.SUCCESS(_("%(count)d invitation(s) queued.") % {"count": queued})
        )
        if not without_email:
            return
        self.stdout.write(_("Without e-mail address (letters to post):"))
        for account in without_email:
            self.stdout.write(f"  {account.username}\t{account.family.name}")
        letters = onboarding.invitation_letters(without_email, base_url, renew=options["renew"])
        path = Path(options["letters"] or f"invitations-{site.slug}.pdf")
        # The letters hold live codes: readable by their owner only.
        path.touch(mode=0o600)
        path.chmod(0o600)
        path.write_bytes(letters.pdf)
        self.stdout.write(_("Letters written to %(path)s") % {"path": path})
        for account in letters.without_address:
            self.stdout.write(
                self.style.WARNING(
                    _("No postal address for %(family)s: complete the letter by hand.")
                    % {"family": account.family.name}
                )
            )
