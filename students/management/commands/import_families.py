from pathlib import Path

from students.imports.command import PeopleImportCommand
from students.imports.families import FamiliesImport


class Command(PeopleImportCommand):
    help = (
        "Imports the families of one site from a legacy export, with their students from "
        "the same file or from --students (see README)."
    )
    importer = FamiliesImport

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument(
            "--students",
            metavar="FILE",
            help="a students file imported in the same run (its report: <file>-rejets.csv)",
        )

    def files(self, options):
        files = [(Path(options["file"]), "families")]
        if options["students"]:
            files.append((Path(options["students"]), "students"))
        return files
