"""What the three import commands share: options, the report, the summary."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils.translation import gettext as _

from extranet.models import Site

from .readers import Table, write_report


class ImportCommand(BaseCommand):
    importer = None

    def add_arguments(self, parser):
        parser.add_argument("file", help="CSV (semicolon or comma) or XLSX file")
        parser.add_argument("--site", required=True, help="slug of the site")
        parser.add_argument("--encoding", help="e.g. utf-8 or cp1252 (detected by default)")
        parser.add_argument("--delimiter", help="; or , (detected by default)")
        parser.add_argument("--dry-run", action="store_true", help="check and count, write nothing")
        parser.add_argument(
            "--skip-invalid",
            action="store_true",
            help="import the valid rows and write the others to a report",
        )
        parser.add_argument(
            "--report", help="where to write the rejected rows (default: <file>-rejets.csv)"
        )

    def handle(self, *args, **options):
        try:
            site = Site.objects.get(slug=options["site"])
        except Site.DoesNotExist:
            raise CommandError(_("Unknown site “%(slug)s”.") % {"slug": options["site"]}) from None
        path = Path(options["file"])
        if not path.exists():
            raise CommandError(_("No file “%(path)s”.") % {"path": path})
        table = Table(path, encoding=options["encoding"], delimiter=options["delimiter"])
        job = self.importer(site=site, table=table, progress=options["verbosity"] >= 1)
        try:
            job.check()
        except UnicodeDecodeError:
            raise CommandError(
                _(
                    "The file cannot be read with the encoding “%(encoding)s”: "
                    "try --encoding cp1252 or utf-8."
                )
                % {"encoding": options["encoding"]}
            ) from None
        for error in job.errors:
            self.stderr.write(str(error))
        if job.errors and not options["skip_invalid"]:
            raise CommandError(
                _(
                    "%(count)d error(s): nothing was imported. Correct the file, "
                    "or use --skip-invalid."
                )
                % {"count": len(job.errors)}
            )
        with transaction.atomic():
            job.write(commit=not options["dry_run"])
        if job.rejected and not options["dry_run"]:
            report = Path(options["report"] or path.with_name(f"{path.stem}-rejets.csv"))
            write_report(report, job.header, job.rejected, table.delimiter or ";")
            self.stdout.write(_("Rejected rows written to %(path)s") % {"path": report})
        prefix = _("Dry run, nothing written: ") if options["dry_run"] else ""
        self.stdout.write(self.style.SUCCESS(f"{prefix}{job.summary}"))
