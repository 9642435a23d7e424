app_name = "directdebit"

urlpatterns: list = []
