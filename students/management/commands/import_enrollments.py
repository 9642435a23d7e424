from students.imports.command import ImportCommand
from students.imports.enrollments import EnrollmentsImport


class Command(ImportCommand):
    help = "Imports the enrollments of one site from a legacy export (see README)."
    importer = EnrollmentsImport
