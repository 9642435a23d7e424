from django.urls import path

app_name = "directdebit"

urlpatterns: list = []
