from django.urls import path

from . import views

# No namespace: the portal's first page is `home` everywhere.
urlpatterns = [
    path("", views.home, name="home"),
]
