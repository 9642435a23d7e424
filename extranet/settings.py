"""Settings for Extranet, read from the environment.

Development defaults are safe and local (SQLite, e-mails written to a folder);
production is configured through the environment variables listed in README.md.
"""

import json
import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name, default=False):
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name, default=""):
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG")

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "django-insecure-development-only-key-never-use-in-production-0123456789"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "extranet",
    "documents",
    "families",
    "students",
    "fees",
    "reenrollment",
    "billing",
    "directdebit",
    "messaging",
    "home",
    "workspace",
    "workspace.apps.WorkspaceAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_tasks_db",
    "django_ratelimit",
    "crispy_forms",
    "crispy_bootstrap5",
    "phonenumber_field",
    "simple_history",
    "sequences",
]

MIDDLEWARE = [
    # First: what follows (HTTPS redirection, throttling) must not see a
    # forwarded header that no trusted proxy set.
    "extranet.proxies.TrustedProxyMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "extranet.middleware.PrivatePagesNotStoredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
]

ROOT_URLCONF = "extranet.urls"
WSGI_APPLICATION = "extranet.wsgi.application"
ASGI_APPLICATION = "extranet.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "extranet.context_processors.portal",
            ],
            "builtins": ["extranet.templatetags.extranet_tags"],
        },
    },
]

# Local state of a development checkout (SQLite file, e-mails, uploads).
VAR_DIR = BASE_DIR / "var"
if not os.environ.get("DATABASE_URL"):
    VAR_DIR.mkdir(exist_ok=True)

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
        conn_max_age=int(os.environ.get("CONN_MAX_AGE", "0")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Several processes (server and task worker) share the file: wait for locks.
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Identifiants are unique per site, not globally (see User.Meta): the
# authentication backend always looks accounts up with their site.
SILENCED_SYSTEM_CHECKS = ["auth.W004"]
# django-ratelimit predates Django's own Redis cache, which increments atomically.
SILENCED_SYSTEM_CHECKS += ["django_ratelimit.W001"]

# Shared between processes, so that login throttling holds across workers.
if os.environ.get("REDIS_URL"):
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": os.environ["REDIS_URL"],
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "extranet_cache",
            # Beyond MAX_ENTRIES (300 by default) the cache deletes entries at
            # random: someone trying many accounts would erase the counters.
            "OPTIONS": {"MAX_ENTRIES": 1_000_000},
        }
    }
    # The database cache is shared between processes; its increments are not
    # atomic, which may let a few extra attempts through under a burst. Set
    # REDIS_URL in production for exact counting.
    SILENCED_SYSTEM_CHECKS += ["django_ratelimit.E003"]

AUTH_USER_MODEL = "extranet.User"
AUTHENTICATION_BACKENDS = ["extranet.auth_backends.SiteAccountBackend"]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

PASSWORD_HASHERS = [
    "extranet.hashers.OWASPArgon2PasswordHasher",
    # Verifies hashes made before with Django's default parameters; they are
    # rehashed with the first hasher at the next sign-in.
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]

# CNIL recommendation for passwords alone: at least 12 characters.
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# First-connection (invitation) links sent to imported families.
INVITATION_VALID_DAYS = int(os.environ.get("INVITATION_VALID_DAYS", "14"))
# The portal's public address, for links in e-mails and letters sent by commands.
PORTAL_URL = os.environ.get("PORTAL_URL", "http://127.0.0.1:8000" if DEBUG else "").rstrip("/")

# Reset links expire after this many seconds (and die once used).
PASSWORD_RESET_TIMEOUT = int(os.environ.get("PASSWORD_RESET_TIMEOUT", str(24 * 3600)))

# Login throttling (see extranet/throttling.py): failures on one (site,
# identifiant) from one client address lock it for that address only; failures
# from one address over all accounts lock that address; beyond the failures on
# one account from all addresses, each further failure doubles a wait.
LOGIN_FAILURES_PER_ACCOUNT_AND_ADDRESS = os.environ.get(
    "LOGIN_FAILURES_PER_ACCOUNT_AND_ADDRESS", "5/15m"
)
LOGIN_FAILURES_PER_ADDRESS = os.environ.get("LOGIN_FAILURES_PER_ADDRESS", "30/15m")
LOGIN_FAILURES_PER_ACCOUNT = os.environ.get("LOGIN_FAILURES_PER_ACCOUNT", "20/d")
PASSWORD_RESET_REQUESTS_PER_ACCOUNT = os.environ.get("PASSWORD_RESET_REQUESTS_PER_ACCOUNT", "3/h")
PASSWORD_RESET_REQUESTS_PER_ADDRESS = os.environ.get("PASSWORD_RESET_REQUESTS_PER_ADDRESS", "20/h")
# One-time codes e-mailed to sign or change a direct-debit mandate, per family.
MANDATE_CODES_PER_FAMILY = os.environ.get("MANDATE_CODES_PER_FAMILY", "5/h")
# Behind a reverse proxy, the client address is in this header (e.g. X-Forwarded-For).
CLIENT_IP_HEADER = os.environ.get("CLIENT_IP_HEADER", "")
# Addresses or networks of the proxies whose forwarded headers (client address,
# scheme) are believed; anyone else's are removed (extranet/proxies.py). The
# default is this machine only: a proxy elsewhere must be named.
TRUSTED_PROXIES = env_list("TRUSTED_PROXIES", "127.0.0.1,::1")
RATELIMIT_IP_META_KEY = "extranet.throttling.client_address"

LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", _("French")), ("en", _("English"))]
# The project's catalogue (written by makemessages: the first path), then the
# French wording of Django's own strings, which makemessages never touches.
LOCALE_PATHS = [BASE_DIR / "extranet" / "locale", BASE_DIR / "extranet" / "locale_overrides"]
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True
FORMAT_MODULE_PATH = ["extranet.formats"]
LANGUAGE_COOKIE_NAME = "extranet_language"
LANGUAGE_COOKIE_SECURE = not DEBUG and env_bool("SECURE_COOKIES", True)
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", VAR_DIR / "staticfiles"))
# Uploaded files (logos now, families' documents later) live outside the
# static URL space; logos are served by a view, documents only to their owners.
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
# Families' documents: a folder of their own, never served by URL; the views
# that serve them check who is asking.
DOCUMENTS_ROOT = Path(os.environ.get("DOCUMENTS_ROOT", VAR_DIR / "documents"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "documents": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": DOCUMENTS_ROOT, "base_url": None},
    },
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
# When nginx serves the files of the documents storage (on the filesystem), the
# internal location it maps to DOCUMENTS_ROOT, e.g. /_protected/: the
# application checks who asks, then hands the sending over (X-Accel-Redirect).
PRIVATE_FILES_ACCEL_PREFIX = os.environ.get("PRIVATE_FILES_ACCEL_PREFIX", "")
DOCUMENT_MAX_BYTES = int(os.environ.get("DOCUMENT_MAX_BYTES", str(10 * 1024 * 1024)))
# Images above this many pixels are refused (decompression bombs).
DOCUMENT_MAX_PIXELS = int(os.environ.get("DOCUMENT_MAX_PIXELS", str(40_000_000)))
SCHOOL_YEAR_START_MONTH = 9

# Billing. Invoices are due this many days after issue unless told otherwise.
INVOICE_DUE_DAYS = int(os.environ.get("INVOICE_DUE_DAYS", "30"))
# Online payment: each site's secrets (PayZen keys…) as JSON keyed by the
# site's slug, e.g. {"combs-la-ville": {"secret_test": "…", "secret_production": "…"}};
# never stored in the database nor shown in the admin.
PAYMENT_SECRETS = json.loads(os.environ.get("PAYMENT_SECRETS", "{}"))
# A payment not confirmed by the bank after this long is shown as abandoned.
PAYMENT_EXPIRY_MINUTES = int(os.environ.get("PAYMENT_EXPIRY_MINUTES", "30"))
# The simulated bank (eopayment's dummy backend served by this server): for
# development and tests only, it accepts any notification.
PAYMENT_SIMULATOR = env_bool("PAYMENT_SIMULATOR", DEBUG)
# Payments the bank marks as made in its test mode are recorded only when
# this is on (a staging server); in production they are refused.
PAYMENT_ALLOW_TEST = env_bool("PAYMENT_ALLOW_TEST", DEBUG)
# Where PayFiP's web service description is read (its service address
# inside); empty for the real one bundled with eopayment.
PAYFIP_WSDL_URL = os.environ.get("PAYFIP_WSDL_URL", "")

PHONENUMBER_DEFAULT_REGION = "FR"
# The history is for reading: a revert would bypass the checks of a normal save.
SIMPLE_HISTORY_REVERT_DISABLED = True
PHONENUMBER_DB_FORMAT = "E164"
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# Background work: durable queue in the database, run by `manage.py db_worker`.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
EMAIL_MAX_ATTEMPTS = int(os.environ.get("EMAIL_MAX_ATTEMPTS", "8"))
EMAIL_RETRY_BASE_SECONDS = int(os.environ.get("EMAIL_RETRY_BASE_SECONDS", "60"))

DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Extranet <extranet@localhost>")
SERVER_EMAIL = os.environ.get("SERVER_EMAIL", DEFAULT_FROM_EMAIL)
if os.environ.get("EMAIL_HOST"):
    MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {
                "host": os.environ["EMAIL_HOST"],
                "port": int(os.environ.get("EMAIL_PORT", "587")),
                "username": os.environ.get("EMAIL_HOST_USER", ""),
                "password": os.environ.get("EMAIL_HOST_PASSWORD", ""),
                "use_tls": env_bool("EMAIL_USE_TLS", True),
                "timeout": int(os.environ.get("EMAIL_TIMEOUT", "20")),
            },
        }
    }
else:
    MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "OPTIONS": {"file_path": os.environ.get("EMAIL_FILE_PATH", str(VAR_DIR / "mail"))},
        }
    }

# Security headers. Everything is served from this origin: no CDN.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = int(os.environ.get("SESSION_COOKIE_AGE", str(8 * 3600)))
SESSION_COOKIE_NAME = "extranet_session"
CSRF_COOKIE_NAME = "extranet_csrftoken"
if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", True)
    CSRF_COOKIE_SECURE = env_bool("SECURE_COOKIES", True)
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", str(365 * 24 * 3600)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
    if env_bool("BEHIND_HTTPS_PROXY"):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.tasks": {"level": "INFO"},
        "django_tasks_db": {"level": "INFO"},
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}
