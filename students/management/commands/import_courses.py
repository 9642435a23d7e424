from students.imports.command import ImportCommand
from students.imports.courses import CoursesImport


class Command(ImportCommand):
    help = "Imports the courses of one site from a legacy export (see README)."
    importer = CoursesImport
