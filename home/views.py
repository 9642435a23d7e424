"""The Accueil tab: what the family must do, this week's lessons, the news."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_safe

from . import todo


@login_required
@require_safe
def home(request):
    user = request.user
    if user.is_staff and user.family_id is None:
        return redirect("admin:index")
    context = {}
    if user.family_id is not None:
        context["home"] = todo.home(user.family)
    return render(request, "home/home.html", context)
