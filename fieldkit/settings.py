"""The one settings module. Everything that differs between machines comes from the
environment; the defaults run fieldkit embedded (SpatiaLite, Celery eager) on one machine.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url

# pyproj, pyogrio and shapely must be imported before the first SpatiaLite connection:
# imported later, two PROJ builds end up in one process and it crashes at exit.
import pyogrio  # noqa: F401
import pyproj  # noqa: F401
import shapely  # noqa: F401
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from whitenoise.compress import Compressor

BASE_DIR = Path(__file__).resolve().parent.parent


_TRUE, _FALSE = ("1", "yes", "true", "on"), ("0", "no", "false", "off", "")


def envbool(name: str, default: str) -> bool:
    """A yes/no setting. Anything but the words for yes and no stops fieldkit: read as no,
    a mistyped DEBUG=ture or SECURE_SSL_REDIRECT=flase would silently be the other choice."""
    value = os.getenv(name, default).strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    words = ", ".join(_TRUE + _FALSE[:-1])
    raise ImproperlyConfigured(
        f"{name}={os.getenv(name, default)!r} is neither true nor false; use one of {words}"
    )


def envint(name: str, default: str) -> int:
    return int(os.getenv(name, default))


def envsecret(name: str, default: str = "") -> str:
    """A secret from NAME, or from the file named by NAME_FILE (Docker secrets)."""
    path = os.getenv(f"{name}_FILE")
    if path:
        return Path(path).read_text().strip()
    return os.getenv(name, default)


def envlist(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.getenv(name, default).split(",") if item.strip()]


DEBUG = envbool("DEBUG", "false")
SECRET_KEY = envsecret("SECRET_KEY", "insecure-development-key")
ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS", "")
# Public base URL used in links handed to devices (form downloads, Collect settings).
SITE_URL = os.getenv("SITE_URL", "http://127.0.0.1:8000").rstrip("/")
USE_X_FORWARDED_HOST = envbool("USE_X_FORWARDED_HOST", "false")
if envbool("TRUST_X_FORWARDED_PROTO", "false"):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# HTTPS. With DEBUG off everything defaults to HTTPS only: plain-HTTP requests are
# redirected, cookies are sent over HTTPS only and browsers are told to remember it (HSTS).
# An agency serving phones on plain HTTP inside its own network turns these off one by
# one (SECURE_SSL_REDIRECT=false, SESSION_COOKIE_SECURE=false, CSRF_COOKIE_SECURE=false);
# `check --deploy` then says what that costs.
_HTTPS_DEFAULT = "false" if DEBUG else "true"
SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", _HTTPS_DEFAULT)
# Load balancers and docker-compose probe /healthz over plain HTTP from inside.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SESSION_COOKIE_SECURE = envbool("SESSION_COOKIE_SECURE", _HTTPS_DEFAULT)
CSRF_COOKIE_SECURE = envbool("CSRF_COOKIE_SECURE", _HTTPS_DEFAULT)
# Browsers ignore HSTS received over plain HTTP, so this only binds a site already served
# over HTTPS; a year is what Django's deployment checklist and the preload list ask for.
SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", "0" if DEBUG else "31536000")
# Subdomains of fieldkit's own host name (not its siblings) are HTTPS only too.
SECURE_HSTS_INCLUDE_SUBDOMAINS = envbool("SECURE_HSTS_INCLUDE_SUBDOMAINS", "true")
# Preloading commits a whole registered domain, for every host under it and for months after
# it is withdrawn: a choice for the domain's owner, never a default (see security.W021 below).
SECURE_HSTS_PRELOAD = envbool("SECURE_HSTS_PRELOAD", "false")

# E-mail (alerts to law enforcement): an SMTP server, by default on this host.
EMAIL_HOST = os.getenv("EMAIL_HOST", "localhost")
EMAIL_PORT = envint("EMAIL_PORT", "25")
EMAIL_HOST_USER = os.getenv("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = envsecret("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = envbool("EMAIL_USE_TLS", "false")
DEFAULT_FROM_EMAIL = os.getenv("DEFAULT_FROM_EMAIL", "fieldkit <fieldkit@localhost>")

# What a visitor who is not signed in may see: the overview map of every protected area,
# coloured by these indicators ("code|subject", as the overview's list names them, such as
# "effort.km|,cpue.records.km|vertical:illicit"), with the context boundaries. Never a point,
# a track or a dashboard. Empty (the default): nothing is published, and the home page and
# the maps send visitors to sign in.
FIELDKIT_PUBLISH_INDICATORS = envlist("FIELDKIT_PUBLISH_INDICATORS", "")
# The pages' sign-in (portal); the admin has its own.
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/cases/"

DATA_DIR = Path(os.getenv("DATA_DIR", str(BASE_DIR / "var")))

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.gis",
    "rest_framework",
    "rest_framework_gis",
    "django_filters",
    "drf_spectacular",
    "leaflet",
    "axes",
    "fieldkit.apps.FieldkitConfig",
    "protected_areas",
    "accounts",
    "odk_forms",
    "observations",
    "standard_forms",
    "enforcement",
    "exports",
    "indicators",
    "maps",
    "webhooks",
    "reports",
    # The top: URLconf, home page, demo loader (nothing imports it).
    "portal",
]

MIDDLEWARE = [
    # First: notes the request's Cookie and Authorization values, which log lines must not
    # carry (fieldkit.logs).
    "fieldkit.logs.RequestCredentials",
    "django.middleware.security.SecurityMiddleware",
    # Static files, straight after the HTTPS redirect and before sessions: gunicorn serves
    # them itself, hashed names cached for ever, gzip and Brotli copies made at collectstatic.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # JSON answers gzip-compressed for clients that accept it (fieldkit.compression), before
    # anything else reads the body on its way out.
    "fieldkit.compression.CompressJSON",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: turns a locked-out admin sign-in into its lockout answer.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "fieldkit.wsgi.application"

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
                # `nav`: the pages the user's roles open, for the site's bar on every page.
                "maps.pages.site_navigation",
            ],
        },
    },
]

# Database: DATABASE_URL (postgis://user:pass@host:port/name) selects PostGIS; without it
# fieldkit runs on an embedded SpatiaLite file under DATA_DIR.
DATABASE_URL = os.getenv("DATABASE_URL", "")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=600)}
    # The indicators' view (indicators.models.IndicatorRow) is a UNION ALL whose grid-cell
    # branches read a table with CHECK (cell_id > 0): with constraint exclusion on, a read
    # of the rows without a cell skips those branches instead of scanning them.
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c constraint_exclusion=on"
else:
    DATABASES = {
        "default": {
            # Django's SpatiaLite backend, keeping the busy timeout (fieldkit/db/spatialite).
            "ENGINE": "fieldkit.db.spatialite",
            "NAME": str(DATA_DIR / "fieldkit.sqlite3"),
            # SQLite lets one writer at a time into the file; these make concurrent requests
            # and the background processing queue up for it instead of failing.
            "OPTIONS": {
                # Seconds a statement waits for another writer before "database is locked".
                "timeout": envint("SQLITE_BUSY_TIMEOUT", "30"),
                # Write-ahead log: readers and the writer no longer block each other. The mode
                # is stored in the file; setting it again on each connection costs nothing.
                # synchronous stays FULL: every commit is on disk before a phone gets its 201.
                "init_command": "PRAGMA journal_mode=WAL",
                # A transaction takes the write lock when it begins. A deferred one that reads
                # and then writes cannot wait for the lock (that could deadlock), so SQLite
                # fails it at once with "database is locked", whatever the timeout.
                "transaction_mode": "IMMEDIATE",
            },
            # In memory, one database per test worker.
            "TEST": {"NAME": ":memory:"},
        }
    }
SPATIALITE_LIBRARY_PATH = os.getenv("SPATIALITE_LIBRARY_PATH", "mod_spatialite")

AUTH_USER_MODEL = "accounts.User"
# django-axes first: it refuses a locked-out username and address before any password is
# checked (admin sign-in, Basic on the API). The OpenRosa endpoints, which authenticate on
# their own, call it too (accounts.openrosa_auth).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_ENABLED = envbool("AXES_ENABLED", "true")
# Wrong passwords in a row, for one username from one address, before that pair is refused
# for AXES_COOLOFF_MINUTES. Only wrong passwords count (never a sign-in challenge or an
# expired Digest nonce), and a right one clears the count: a phone sending a queue of
# records is not locked out, while guessing gets a handful of tries per quarter hour.
AXES_FAILURE_LIMIT = envint("AXES_FAILURE_LIMIT", "10")
AXES_COOLOFF_TIME = timedelta(minutes=envint("AXES_COOLOFF_MINUTES", "15"))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# No start-up banner on every manage.py command; lockouts are still logged.
AXES_VERBOSE = False
# The client address is REMOTE_ADDR. Behind a reverse proxy every client would share the
# proxy's: there, set AXES_IPWARE_META_PRECEDENCE_ORDER=HTTP_X_FORWARDED_FOR,REMOTE_ADDR
# and AXES_IPWARE_PROXY_COUNT to the number of proxies (only if they set that header).
AXES_IPWARE_META_PRECEDENCE_ORDER = tuple(envlist("AXES_IPWARE_META_PRECEDENCE_ORDER", "REMOTE_ADDR"))
AXES_IPWARE_PROXY_COUNT = envint("AXES_IPWARE_PROXY_COUNT", "0") or None
# Realm of HTTP Digest challenges; stored HA1 values depend on it, so it never changes.
OPENROSA_REALM = os.getenv("OPENROSA_REALM", "fieldkit")

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("tpi", "Tok Pisin")]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(os.getenv("STATIC_ROOT", str(DATA_DIR / "static")))
STATICFILES_FINDERS = [
    "django.contrib.staticfiles.finders.FileSystemFinder",
    "django.contrib.staticfiles.finders.AppDirectoriesFinder",
    # The browser libraries from npm: only the files fieldkit/vendor.py names, never the
    # whole of node_modules.
    "fieldkit.vendor.VendorFinder",
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # With DEBUG off, pages link to content-hashed names (`base.4f1c….css`) that browsers
    # and proxies may cache for ever, and collectstatic writes gzip and Brotli copies.
    # Those names exist only after collectstatic, which the image runs when it is built.
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
# Source maps are fetched only by a browser's developer tools: compressing them (Brotli
# at its best ratio) took most of collectstatic's time for nothing a visitor downloads.
WHITENOISE_SKIP_COMPRESS_EXTENSIONS = (*Compressor.SKIP_COMPRESS_EXTENSIONS, "map")
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(os.getenv("MEDIA_ROOT", str(DATA_DIR / "media")))
# Uploads above this size go to a temporary file, never to memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = envint("FILE_UPLOAD_MAX_MEMORY_SIZE", str(256 * 1024))
DATA_UPLOAD_MAX_MEMORY_SIZE = envint("DATA_UPLOAD_MAX_MEMORY_SIZE", str(2 * 1024 * 1024))
# A submission is one part per photo; a long repeat of photos passes Django's default of 100.
DATA_UPLOAD_MAX_NUMBER_FILES = envint("DATA_UPLOAD_MAX_NUMBER_FILES", "1000")

# OpenRosa submissions. The cap is advertised to clients (X-OpenRosa-Accept-Content-Length),
# which split larger uploads; a proxy in front must allow at least this body size.
OPENROSA_MAX_SUBMISSION_BYTES = envint("OPENROSA_MAX_SUBMISSION_BYTES", "100000000")
# fsync stored submissions and media before answering; off only for throwaway test clusters.
ODK_FORMS_FSYNC = envbool("ODK_FORMS_FSYNC", "true")
# Check published forms with ODK Validate (Java). Off only where Java is missing.
ODK_FORMS_VALIDATE = envbool("ODK_FORMS_VALIDATE", "true")
# Dotted paths of callables `(receipt: odk_forms.receiving.Receipt) -> None` run when a
# submission's files are written and fsynced, before anything parses them: the evidence
# ledger records their hashes there. A hook that raises refuses the submission (a busy
# database: 503, the phone sends again).
ODK_FORMS_RECEIPT_HOOKS: list[str] = ["enforcement.evidence.record_receipt"]
# Dotted paths of callables `(submission, xml: bytes) -> None` run in order, in one
# transaction, when a submission is processed after the phone got its answer
# (odk_forms.processing). Apps that map submissions into their own tables add theirs here.
ODK_FORMS_SUBMISSION_PROCESSORS: list[str] = [
    "observations.records.record_submission",
    # An edit from the phone (deprecatedID) enters the evidence ledger.
    "enforcement.evidence.record_edit",
    # Alerts to law enforcement for matching illicit records (after the records are made).
    "enforcement.alerts.match_submission",
    # After the records, before the next one moves the footprint on: recounts the map's
    # clusters of the area-months the records count in, now and before.
    "maps.clusters.after_submission",
    # After the records: marks the area-months they touch for the indicators update.
    "indicators.incremental.after_submission",
]
# Without a broker, processing runs in a worker thread of the serving process, after the
# answer, as a Celery worker would; off, it runs in the request before the answer (the test
# suite, for determinism).
ODK_FORMS_BACKGROUND_PROCESSING = envbool("ODK_FORMS_BACKGROUND_PROCESSING", "true")
# Seconds a worker holds a submission it processes. A lease that runs out means the worker
# died (or hangs): the submission is handed out again. Longer than any processing run.
ODK_FORMS_PROCESSING_LEASE = envint("ODK_FORMS_PROCESSING_LEASE", "300")
# Seconds between looks for submissions whose lease ran out or that wait unqueued (Celery
# beat runs the sweep; without a broker, the background thread does).
ODK_FORMS_SWEEP_INTERVAL = envint("ODK_FORMS_SWEEP_INTERVAL", "60")
# Leases lost in a row before a submission is marked failed rather than handed out again:
# one that kills its worker every time must not take the workers down for ever.
ODK_FORMS_PROCESSING_MAX_LOST_LEASES = envint("ODK_FORMS_PROCESSING_MAX_LOST_LEASES", "3")
# Dotted paths of callables `(filename, xml: bytes) -> object` run when a form is published;
# raising a fieldkit.errors.Problem refuses the form with its message.
ODK_FORMS_FORM_CHECKS: list[str] = ["observations.form_check.check_form"]
# Media made for the user who downloads them: file name -> dotted path of a callable
# `(form_version, user) -> bytes | None` (None: the stored file). The manifest lists such a
# file with the hash of what that user is served. areas.csv lists only the areas of the
# form where the user may send data.
ODK_FORMS_USER_MEDIA: dict[str, str] = {"areas.csv": "standard_forms.install.areas_media_for"}

# Dotted paths of callables `(events: Sequence[fieldkit.events.Event]) -> None` told, after
# the change committed, of the submissions received, the field records written and the
# cases opened or changed (fieldkit.events.publish, called by those state-changing
# functions). Webhooks make their deliveries there.
FIELDKIT_EVENT_SUBSCRIBERS: list[str] = ["webhooks.delivery.on_events"]
# Webhooks (webhooks/): attempts per delivery before it is marked failed; seconds before the
# second attempt, doubled before each next one (30 s, 1, 2, 4, 8 min by default); seconds
# to wait for the receiver's answer. Eager Celery (no broker) retries at once.
WEBHOOKS_MAX_ATTEMPTS = envint("WEBHOOKS_MAX_ATTEMPTS", "6")
WEBHOOKS_RETRY_BASE = envint("WEBHOOKS_RETRY_BASE", "30")
WEBHOOKS_TIMEOUT = float(os.getenv("WEBHOOKS_TIMEOUT", "5"))
# Off: subscriptions to loopback, link-local and private addresses are refused at sending,
# so that nobody makes the server probe its own network. On for receivers on the same host.
WEBHOOKS_ALLOW_PRIVATE_TARGETS = envbool("WEBHOOKS_ALLOW_PRIVATE_TARGETS", "false")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        # Basic over https only, like the OpenRosa endpoints.
        "accounts.api_auth.HttpsBasicAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticatedOrReadOnly"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # A fieldkit.errors.Problem raised by any endpoint is answered with its code and message.
    "EXCEPTION_HANDLER": "fieldkit.api.exception_handler",
    "PAGE_SIZE": envint("API_PAGE_SIZE", "50"),
}
SPECTACULAR_SETTINGS = {
    "TITLE": "fieldkit API",
    "VERSION": "1",
    # Two models have a `state`: each its own enum in the schema.
    "ENUM_NAME_OVERRIDES": {
        "DeliveryStateEnum": "webhooks.models.DeliveryState",
        "FormStateEnum": "odk_forms.models.FormState",
    },
}

# The Darwin Core Archive (exports/dwca.py): the dataset's metadata in its eml.xml, as GBIF
# shows it. The licence is one of CC0_1_0, CC_BY_4_0, CC_BY_NC_4_0 (the three GBIF accepts).
DWCA_TITLE = os.getenv("DWCA_TITLE", "Ranger patrols and species records")
DWCA_ABSTRACT = os.getenv(
    "DWCA_ABSTRACT",
    "Species seen by rangers on foot, vehicle and boat patrols in protected areas, with the "
    "sampling effort of each patrol day (distance, hours, person-hours). Locations of "
    "sensitive species are generalised.",
)
DWCA_PUBLISHER = os.getenv("DWCA_PUBLISHER", "Protected area agency")
DWCA_CONTACT_NAME = os.getenv("DWCA_CONTACT_NAME", "Data manager")
DWCA_CONTACT_EMAIL = os.getenv("DWCA_CONTACT_EMAIL", "")
DWCA_LICENCE = os.getenv("DWCA_LICENCE", "CC_BY_4_0")
DWCA_LANGUAGE = os.getenv("DWCA_LANGUAGE", "en")
DWCA_COUNTRY_CODE = os.getenv("DWCA_COUNTRY_CODE", "PG")
# Humboldt extension eco:targetTaxonomicScope: what the patrols look out for.
DWCA_TARGET_TAXONOMIC_SCOPE = os.getenv("DWCA_TARGET_TAXONOMIC_SCOPE", "Animalia")

# The OData feed (exports/odata.py): rows per page unless the client asks for fewer
# (Prefer: odata.maxpagesize).
ODATA_PAGE_SIZE = envint("ODATA_PAGE_SIZE", "1000")

LEAFLET_CONFIG = {
    # Leaflet finds its default marker icons from the name of a file in its CSS, which
    # the hashed names of production no longer match: point it at the plain names, which
    # collectstatic keeps beside the hashed ones.
    "FORCE_IMAGE_PATH": f"{STATIC_URL}leaflet/images/",
    "DEFAULT_CENTER": (-6.5, 147.0),
    "DEFAULT_ZOOM": 5,
    "RESET_VIEW": False,
    "TILES": [
        (
            "OpenStreetMap",
            os.getenv("MAP_TILES_URL", "https://tile.openstreetmap.org/{z}/{x}/{y}.png"),
            {"attribution": "&copy; OpenStreetMap contributors", "maxZoom": 19},
        )
    ],
}

# Celery: CELERY_BROKER_URL (redis://...) runs tasks on workers; without it they run eagerly.
CELERY_TASK_ALWAYS_EAGER = not os.getenv("CELERY_BROKER_URL")
# Eager mode never reaches a broker; the in-memory transport keeps kombu from looking for one.
CELERY_BROKER_URL = os.getenv("CELERY_BROKER_URL") or "memory://"
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_RESULT_BACKEND = os.getenv("CELERY_RESULT_BACKEND") or None
# A task is acknowledged when it ends, and put back in the queue if its worker process dies
# under it: a killed worker loses no work. The submission's lease keeps a redelivered task
# from running beside one that is still alive (odk_forms.processing).
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Celery closes the worker's database connection around every task unless told to reuse it:
# a new PostgreSQL backend per submission tripled the database's CPU. Connections are still
# checked before each task (odk_forms.tasks) and dropped when broken or older than their age.
CELERY_DB_REUSE_MAX = envint("CELERY_DB_REUSE_MAX", "1000")
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE = {
    # Submissions whose worker died, or that were never queued (a broker that was down).
    "sweep-submissions": {
        "task": "odk_forms.sweep_submissions",
        "schedule": float(ODK_FORMS_SWEEP_INTERVAL),
    },
    # Alert digests whose interval came round (enforcement.alerts).
    "send-alert-digests": {"task": "enforcement.send_alert_digests", "schedule": 60.0},
    # Dirty area-months a lost update left behind.
    "indicators-update": {
        "task": "indicators.update",
        "schedule": float(envint("INDICATORS_UPDATE_INTERVAL", "60")),
    },
    # Every indicator of every area, one task per area, at 02:30 UTC.
    "indicators-nightly": {
        "task": "indicators.nightly",
        "schedule": crontab(hour=2, minute=30),
    },
    # Files of export jobs past their expiry (exports.jobs.expire_jobs).
    "exports-expire": {"task": "exports.expire_jobs", "schedule": 600.0},
}

# Record exports (exports/): above this many rows an export is written by a worker (an
# export job, listed at /exports/) instead of streamed while the browser waits; a job's
# file is kept this many hours.
EXPORT_STREAM_MAX_ROWS = envint("EXPORT_STREAM_MAX_ROWS", "100000")
EXPORT_JOB_TTL_HOURS = envint("EXPORT_JOB_TTL_HOURS", "48")

# Indicators (indicators.incremental): seconds an update waits after a submission so that a
# burst is computed once; seconds between looks for dirty keys left behind (Celery beat, or
# the background thread without a broker); seconds a worker holds the keys it computes.
INDICATORS_UPDATE_DELAY = envint("INDICATORS_UPDATE_DELAY", "2")
# Off: submissions only mark their area-months dirty, and whoever turned it off runs the update
# (load_demo does, once, at its end); the periodic update picks up what is left.
INDICATORS_UPDATE_AFTER_SUBMISSION = envbool("INDICATORS_UPDATE_AFTER_SUBMISSION", "true")
INDICATORS_UPDATE_INTERVAL = envint("INDICATORS_UPDATE_INTERVAL", "60")
INDICATORS_LEASE = envint("INDICATORS_LEASE", "600")
# Connections an update uses at once on PostgreSQL (indicators.compute.compute_months): 2
# computes the patrol swaths' coverage, species accumulation and METT beside the other
# families, each part in a transaction of its own; 1 computes everything in one.
INDICATORS_UPDATE_CONNECTIONS = envint("INDICATORS_UPDATE_CONNECTIONS", "2")

SILENCED_SYSTEM_CHECKS = [
    # Debian 12 ships GDAL 3.6; Django 5.2 warns below 3.9. Everything we use is supported.
    "gis.W001",
    # "HSTS preload is off": deliberately so by default, see SECURE_HSTS_PRELOAD.
    "security.W021",
]

# Web forms: Enketo Express beside fieldkit (docker-compose.yml runs it under /-/). Without
# ENKETO_URL no web form link appears anywhere. ENKETO_URL is where fieldkit calls Enketo's
# API (inside the compose network, http://enketo:8005/-); ENKETO_PUBLIC_URL is where browsers
# reach it (https://<host>/-, behind the proxy that serves fieldkit too), and replaces
# ENKETO_URL at the start of the links Enketo returns.
ENKETO_URL = os.getenv("ENKETO_URL", "").rstrip("/")
ENKETO_PUBLIC_URL = (os.getenv("ENKETO_PUBLIC_URL") or ENKETO_URL).rstrip("/")
# Enketo's "linked form and data server" API key: sent as the Basic user name.
ENKETO_API_KEY = envsecret("ENKETO_API_KEY")
# Seconds to wait for Enketo: a page showing links must not hang on it.
ENKETO_TIMEOUT = float(os.getenv("ENKETO_TIMEOUT", "5"))

# Reports of server errors (error e-mails, the debug page) hide every cookie and the
# Authorization header: Enketo's sign-in cookie holds a user name and password in clear.
DEFAULT_EXCEPTION_REPORTER_FILTER = "fieldkit.logs.CredentialsReporterFilter"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # Log lines never carry a Cookie or Authorization value (fieldkit.logs).
    "filters": {"no_credentials": {"()": "fieldkit.logs.RedactCredentials"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["no_credentials"]}},
    "root": {"handlers": ["console"], "level": os.getenv("LOG_LEVEL", "INFO")},
    # One line per task is noise in eager mode, where every submission runs one.
    "loggers": {
        # Django's own handlers (an unfiltered console with DEBUG on, error e-mails) are
        # replaced by the root's filtered one.
        "django": {"handlers": [], "level": "INFO"},
        "celery.app.trace": {"level": os.getenv("CELERY_TASK_LOG_LEVEL", "WARNING")},
    },
}
