"""The portal's URLs plus two yardsticks behind the same middleware, for the page
benchmarks: a bare login-required view, and a 20-row table page made from one query in a
minimal template extending the portal's base."""

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.template import engines
from django.urls import include, path

from students.models import Course

TABLE = engines["django"].from_string(
    """{% extends "base.html" %}
{% block title %}Cours{% endblock %}
{% block content %}
<h1>Cours</h1>
<table class="table">
  <thead><tr><th scope="col">Discipline</th><th scope="col">Jour</th>
    <th scope="col">Horaire</th><th scope="col">Niveau</th></tr></thead>
  <tbody>
  {% for course in courses %}
    <tr><td>{{ course.discipline.name }}</td><td>{{ course.get_weekday_display }}</td>
      <td>{{ course.start_time|time:"H:i" }}–{{ course.end_time|time:"H:i" }}</td>
      <td>{{ course.level }}</td></tr>
  {% endfor %}
  </tbody>
</table>
{% endblock %}"""
)


@login_required
def bare_view(request):
    return HttpResponse("ok")


@login_required
def table_view(request):
    """Twenty courses of the account's site with their disciplines: one query."""
    courses = Course.objects.filter(site=request.user.site_id).select_related("discipline")
    return HttpResponse(TABLE.render({"courses": courses.order_by("pk")[:20]}, request))


urlpatterns = [
    path("bare/", bare_view, name="bare"),
    path("bench-table/", table_view, name="bench_table"),
    path("", include("extranet.urls")),
]
