from django.urls import path

from . import views

urlpatterns = [
    path("", views.index, name="reenrollment"),
    path("<int:student_pk>/", views.documents, name="reenrollment_documents"),
    path("<int:student_pk>/documents/importer/", views.upload, name="reenrollment_upload"),
    path("<int:student_pk>/souhaits/", views.wishes, name="reenrollment_wishes"),
    path("<int:student_pk>/validation/", views.validation, name="reenrollment_validation"),
    path("<int:student_pk>/envoyee/", views.sent, name="reenrollment_sent"),
    path("reglement/<int:pk>/", views.rules_pdf, name="reenrollment_rules"),
]
