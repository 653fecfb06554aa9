"""Settings for aidcases, read from the environment (django-environ).

Every value that differs between a laptop and production comes from the
environment; a malformed value fails at start. Without DATABASE_URL / REDIS_URL
the app runs on the embedded PostgreSQL and Redis (aidcases/embedded.py).
"""

from __future__ import annotations

import os
import sys
from datetime import timedelta
from pathlib import Path
from urllib.parse import unquote

import environ
from celery.schedules import crontab
from csp.constants import NONE, SELF

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

TESTING = "pytest" in sys.modules or env.bool("AIDCASES_TESTING", default=False)
if TESTING:
    # Tests get their own embedded servers, apart from a running `make run`.
    os.environ.setdefault("AIDCASES_VAR_DIR", str(BASE_DIR / "var" / "test"))

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not (DEBUG or TESTING):
        raise environ.ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off")
    SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production-4f0c9a"  # noqa: S105

# Keys for personal identifiers (aidcases/pii.py). FIELD_ENCRYPTION_KEYS: comma-separated
# Fernet keys, newest first — older keys still decrypt, so rotation never loses data.
# ID_HASH_KEY: the HMAC key behind the unique/lookup hash of ID numbers.
_DEV_FERNET_KEY = "ZGV2LW9ubHkta2V5LWRvLW5vdC11c2UtaW4tcHJvZCE="
FIELD_ENCRYPTION_KEYS = env.list("FIELD_ENCRYPTION_KEYS", default=[])
ID_HASH_KEY = env.str("ID_HASH_KEY", default="")
if not FIELD_ENCRYPTION_KEYS or not ID_HASH_KEY:
    if not (DEBUG or TESTING):
        raise environ.ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEYS and ID_HASH_KEY must be set when DEBUG is off"
        )
    FIELD_ENCRYPTION_KEYS = FIELD_ENCRYPTION_KEYS or [_DEV_FERNET_KEY]
    ID_HASH_KEY = ID_HASH_KEY or "dev-only-id-hash-key"

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.admin",
    "django.contrib.humanize",
    "django.contrib.postgres",
    "pgtrigger",
    "pghistory",
    "pghistory.admin",
    "axes",
    "csp",
    "django_htmx",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_filters",
    "rules.apps.AutodiscoverRulesConfig",
    "aidcases.apps.AidcasesConfig",
    "students",
    "disbursements",
    "volunteers",
]

MIDDLEWARE = [
    "aidcases.middleware.RequestSizeLimitMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "aidcases.middleware.RequestContextMiddleware",
    "pghistory.middleware.HistoryMiddleware",
    # axes last: it needs the authenticated request.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "aidcases.urls"
WSGI_APPLICATION = "aidcases.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "aidcases.context_processors.navigation",
                "aidcases.context_processors.notifications",
            ],
        },
    },
]

# --- database ---------------------------------------------------------------
if env.str("DATABASE_URL", default=""):
    DATABASES = {"default": env.db("DATABASE_URL")}
    # A unix-socket directory arrives percent-encoded in the URL's host part.
    DATABASES["default"]["HOST"] = unquote(DATABASES["default"].get("HOST", ""))
    EMBEDDED_POSTGRES = False
else:
    from aidcases import embedded

    DATABASES = {"default": embedded.postgres_settings()}
    EMBEDDED_POSTGRES = True
if TESTING:
    # Lets two test runs share one server (e.g. a developer's and a helper's).
    DATABASES["default"]["TEST"] = {
        "NAME": env.str("TEST_DATABASE_NAME", default=f"test_{DATABASES['default']['NAME']}")
    }
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=0))
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- redis / celery ---------------------------------------------------------
if env.str("REDIS_URL", default=""):
    REDIS_URL = env.str("REDIS_URL")
    EMBEDDED_REDIS = False
else:
    from aidcases import embedded

    REDIS_URL = embedded.redis_url()
    EMBEDDED_REDIS = True


# Shared by web processes (dashboard figures); tests keep a private in-memory one.
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    if TESTING
    else {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
}


def _celery_url(url: str) -> str:
    # redis-py spells a unix socket unix:///path; kombu wants redis+socket:///path.
    return "redis+socket://" + url[len("unix://") :] if url.startswith("unix://") else url


CELERY_BROKER_URL = _celery_url(REDIS_URL)
CELERY_RESULT_BACKEND = None  # job state lives in our own Job rows
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = "Asia/Shanghai"
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Deployments sharing one Redis (and the worker integration test) use their own queue.
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_QUEUE", default="aidcases")
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_EAGER_PROPAGATES = True
# Hour of the day (Asia/Shanghai) at which the daily reminder runs start.
REMINDER_HOUR = env.int("REMINDER_HOUR", default=8)
CELERY_BEAT_SCHEDULE = {
    "reap-stale-jobs": {
        "task": "aidcases.tasks.reap_stale_jobs",
        "schedule": timedelta(minutes=5),
    },
    "delete-expired-job-files": {
        "task": "aidcases.tasks.delete_expired_job_files",
        "schedule": crontab(hour=3, minute=15),
    },
    "purge-expired-uploads": {
        "task": "aidcases.tasks.purge_expired_uploads",
        "schedule": crontab(minute=25),
    },
    # Reminders (kinds registered by the volunteers app): every morning each kind decides
    # whether today is one of its days — team activities on the quarter's first working day,
    # mid-quarter and two weeks before its end (a later day catches up a missed one);
    # 特困 visits two weeks before the quarter ends; 留守 visits from the month's first
    # working day; overdue follow-ups daily. A rerun sends nothing twice (claimed keys).
    **{
        f"reminders-{kind}": {
            "task": "aidcases.tasks.send_reminders",
            "schedule": crontab(hour=REMINDER_HOUR, minute=minute),
            "args": (kind,),
        }
        for kind, minute in (
            ("team-activity", 0),
            ("follow-ups", 5),
            ("left-behind", 10),
            ("tekun", 15),
        )
    },
}
# A running job that has not reported progress for this long is considered dead.
JOB_STALE_AFTER = timedelta(minutes=env.int("JOB_STALE_MINUTES", default=15))
JOB_FILE_TTL = timedelta(days=env.int("JOB_FILE_TTL_DAYS", default=7))
# Uploaded import files (full ID numbers, phones) are deleted on commit or cancel, and any left
# over after this long by the hourly beat task.
IMPORT_UPLOAD_TTL = timedelta(hours=env.int("IMPORT_UPLOAD_TTL_HOURS", default=24))

