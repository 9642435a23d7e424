"""What the import commands share: options, the reports, the summary."""

from contextlib import contextmanager
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils.translation import gettext as _

from extranet.models import Site

from .mapping import Mapping, MappingError
from .readers import Table, write_report
from .suggest import suggest_mapping


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
        tables = []
        for path, role in self.files(options):
            if not path.exists():
                raise CommandError(_("No file “%(path)s”.") % {"path": path})
            tables.append(
                (Table(path, encoding=options["encoding"], delimiter=options["delimiter"]), role)
            )
        with readable(options["encoding"]):
            self.run(site, tables, options)

    def files(self, options):
        """[(path, role)] of the files to import."""
        return [(Path(options["file"]), "")]

    def job_options(self, options):
        return {}

    def run(self, site, tables, options):
        job = self.importer(
            site=site,
            tables=tables,
            progress=options["verbosity"] >= 1,
            **self.job_options(options),
        )
        job.check()
        for error in job.column_errors:
            self.stderr.write(str(error))
        if job.column_errors:
            # Even with --skip-invalid: a file whose columns are not understood
            # would otherwise be dropped whole, line after line.
            raise CommandError(
                _(
                    "The columns of the file do not match what the import expects (see "
                    "above): nothing was imported."
                )
            )
        for problem in [*job.errors, *job.warnings]:
            self.stderr.write(str(problem))
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
        if not options["dry_run"]:
            for index, source in enumerate(job.sources):
                if not source.rejected:
                    continue
                path = source.table.path
                default = path.with_name(f"{path.stem}-rejets.csv")
                report = Path(options["report"]) if options["report"] and not index else default
                write_report(
                    report,
                    source.table.header,
                    sorted(source.rejected_lines, key=lambda rejected: rejected[0]),
                    source.table.delimiter or ";",
                )
                self.stdout.write(
                    _("%(count)d rejected line(s) written to %(path)s")
                    % {"count": len(source.rejected), "path": report}
                )
        if job.warnings:
            self.stdout.write(
                _("%(count)d warning(s): see above, and check these values.")
                % {"count": len(job.warnings)}
            )
        lines = job.report()
        if options["dry_run"] and len(lines) == 1:
            lines[0] = _("Dry run, nothing written: ") + lines[0]
        elif options["dry_run"]:
            lines.insert(0, _("Dry run, nothing written."))
        self.stdout.write(self.style.SUCCESS("\n".join(lines)))


@contextmanager
def readable(encoding):
    """A file that cannot be decoded: a clear message."""
    try:
        yield
    except UnicodeDecodeError:
        raise CommandError(
            _(
                "The file cannot be read with the encoding “%(encoding)s”: "
                "try --encoding cp1252 or utf-8."
            )
            % {"encoding": encoding}
        ) from None


class PeopleImportCommand(ImportCommand):
    """Families and students: the export's own columns through a mapping."""

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument(
            "--columns",
            metavar="MAPPING.toml",
            help="which column of the file gives which field of the portal (see README)",
        )
        parser.add_argument(
            "--suggest-columns",
            metavar="MAPPING.toml",
            help="write a mapping guessed from the file's columns, to check; import nothing",
        )
        parser.add_argument(
            "--blank-invalid-optional",
            action="store_true",
            help="leave an invalid optional value empty, with a warning, instead of "
            "rejecting its line",
        )

    def job_options(self, options):
        mapping = None
        if options["columns"]:
            try:
                mapping = Mapping.load(Path(options["columns"]))
            except MappingError as error:
                for problem in error.problems:
                    self.stderr.write(f"{Path(options['columns']).name}: {problem}")
                raise CommandError(
                    _("The mapping %(path)s is not right (see above): nothing was imported.")
                    % {"path": options["columns"]}
                ) from None
        return {"mapping": mapping, "blank_invalid_optional": options["blank_invalid_optional"]}

    def run(self, site, tables, options):
        if options["suggest_columns"] and options["columns"]:
            raise CommandError(_("Give either --columns or --suggest-columns, not both."))
        if options["suggest_columns"]:
            return self.suggest(tables, Path(options["suggest_columns"]))
        return super().run(site, tables, options)

    def suggest(self, tables, path):
        if path.exists():
            raise CommandError(
                _("%(path)s already exists: choose another name, or remove it.") % {"path": path}
            )
        headers = [(table.name, table.read_header(), role) for table, role in tables]
        named = self.importer.named_columns
        if not any(named(role).read_header(header) for _name, header, role in headers):
            self.stdout.write(
                _("The columns of the file are the portal's own: import it without --columns.")
            )
            return
        text, guesses, unmatched = suggest_mapping(headers)
        path.write_text(text, encoding="utf-8")
        self.stdout.write(_("Mapping written to %(path)s.") % {"path": path})
        self.stdout.write(
            _(
                "%(guesses)d guess(es) to check, %(unmatched)d column(s) not recognised "
                "(in « ignorer »). Check it, then import with --columns %(path)s."
            )
            % {"guesses": guesses, "unmatched": unmatched, "path": path}
        )
