from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from . import health, views

urlpatterns = [
    path("", include("home.urls")),
    path("connexion/", views.login_view, name="login"),
    path("connexion/<slug:site>/", views.login_view, name="site_login"),
    path("deconnexion/", auth_views.LogoutView.as_view(), name="logout"),
    path("mot-de-passe-perdu/", views.password_reset_request, name="password_reset"),
    path("mot-de-passe-perdu/envoye/", views.password_reset_done, name="password_reset_done"),
    path(
        "nouveau-mot-de-passe/<uidb64>/<token>/",
        views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "bienvenue/<uidb64>/<token>/",
        views.InvitationConfirmView.as_view(),
        name="invitation_confirm",
    ),
    path("b/<str:code>/", views.invitation_code, name="invitation_code"),
    path("mot-de-passe/", views.PasswordChangeView.as_view(), name="password_change"),
    path("accessibilite/", views.accessibility, name="accessibility"),
    path(
        "declaration-accessibilite/",
        views.accessibility_statement_index,
        name="accessibility_statement_index",
    ),
    path(
        "declaration-accessibilite/<slug:slug>/",
        views.accessibility_statement,
        name="accessibility_statement",
    ),
    path("sante/", health.health, name="health"),
    path("etablissements/<slug:slug>/logo/", views.site_logo, name="site_logo"),
    path("famille/quotient/", include("fees.urls")),
    path("famille/", include("families.urls")),
    path("eleves/", include("students.urls")),
    path("reinscription/", include("reenrollment.urls")),
    path("facturation/prelevement/", include("directdebit.urls")),
    path("facturation/", include("billing.urls")),
    path("calendrier/", include("students.calendar_urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/login/", views.admin_login),
    path("admin/", admin.site.urls),
]
