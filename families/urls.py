from django.urls import path

from . import views

app_name = "families"

urlpatterns = [
    path("", views.family, name="family"),
    path("modifier/", views.edit_family, name="edit"),
    path("elements-modifies/", views.changes_saved, name="changes_saved"),
    path("responsables/ajouter/", views.add_guardian, name="guardian_add"),
    path("responsables/<int:pk>/modifier/", views.edit_guardian, name="guardian_edit"),
    path("documents/importer/", views.upload_document, name="document_upload"),
    path("documents/<int:pk>/", views.download_document, name="document"),
    path("documents/<int:pk>/remplacer/", views.replace_document, name="document_replace"),
]
