from django.urls import path

from . import views

app_name = "reenrollment"

urlpatterns = [
    path("", views.index, name="index"),
    path("<int:student_pk>/", views.documents, name="documents"),
    path("<int:student_pk>/documents/importer/", views.upload, name="upload"),
    path("<int:student_pk>/souhaits/", views.wishes, name="wishes"),
    path("<int:student_pk>/validation/", views.validation, name="validation"),
    path("<int:student_pk>/envoyee/", views.sent, name="sent"),
    path("reglement/<int:pk>/", views.rules_pdf, name="rules"),
]