# --- money (disbursements app) ----------------------------------------------------
# 公示 lasts at least this many working days; holidays and make-up working days
# (调休) as ISO dates, comma-separated in the environment.
PUBLICITY_WORKING_DAYS = env.int("PUBLICITY_WORKING_DAYS", default=5)
PUBLIC_HOLIDAYS = env.list("PUBLIC_HOLIDAYS", default=[])
MAKEUP_WORKDAYS = env.list("MAKEUP_WORKDAYS", default=[])
# Names of children under this age (on the first day of the 公示) show as 张*涵 on the 公示;
# 0 shows every name in full.
PUBLICITY_MASK_UNDER_AGE = env.int("PUBLICITY_MASK_UNDER_AGE", default=14)

# --- visits (volunteers app) ----------------------------------------------------
# How often a paired person is due a visit, in months, by case category (特困 quarterly,
# 留守 monthly), counted from the last visit where the person was seen (or the pairing's
# start). A visit is "upcoming" this many days before it is due and "overdue" this many
# days after.
VISIT_INTERVAL_MONTHS = {
    "tekun": env.int("VISIT_INTERVAL_MONTHS_TEKUN", default=3),
    "left_behind": env.int("VISIT_INTERVAL_MONTHS_LEFT_BEHIND", default=1),
}
VISIT_UPCOMING_DAYS = env.int("VISIT_UPCOMING_DAYS", default=7)
VISIT_GRACE_DAYS = env.int("VISIT_GRACE_DAYS", default=7)
# A proposed pairing not confirmed after this many days shows on the worklist.
PAIRING_CONFIRM_DAYS = env.int("PAIRING_CONFIRM_DAYS", default=14)

# --- auth -------------------------------------------------------------------
AUTH_USER_MODEL = "aidcases.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "rules.permissions.ObjectPermissionBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "aidcases.validators.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
if TESTING:
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=8 * 3600)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_SAVE_EVERY_REQUEST = True  # idle expiry: the clock restarts on each request
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"

AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=30))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
# Lockouts count by the same client address as the audit log (forwarded headers are believed
# only from TRUSTED_PROXY_COUNT proxies).
AXES_CLIENT_IP_CALLABLE = "aidcases.middleware.client_ip"
# A typed name that is no account is kept only as a keyed hash (it may be a password).
AXES_USERNAME_CALLABLE = "aidcases.signals.axes_username"

# --- i18n -------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文")]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True
LOCALE_PATHS = [BASE_DIR / "locale"]

# --- files ------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "var" / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Without collectstatic (make run, tests) whitenoise serves straight from the finders.
WHITENOISE_USE_FINDERS = DEBUG or TESTING
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(BASE_DIR / "var" / "media")))
# No MEDIA_URL on purpose: files with personal data are served only by scoped views.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG or TESTING
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
# A request body over MAX_REQUEST_BYTES is refused before it is read (the biggest upload is a
# 20 MB roster; the HTTPS proxy's client_max_body_size should match, see the README). Files
# over FILE_UPLOAD_MAX_MEMORY_SIZE go to a temporary file, not memory; a form body without
# files may hold DATA_UPLOAD_MAX_MEMORY_SIZE.
MAX_REQUEST_BYTES = env.int("MAX_REQUEST_MB", default=25) * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440

# --- email ------------------------------------------------------------------
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="aidcases@localhost")
# The site's address as users reach it (https://aid.example.gov.cn), put before the links
# in reminder emails; empty: the emails give the path and ask to sign in.
SITE_URL = env.str("SITE_URL", default="").rstrip("/")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- security ---------------------------------------------------------------
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# How many proxies in front of gunicorn append to X-Forwarded-For (the HTTPS proxy of the
# docker-compose deployment: 1). 0 believes no forwarded header at all.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG and not TESTING)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG and not TESTING)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG and not TESTING)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG or TESTING else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_SECONDS > 0
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=SECURE_HSTS_SECONDS > 0)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# /healthz is polled over plain HTTP by container health checks.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

# 认定等级 labels as this county words them, e.g. '{"special": "一档", "hard": "二档"}'.
HARDSHIP_LEVEL_LABELS = env.json("HARDSHIP_LEVEL_LABELS", default={})

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

PGHISTORY_APPEND_ONLY = True
# GETs write nothing; tagging them with history context only costs a query.
PGHISTORY_MIDDLEWARE_METHODS = ("POST", "PUT", "PATCH", "DELETE")
PGHISTORY_ADMIN_MODEL = "pghistory.MiddlewareEvents"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        "pgserver": {"level": "WARNING"},
    },
}
