"""Counts the database queries of each request and returns the number in the
`X-Bench-Queries` response header (bench/settings.py only)."""

from django.db import connection

HEADER = "X-Bench-Queries"


def query_count(get_response):
    def middleware(request):
        count = 0

        def counter(execute, sql, params, many, context):
            nonlocal count
            count += 1
            return execute(sql, params, many, context)

        with connection.execute_wrapper(counter):
            response = get_response(request)
        response[HEADER] = str(count)
        return response

    return middleware
