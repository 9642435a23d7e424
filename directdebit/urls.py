from django.urls import path

from . import views

app_name = "directdebit"

urlpatterns = [
    path("", views.mandate, name="mandate"),
    path("confirmer/<int:pk>/", views.confirm, name="confirm"),
    path("confirmer/<int:pk>/nouveau-code/", views.new_code, name="new_code"),
    path("changer-de-compte/", views.amend, name="amend"),
    path("changer-de-compte/confirmer/", views.amend_confirm, name="amend_confirm"),
    path("changer-de-compte/nouveau-code/", views.amend_new_code, name="amend_new_code"),
    path("revoquer/", views.revoke, name="revoke"),
    path("mandat-<int:pk>.pdf", views.pdf, name="pdf"),
]
