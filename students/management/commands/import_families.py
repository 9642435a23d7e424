from students.imports.families import FamiliesImport
from students.imports.command import ImportCommand


class Command(ImportCommand):
    help = "Imports the families of one site from a legacy export (see README)."
    importer = FamiliesImport
