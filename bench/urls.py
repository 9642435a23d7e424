"""The portal's URLs plus a bare view, behind the same middleware: the yardstick of the
page benchmarks."""

from django.http import HttpResponse
from django.urls import include, path


def bare_view(request):
    return HttpResponse("ok")


urlpatterns = [path("bare/", bare_view, name="bare"), path("", include("extranet.urls"))]
