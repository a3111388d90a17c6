"""Settings for MedExchange, read from the environment.

Development needs nothing set. With ``DEBUG=false`` the platform runs in
production mode and refuses to start without ``SECRET_KEY`` and ``ALLOWED_HOSTS``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import environ
import xstatic.pkg.leaflet
import xstatic.pkg.leaflet_markercluster
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

PACKAGE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = PACKAGE_DIR.parent.parent

env = environ.Env()
VAR_DIR = Path(env.str("MEDEXCHANGE_VAR_DIR", default=str(PROJECT_DIR / "var")))

DEBUG = env.bool("DEBUG", default=True)

if DEBUG:
    SECRET_KEY = env.str("SECRET_KEY", default="development-only-key-never-use-in-production")
    ALLOWED_HOSTS = env.list(
        "ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]", "testserver"]
    )
else:
    SECRET_KEY = env.str("SECRET_KEY", default="")
    ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=[])
    if (
        len(SECRET_KEY) < 50
        or len(set(SECRET_KEY)) < 5
        or SECRET_KEY.startswith("django-insecure-")
    ):
        raise ImproperlyConfigured(
            "Production mode (DEBUG=false) needs SECRET_KEY set to a random value "
            "of at least 50 characters."
        )
    if not ALLOWED_HOSTS:
        raise ImproperlyConfigured(
            "Production mode (DEBUG=false) needs ALLOWED_HOSTS, e.g. exchange.example.org."
        )

CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.postgres",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "csp",
    "django_htmx",
    "django_countries",
    "django_filters",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "medexchange.common",
    "medexchange.accounts",
    "medexchange.network",
    "medexchange.catalog",
    "medexchange.documents",
    "medexchange.applications",
    "medexchange.agreements",
    "medexchange.matching",
    "medexchange.scheduling",
    "medexchange.funding",
    "medexchange.scholarships",
    "medexchange.api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "medexchange.common.middleware.UserPreferencesMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "medexchange.accounts.middleware.RequireTwoFactorForStaffMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "medexchange.urls"
WSGI_APPLICATION = "medexchange.wsgi.application"
ASGI_APPLICATION = "medexchange.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PACKAGE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.tz",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "medexchange.common.context_processors.site",
            ],
        },
    },
]

# --- Data -------------------------------------------------------------------
if "DATABASE_URL" not in env:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'medexchange.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"].setdefault("TEST", {})
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {"default": env.cache_url("CACHE_URL", default="locmemcache://medexchange")}

MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))
MEDIA_URL = "/media/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(VAR_DIR / "static")))
STATIC_URL = "/static/"
STATICFILES_DIRS = [
    PACKAGE_DIR / "static",
    # Map assets come from the XStatic packages, never from a CDN.
    ("leaflet", xstatic.pkg.leaflet.BASE_DIR),
    ("leaflet-markercluster", xstatic.pkg.leaflet_markercluster.BASE_DIR),
]
# In development WhiteNoise serves straight from the apps; production runs collectstatic.
WHITENOISE_AUTOREFRESH = DEBUG
WHITENOISE_USE_FINDERS = DEBUG
STORAGES: dict[str, dict[str, Any]] = {
    # Any Django storage class works here, e.g. django-storages' S3Storage with
    # MEDIA_STORAGE_OPTIONS='{"bucket_name": "…"}'.
    "default": {
        "BACKEND": env.str(
            "MEDIA_STORAGE_BACKEND", default="django.core.files.storage.FileSystemStorage"
        ),
        "OPTIONS": env.json("MEDIA_STORAGE_OPTIONS", default={}),
    },
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage",
    },
    # The applicants' document vault: never served under any URL, only through the
    # documents app's download view, which checks permission and logs each opening.
    "private": {
        "BACKEND": env.str(
            "PRIVATE_STORAGE_BACKEND", default="django.core.files.storage.FileSystemStorage"
        ),
        "OPTIONS": env.json(
            "PRIVATE_STORAGE_OPTIONS",
            default={
                "location": str(VAR_DIR / "private"),
                "file_permissions_mode": 0o600,
                "directory_permissions_mode": 0o700,
            },
        ),
    },
}
# Largest document an applicant or a referee may upload to the vault.
DOCUMENT_MAX_UPLOAD_BYTES = env.int("DOCUMENT_MAX_UPLOAD_BYTES", default=10 * 1024 * 1024)
# Days after an application is closed before the files only it still holds are deleted
# (``applications.retention``; the task runs daily, see CELERY_BEAT_SCHEDULE).
DOCUMENT_RETENTION_DAYS = env.int("DOCUMENT_RETENTION_DAYS", default=365)
# Month (1-12) on whose first day an academic year begins; 2026 means 2026/27 (agreements).
ACADEMIC_YEAR_START_MONTH = env.int("ACADEMIC_YEAR_START_MONTH", default=9)
# Month (1-12) on whose first day a fiscal year begins; receipts are numbered per fiscal
# year, named by the calendar year it begins in (funding).
FISCAL_YEAR_START_MONTH = env.int("FISCAL_YEAR_START_MONTH", default=1)
# Online gifts through Stripe Checkout (funding.payments.stripe): without the secret key
# the donation pages say online giving is not configured. STRIPE_API_BASE points the
# client at another API address (the tests' local fake); empty means Stripe's own.
STRIPE_SECRET_KEY = env.str("STRIPE_SECRET_KEY", default="")
STRIPE_WEBHOOK_SECRET = env.str("STRIPE_WEBHOOK_SECRET", default="")
STRIPE_API_BASE = env.str("STRIPE_API_BASE", default="")
# Time limit of one rotation-plan solve, in seconds (scheduling; the engine proves most
# single-program plans optimal well within it).
ROTATION_SOLVE_SECONDS = env.float("ROTATION_SOLVE_SECONDS", default=20.0)

# --- Accounts ---------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[MedExchange] "
ACCOUNT_RATE_LIMITS = {
    # Failed logins are limited per address and per account to stop guessing.
    "login_failed": "10/m/ip,5/5m/key",
    "signup": "20/m/ip",
    "reset_password": "20/m/ip,5/m/key",
    # The public join form: enough for a consortium applying for several schools.
    "join_request": "10/h/ip",
    # The public letter check: enough for a consulate, too few to guess codes.
    "letter_verify": "30/m/ip,300/h/ip",
    # Building the personal data ZIP reads every file of the vault.
    "data_export": "5/h/user",
}
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "MedExchange"

# --- E-mail and background work ---------------------------------------------
vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
if vars().get("EMAIL_FILE_PATH"):
    # django-environ drops the leading slash of filemail:///abs/path; keep it absolute.
    EMAIL_FILE_PATH = "/" + str(vars()["EMAIL_FILE_PATH"]).lstrip("/")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="MedExchange <noreply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="")
# Without a broker, tasks run in-process so a newcomer needs nothing installed.
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
# Periodic work, run by `celery -A medexchange beat` (or cron of the management commands
# of the same names: expire_offers, advance_placements, purge_documents).
CELERY_BEAT_SCHEDULE: dict[str, dict[str, Any]] = {
    "close-match-rankings": {
        "task": "medexchange.matching.tasks.close_due_rankings",
        "schedule": 10 * 60.0,
    },
    "expire-offers": {
        "task": "medexchange.applications.tasks.expire_offers",
        "schedule": 10 * 60.0,
    },
    "advance-placements": {
        "task": "medexchange.applications.tasks.advance_placements",
        "schedule": 24 * 60 * 60.0,
    },
    "purge-finished-documents": {
        "task": "medexchange.applications.tasks.purge_finished_documents",
        "schedule": 24 * 60 * 60.0,
    },
    "advance-agreements": {
        "task": "medexchange.agreements.tasks.agreements_advance",
        "schedule": 24 * 60 * 60.0,
    },
}

# --- Internationalisation ---------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [
    ("en", _("English")),
    ("es", _("Spanish")),
    ("it", _("Italian")),
    ("ar", _("Arabic")),
]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = "UTC"
USE_TZ = True

# --- Security ---------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SAMESITE = "Lax"

# Applied in production; the security tests apply the same values to check
# headers and cookie flags, so the two cannot drift apart.
PRODUCTION_SECURITY: dict[str, Any] = {
    "SECURE_HSTS_SECONDS": 31_536_000,
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": True,
    "SECURE_HSTS_PRELOAD": True,
    "SECURE_SSL_REDIRECT": env.bool("SECURE_SSL_REDIRECT", default=True),
    # Load balancers probe health over plain HTTP.
    "SECURE_REDIRECT_EXEMPT": [r"^healthz$"],
    "SESSION_COOKIE_SECURE": True,
    "CSRF_COOKIE_SECURE": True,
    "LANGUAGE_COOKIE_SECURE": True,
}
if not DEBUG:
    vars().update(PRODUCTION_SECURITY)
if env.bool("BEHIND_TLS_PROXY", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Map tiles: any XYZ tile server; empty means a plain background (offline use).
MAP_TILE_URL = env.str("MAP_TILE_URL", default="https://tile.openstreetmap.org/{z}/{x}/{y}.png")
MAP_TILE_ATTRIBUTION = env.str("MAP_TILE_ATTRIBUTION", default="© OpenStreetMap contributors")


def _origin(url: str) -> str:
    parts = url.split("/")
    return "/".join(parts[:3]) if url.startswith("http") else ""


_TILE_ORIGIN = _origin(MAP_TILE_URL).replace("{s}.", "*.")
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        # Inline style attributes are used by the admin, Leaflet and Swagger UI;
        # scripts stay strictly same-origin.
        "style-src": [SELF, "'unsafe-inline'"],
        "img-src": [SELF, "data:", *([_TILE_ORIGIN] if _TILE_ORIGIN else [])],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

# --- API ----------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
    ],
    "DEFAULT_THROTTLE_RATES": {"anon": "600/hour"},
}
SPECTACULAR_SETTINGS = {
    "TITLE": "MedExchange API",
    "DESCRIPTION": "Public catalog and directory of a medical education exchange network.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Institutions and sites both have a "kind"; name their enums apart.
    "ENUM_NAME_OVERRIDES": {
        "InstitutionKindEnum": "medexchange.network.choices.InstitutionKind",
        "SiteKindEnum": "medexchange.network.choices.SiteKind",
        "OpportunityKindEnum": "medexchange.catalog.choices.OpportunityKind",
        "AccommodationKindEnum": "medexchange.catalog.choices.AccommodationKind",
        "AgreementStatusEnum": "medexchange.agreements.choices.AgreementStatus",
        "OpportunityStatusEnum": "medexchange.catalog.choices.OpportunityStatus",
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}
