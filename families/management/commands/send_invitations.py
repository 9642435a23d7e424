import re
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from extranet.models import InvitationCode, Site
from extranet.pdf import logo_uri, render_pdf
from extranet.tasks import invitation_context, send_invitation


def rate(value):
    match = re.fullmatch(r"(\d+)(?:/min)?", value)
    if not match or int(match[1]) < 1:
        raise ValueError(value)
    return int(match[1])


class Command(BaseCommand):
    help = (
        "Queues one first-connection e-mail per family account of the site (identifiant "
        "and a link to choose the password, never a password) and prints letters (PDF) "
        "for the families without an e-mail address."
    )

    def add_arguments(self, parser):
        parser.add_argument("--site", required=True, help="slug of the site")
        parser.add_argument(
            "--only-never-logged-in",
            action="store_true",
            help="skip the accounts that have already signed in",
        )
        parser.add_argument(
            "--rate", type=rate, default=60, help="e-mails per minute, e.g. 120/min (default 60)"
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
            .select_related("site", "family")
            .order_by("username")
        )
        if options["only_never_logged_in"]:
            accounts = accounts.filter(last_login__isnull=True)
        interval = timedelta(minutes=1) / options["rate"]
        start = timezone.now()
        queued, without_email = 0, []
        with transaction.atomic():
            for account in accounts.iterator(chunk_size=2000):
                if not account.contact_email:
                    without_email.append(account)
                    continue
                # Spread over time so the SMTP server's limits are respected.
                send_invitation.using(run_after=start + queued * interval).enqueue(
                    account.pk, base_url
                )
                queued += 1
        self.stdout.write(
            self.style.SUCCESS(_("%(count)d invitation(s) queued.") % {"count": queued})
        )
        if without_email:
            self.stdout.write(_("Without e-mail address (letters to post):"))
            for account in without_email:
                self.stdout.write(f"  {account.username}\t{account.family.name}")
            path = Path(options["letters"] or f"invitations-{site.slug}.pdf")
            letters = []
            for account in without_email:
                # A short code to type from paper, instead of the long link.
                account.invitation_codes.all().delete()
                code = InvitationCode.objects.create(user=account)
                letters.append(
                    {
                        **invitation_context(account, base_url),
                        "short_url": f"{base_url}{reverse('invitation_code', args=[code.display])}",
                    }
                )
            pdf = render_pdf(
                "families/pdf/invitation_letters.html",
                {"site": site, "letters": letters, "logo_uri": logo_uri(site)},
            )
            # The letters hold live links: readable by their owner only.
            path.touch(mode=0o600)
            path.chmod(0o600)
            path.write_bytes(pdf)
            self.stdout.write(_("Letters written to %(path)s") % {"path": path})
