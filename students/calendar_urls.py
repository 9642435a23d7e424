"""The private calendar feed, at the portal's root so that links families
have already subscribed to keep working."""

from django.urls import path

from . import views

urlpatterns = [
    path("<str:token>.ics", views.calendar_feed, name="calendar_feed"),
]
