from django.urls import path

from . import views

app_name = "fees"

urlpatterns = [
    path("", views.income, name="income"),
    path("<int:year>/", views.edit_income, name="income_edit"),
    path("avis/importer/", views.upload_notice, name="notice_upload"),
]
