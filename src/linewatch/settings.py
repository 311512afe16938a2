"""Django settings. Configuration comes from the environment (see docs/operations.md)."""

from __future__ import annotations

import os

import dj_database_url

from linewatch import paths

DEBUG = os.environ.get("LINEWATCH_DEBUG") == "1"
SECRET_KEY = paths.secret_key()
ALLOWED_HOSTS = [h for h in os.environ.get("LINEWATCH_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",") if h]
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("LINEWATCH_CSRF_TRUSTED_ORIGINS", "").split(",") if o]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "ninja",  # serves the API docs' scripts from the package, not a CDN
    "linewatch.core",
    "linewatch.workforce",
    "linewatch.events",
    "linewatch.detect",
    "linewatch.response",
    "linewatch.discovery",
    "linewatch.vulns",
    "linewatch.segmentation",
    "linewatch.evidence",
    "linewatch.patrols",
    "linewatch.resilience",
    "linewatch.nodes",
    "linewatch.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "linewatch.core.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "linewatch.core.audit.AuditActorMiddleware",
]

ROOT_URLCONF = "linewatch.urls"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "linewatch.web.context.navigation",
            ],
        },
    },
]
ASGI_APPLICATION = "linewatch.asgi.application"
WSGI_APPLICATION = "linewatch.wsgi.application"

DATABASES = {"default": dj_database_url.parse(paths.database_url(), conn_max_age=0)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web server read while an import or the worker writes; IMMEDIATE avoids
    # "database is locked" upgrades from read to write transactions.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=10000;",
        "transaction_mode": "IMMEDIATE",
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/login/"

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
if os.environ.get("LINEWATCH_HTTPS") == "1":
    SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = True

# Event batches (POST /api/v1/events) and site files may be larger than Django's 2.5 MB default;
# the events endpoint refuses more than this itself, with a message.
DATA_UPLOAD_MAX_MEMORY_SIZE = 32 * 1024 * 1024 + 1

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = os.environ.get("LINEWATCH_STATIC_ROOT")  # only for collectstatic behind another server
WHITENOISE_USE_FINDERS = True  # serve from the installed packages without collectstatic
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LINEWATCH_LOG_LEVEL", "WARNING")},
}

# Plant nodes (docs/nodes.md): this installation's node name. Empty: a single installation, nothing is kept for
# forwarding. Set on headquarters ("hq") and on each plant node ("kolding-node", …) to keep a per-site outbox.
LINEWATCH_NODE = os.environ.get("LINEWATCH_NODE", "")
