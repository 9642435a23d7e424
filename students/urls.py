from django.urls import path

from . import views

app_name = "students"

urlpatterns = [
    path("", views.student_list, name="list"),
    path("emploi-du-temps/", views.timetable, name="timetable"),
    path("calendrier/renouveler/", views.renew_calendar_link, name="calendar_renew"),
    path("<int:pk>/", views.student_detail, name="detail"),
    path("<int:pk>/cours/", views.student_courses, name="courses"),
    path("<int:pk>/historique/", views.student_history, name="history"),
    path("<int:pk>/documents/importer/", views.upload_student_document, name="document_upload"),
    path("<int:pk>/documents/<int:document_pk>/", views.download_student_document, name="document"),
    path(
        "<int:pk>/documents/<int:document_pk>/remplacer/",
        views.replace_student_document,
        name="document_replace",
    ),
    path("<int:pk>/formulaires/<slug:form_name>.pdf", views.student_form_pdf, name="form"),
]
