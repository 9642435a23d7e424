from students.imports.command import ImportCommand
from students.imports.families import FamiliesImport


class Command(ImportCommand):
    help = "Imports the families of one site from a legacy export (see README)."
    importer = FamiliesImport
