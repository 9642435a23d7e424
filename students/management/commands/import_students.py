from pathlib import Path

from students.imports.command import PeopleImportCommand
from students.imports.families import StudentsImport


class Command(PeopleImportCommand):
    help = (
        "Imports the students of one site from a legacy export, each joining a family "
        "already on the portal (see README)."
    )
    importer = StudentsImport

    def files(self, options):
        return [(Path(options["file"]), "students")]
