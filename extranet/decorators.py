from functools import wraps

from django.contrib.auth.decorators import login_required
from django.http import Http404


def family_required(view):
    """For the family's own pages: a signed-in account linked to a family.
    The family is then `request.user.family`, the scope of every lookup."""

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.user.family_id is None:
            raise Http404("This account has no family.")
        return view(request, *args, **kwargs)

    return wrapper
