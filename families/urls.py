from django.urls import path

from . import views

urlpatterns = [
    path("", views.family, name="family"),
    path("modifier/", views.edit_family, name="family_edit"),
    path("elements-modifies/", views.changes_saved, name="family_changes_saved"),
    path("responsables/ajouter/", views.add_guardian, name="family_guardian_add"),
    path("responsables/<int:pk>/modifier/", views.edit_guardian, name="family_guardian_edit"),
    path("documents/importer/", views.upload_document, name="family_document_upload"),
    path("documents/<int:pk>/", views.download_document, name="family_document"),
]
