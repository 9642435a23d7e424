from django.urls import path

from . import views

app_name = "billing"

urlpatterns = [
    path("", views.statement_view, name="statement"),
    path("factures/<int:pk>.pdf", views.invoice_pdf, name="invoice_pdf"),
    path("recus/<int:pk>.pdf", views.receipt_pdf, name="receipt_pdf"),
    path("attestation-<int:year>.pdf", views.attestation, name="attestation"),
    path("payer/", views.pay, name="pay"),
    path("echeancier/", views.choose_plan_view, name="plan"),
    path("paiement/retour/", views.payment_return, name="payment_return"),
    path("paiement/retour/<str:reference>/", views.payment_return, name="payment_result"),
    path("paiement/<str:reference>/reprendre/", views.resume_payment, name="resume_payment"),
    path("paiement/<str:reference>/abandonner/", views.abandon_payment, name="abandon_payment"),
    path(
        "paiement/notification/<slug:site_slug>/",
        views.payment_notification,
        name="payment_notification",
    ),
    path("banque-simulee/", views.simulated_bank, name="simulated_bank"),
]
