"""Middleware of the portal."""


class PrivatePagesNotStoredMiddleware:
    """Every response to a signed-in person is theirs alone: neither a shared
    cache nor the browser keeps it, so that the back button of a shared
    computer shows nothing of a family once it has signed out.

    A response that chose its own Cache-Control (a private file, the calendar
    feed, a site's public logo) keeps it.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and not response.has_header("Cache-Control"):
            response["Cache-Control"] = "private, no-store"
        return response
