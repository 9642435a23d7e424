from django.urls import path

from . import views

urlpatterns = [
    path("", views.student_list, name="student_list"),
    path("emploi-du-temps/", views.timetable, name="timetable"),
    path("calendrier/renouveler/", views.renew_calendar_link, name="calendar_renew"),
    path("<int:pk>/", views.student_detail, name="student_detail"),
    path("<int:pk>/cours/", views.student_courses, name="student_courses"),
    path("<int:pk>/historique/", views.student_history, name="student_history"),
    path("<int:pk>/documents/importer/", views.upload_student_document,
         name="student_document_upload"),
    path("<int:pk>/documents/<int:document_pk>/", views.download_student_document,
         name="student_document"),
    path("<int:pk>/formulaires/<slug:form_name>.pdf", views.student_form_pdf,
         name="student_form"),
]
