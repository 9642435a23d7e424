"""The database connection as production opens it."""

from django.db import connection


def test_postgresql_never_compiles_queries_just_in_time(db):
    """JIT compilation cost the secretariat's figures more than the queries themselves."""
    if connection.vendor != "postgresql":
        return  # SQLite has no JIT.
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone()[0] == "off"
