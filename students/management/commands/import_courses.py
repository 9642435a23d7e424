from students.imports.courses import CoursesImport
from students.imports.command import ImportCommand


class Command(ImportCommand):
    help = "Imports the courses of one site from a legacy export (see README)."
    importer = CoursesImport
