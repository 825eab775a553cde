"""Settings for Dilemmagesprek.

One module, configured by environment variables only. Every default runs locally on the
embedded stack (SQLite in the data directory, the in-memory channel layer); see
docs/configuration.md for every variable.
"""

import os
import secrets
from pathlib import Path

import dj_database_url
from csp.constants import NONCE

BASE_DIR = Path(__file__).resolve().parent


def envbool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")


def envint(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


def envlist(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def envsecret(name: str) -> str | None:
    """The value of NAME, or the contents of the file named by NAME_FILE."""
    path = os.environ.get(f"{name}_FILE")
    if path:
        return Path(path).read_text().strip()
    return os.environ.get(name) or None


DATA_DIR = Path(os.environ.get("DILEMMAGESPREK_DATA_DIR", Path.cwd() / "data")).resolve()


def _data_dir_secret_key() -> str:
    """Generate the secret key into the data directory on first run, so none is ever committed."""
    # Only the service's own user may read the database and the key.
    DATA_DIR.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = DATA_DIR / "secret_key"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(50))
    return path.read_text().strip()


DEBUG = envbool("DEBUG", False)
SECRET_KEY = envsecret("SECRET_KEY") or _data_dir_secret_key()
ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1],testserver")
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS")
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "dilemmagesprek.accounts",
    "dilemmagesprek.methods",
    "dilemmagesprek.conversations",
    "dilemmagesprek.preparations",
    "dilemmagesprek.worksheets",
    "dilemmagesprek.reports",
    "dilemmagesprek.realtime",
    "dilemmagesprek.throttle",
    "dilemmagesprek.audit",
    "dilemmagesprek.ops",
]

MIDDLEWARE = [
    "dilemmagesprek.ops.request_log.RequestLogMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "dilemmagesprek.lib.middleware.SessionLifetimeMiddleware",
    "dilemmagesprek.accounts.two_factor.RequireTwoFactorMiddleware",
    "dilemmagesprek.accounts.middleware.LanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "dilemmagesprek.lib.middleware.SecurityHeadersMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "dilemmagesprek.urls"
ASGI_APPLICATION = "dilemmagesprek.asgi.application"
WSGI_APPLICATION = None

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "csp.context_processors.nonce",
                "dilemmagesprek.lib.context_processors.csp_nonce",
            ],
        },
    }
]

# Database: SQLite in the data directory unless DATABASE_URL says otherwise.
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{DATA_DIR / 'dilemmagesprek.sqlite3'}",
        conn_max_age=envint("DATABASE_CONN_MAX_AGE", 0),
    )
}
SQLITE_OPTIONS = {
    # IMMEDIATE takes the write lock at BEGIN, so concurrent writers queue on busy_timeout
    # instead of failing with "database is locked" when they upgrade a read transaction.
    "transaction_mode": "IMMEDIATE",
    "timeout": 20,
    # A serving process copies the WAL back into the database in a thread of its own
    # (ops/checkpoints.py); a commit does it only past 10,000 pages, as a safety net.
    "init_command": (
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA wal_autocheckpoint=10000;"
    ),
}
_postgres = DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = SQLITE_OPTIONS
if _postgres and envbool("DATABASE_PREPARED_STATEMENTS", True):
    # Parameters sent apart from the statement let psycopg prepare what a connection runs
    # over and over (a live save's statements, on the sockets' one connection), so
    # PostgreSQL stops parsing and planning them each time: in process a save after a pause
    # took 2.67 instead of 3.12 ms (docs/performance.md, twelfth round). A pooler in
    # transaction mode may not keep prepared statements (docs/configuration.md); 0 gives
    # Django's default, parameters merged into the text.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        server_side_binding=True, prepare_threshold=5
    )
if _postgres and envint("DATABASE_POOL_SIZE", 0) > 0:
    # A bounded pool per process (opt-in): every request runs in a thread of its own under
    # ASGI, so without one each request opens a connection and busy moments run PostgreSQL
    # out of them ("too many clients"). A request that finds the pool empty waits for a
    # connection. Not the default: after a database outage the pool's reconnect back-off
    # made recovery take about 6 s instead of under 5 (docs/configuration.md).
    # Health checks test a pooled connection before use, so one broken by a database restart
    # is replaced instead of failing the request that drew it.
    DATABASES["default"]["CONN_MAX_AGE"] = 0  # the pool keeps connections, not Django
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": 2,
        "max_size": envint("DATABASE_POOL_SIZE", 0),
        "timeout": envint("DATABASE_POOL_TIMEOUT", 10),
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = os.environ.get("REDIS_URL", "")
# Number of server processes; the realtime system check refuses several without Redis.
WORKERS = envint("WORKERS", 1)
# HTTP requests one process works on at once (0: no bound), and how many more may wait for a
# turn before the next is answered 503 at once (ops/inflight.py, docs/configuration.md).
REQUESTS_IN_FLIGHT = envint("REQUESTS_IN_FLIGHT", 4)
REQUESTS_WAITING = envint("REQUESTS_WAITING", 200)
# Every open socket is pinged this often, and closed when its pong is this late: a laptop
# that was shut or a phone that lost its network leaves no closing handshake, and only this
# takes it off the list of who is here (uvicorn's own default, 20 s).
WS_PING_SECONDS = envint("WS_PING_SECONDS", 20)
# Live updates do not use a Channels layer: each process fans events out to its own sockets,
# and with REDIS_URL set the processes share events over one Redis pub/sub channel
# (dilemmagesprek/realtime/delivery.py; docs/performance.md says why).
CHANNEL_LAYERS: dict = {}

AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "dg:login"
LOGIN_REDIRECT_URL = "dg:home"
LOGOUT_REDIRECT_URL = "dg:login"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Language: Dutch first. Source strings are English; locale/nl holds the Dutch texts.
LANGUAGE_CODE = "nl"
LANGUAGES = [("nl", "Nederlands"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = os.environ.get("TIME_ZONE", "Europe/Amsterdam")
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise warns on every start without it
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "dilemmagesprek.lib.storage.StaticStorage"},
}
# Without a collected manifest (development, tests) whitenoise serves from the finders.
WHITENOISE_USE_FINDERS = True

# HTTPS: one switch turns on every transport protection.
HTTPS = envbool("HTTPS", False)
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_SSL_REDIRECT = HTTPS and envbool("SECURE_SSL_REDIRECT", True)
SECURE_HSTS_SECONDS = 31536000 if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS and envbool("HSTS_INCLUDE_SUBDOMAINS", True)
# Preloading binds the whole domain for years; only its owner can decide that, so it is off
# by default and its deploy-check warning is silenced (docs/security.md says why).
SECURE_HSTS_PRELOAD = HTTPS and envbool("HSTS_PRELOAD", False)
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if HTTPS else None
SESSION_COOKIE_NAME = "__Host-sessionid" if HTTPS else "dg_sessionid"
CSRF_COOKIE_NAME = "__Host-csrftoken" if HTTPS else "dg_csrftoken"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Strict"
# Sessions end after SESSION_IDLE_SECONDS without a request, and after
# SESSION_ABSOLUTE_SECONDS in any case (lib/middleware.py).
SESSION_COOKIE_AGE = envint("SESSION_IDLE_SECONDS", 30 * 60)
# The idle timeout is renewed at most once a minute (SessionLifetimeMiddleware), not on every
# request: saving the session was one more database write for every save and page fetch.
SESSION_SAVE_EVERY_REQUEST = False
SESSION_RENEW_SECONDS = 60
SESSION_ABSOLUTE_SECONDS = envint("SESSION_ABSOLUTE_SECONDS", 12 * 3600)
# "same-origin", not "no-referrer": with no-referrer browsers send `Origin: null` on form
# posts, which Django's CSRF check rightly refuses. Nothing leaks to other sites either way.
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'none'"],
        "script-src": ["'self'", NONCE],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'none'"],
    },
}

# /metrics: with a token, only requests that carry it; without, only from this machine.
METRICS_TOKEN = envsecret("METRICS_TOKEN") or ""

# /.well-known/security.txt (RFC 9116). Set these per deployment; a system check warns in
# production while they are the defaults.
SECURITY_CONTACTS = envlist("SECURITY_CONTACTS", "mailto:security@example.invalid")
# Empty: half a year from today, so the file never goes stale on a running site.
SECURITY_TXT_EXPIRES = os.environ.get("SECURITY_TXT_EXPIRES", "")
SECURITY_POLICY_URL = os.environ.get("SECURITY_POLICY_URL", "")

# Logs never hold conversation content, names, tokens or codes: requests are logged by route
# name (ops/request_log.py), and Django's own 4xx warnings, which print paths, are off.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "text": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {"()": "dilemmagesprek.lib.logformat.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json" if os.environ.get("LOG_FORMAT") == "json" else "text",
        }
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.request": {"level": "ERROR"}, "django.server": {"level": "ERROR"}},
}

# Retention: days a conversation is kept after it closes. The facilitator chooses within
# [RETENTION_MIN_DAYS, RETENTION_MAX_DAYS]; `dilemmagesprek purge` deletes what expired.
RETENTION_DEFAULT_DAYS = envint("RETENTION_DEFAULT_DAYS", 90)
RETENTION_MIN_DAYS = envint("RETENTION_MIN_DAYS", 1)
RETENTION_MAX_DAYS = envint("RETENTION_MAX_DAYS", 365)

# Limits that protect every form; the method file sets per-field limits below these.
MAX_TEXT_LENGTH = 10_000
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
