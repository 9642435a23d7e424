"""One family at a glance, for the secretariat."""

from django.http import Http404


def family_overview(request, family_id):
    raise Http404
