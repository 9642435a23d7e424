"""A staff member who works for several sites chooses the one she works on;
every list, form and figure of the administration follows her choice
(`extranet.admin_scoping.staff_site_id`)."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from extranet.admin_scoping import CHOSEN_SITE_KEY, staff_sites


@require_POST
def switch_site(request):
    chosen = request.POST.get("site", "")
    site = next((s for s in staff_sites(request.user) if str(s.pk) == chosen), None)
    if site is None:
        raise PermissionDenied
    request.session[CHOSEN_SITE_KEY] = site.pk
    messages.success(request, _("You now work for %(site)s.") % {"site": site.name})
    # The day's work of that site: the page she was on may belong to the other.
    return redirect("admin:index")
