"""Settings, all from the environment.

Embedded default (nothing set): SQLite file, in-memory channel layer, immediate tasks, DEBUG on.
Production: DATABASE_URL (PostgreSQL), REDIS_URL, SECRET_KEY, DEBUG=0, ALLOWED_HOSTS,
CSRF_TRUSTED_ORIGINS, TASK_BACKEND=database (run `manage.py db_worker` beside the servers).
"""

import os
from pathlib import Path

import dj_database_url
from django.utils.csp import CSP  # type: ignore[import-untyped,unused-ignore]

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if value is None:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


DEBUG = env_bool("DEBUG", True)
SECRET_KEY = os.environ.get("SECRET_KEY") or (
    "django-insecure-embedded-default-only-for-local-use" if DEBUG else ""
)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI served from our own static files, no CDN
    "oauth2_provider",
    "channels",
    "django_tasks_db",
    "channels_app",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "channels_app.api.middleware.ServiceUnavailableMiddleware",  # outages: 503, not 500
]

ROOT_URLCONF = "chatkitty_site.urls"
ASGI_APPLICATION = "chatkitty_site.asgi.application"
WSGI_APPLICATION = None

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
                "django.template.context_processors.csp",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=env_int("DB_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Several threads (sync_to_async) and processes share the file: wait rather than fail.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
else:
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"].setdefault("connect_timeout", 5)
    if env_bool("DB_POOL", True):
        # Under ASGI every request runs its sync code in a fresh thread, so CONN_MAX_AGE cannot
        # keep connections: without a pool each request opened one (~10% of a request's CPU
        # in a profile, and "too many clients" 500s at 16 concurrent clients; docs/bench.md).
        DATABASES["default"]["CONN_MAX_AGE"] = 0
        DATABASES["default"]["OPTIONS"]["pool"] = {
            "min_size": env_int("DB_POOL_MIN_SIZE", 2),
            "max_size": env_int("DB_POOL_MAX_SIZE", 20),
            # While PostgreSQL is down or restarting, a request waits this long for a connection,
            # then answers 503: keep it under clients' timeouts and the websocket handshake's
            # 10 s. Failed reconnects back off exponentially, for at most `reconnect_timeout`
            # before a waiting request starts afresh: bounds recovery after a long outage.
            # (tests/reliability/test_faults.py; docs/reliability-faults.md)
            "timeout": env_int("DB_POOL_TIMEOUT", 3),
            "reconnect_timeout": env_int("DB_POOL_RECONNECT_TIMEOUT", 5),
        }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = os.environ.get("REDIS_URL", "")
CHANNEL_LAYER_PREFIX = os.environ.get("CHANNEL_LAYER_PREFIX", "chatkitty")
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {
                # redis-py 8 defaults (5 s socket timeout, pool of 100) drop idle consumers
                # and refuse connection bursts: see ARCHITECTURE.md "Measured on this stack".
                "hosts": [
                    {
                        "address": REDIS_URL,
                        "socket_timeout": None,
                        "socket_connect_timeout": 5,
                        "max_connections": 10_000,
                    }
                ],
                "prefix": CHANNEL_LAYER_PREFIX,
                "capacity": 10_000,
            },
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

CACHES = {
    "default": (
        {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": CHANNEL_LAYER_PREFIX,
        }
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

TASK_BACKEND = os.environ.get("TASK_BACKEND", "immediate")
TASKS = {
    "default": {
        "BACKEND": (
            "django_tasks_db.DatabaseBackend"
            if TASK_BACKEND == "database"
            else "django.tasks.backends.immediate.ImmediateBackend"
        ),
    }
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]
LOGIN_URL = "web:login"
LOGIN_REDIRECT_URL = "web:channel-list"
LOGOUT_REDIRECT_URL = "web:login"
# The application whose people sign in to the web chat pages (unset: the first application).
WEB_APPLICATION_ID = env_int("WEB_APPLICATION_ID", 0) or None

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
# The ASGI process serves static/ itself (WhiteNoise with finders); STATIC_ROOT only matters if
# you choose to run collectstatic for a CDN or another server.
STATIC_ROOT = os.environ.get("STATIC_ROOT") or None

# Limits (documented in the README).
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("MAX_REQUEST_BODY_BYTES", 1024 * 1024)
CHAT_MAX_MESSAGE_BODY_CHARS = env_int("CHAT_MAX_MESSAGE_BODY_CHARS", 10_000)
CHAT_MAX_PROPERTIES_BYTES = env_int("CHAT_MAX_PROPERTIES_BYTES", 64 * 1024)
CHAT_MAX_PAGE_SIZE = 100
CHAT_WS_MAX_FRAME_BYTES = env_int("CHAT_WS_MAX_FRAME_BYTES", 64 * 1024)
CHAT_USER_TOKEN_TTL_SECONDS = env_int("CHAT_USER_TOKEN_TTL_SECONDS", 24 * 3600)
CHAT_SESSION_STALE_SECONDS = env_int("CHAT_SESSION_STALE_SECONDS", 90)
# Presence changes go to channels of at most this many members (0: every channel). Each change
# reaches every connected member, so N members connecting at once cost N² frames without a cap.
CHAT_PRESENCE_MAX_MEMBERS = env_int("CHAT_PRESENCE_MAX_MEMBERS", 500)
# Rate limits, "<count>/<seconds>" ("0/1" disables one); see channels_app/ratelimit.py.
CHAT_RATE_LIMITS = {
    "send_user": os.environ.get("CHAT_RATE_SEND_PER_USER", "20/1"),
    "send_application": os.environ.get("CHAT_RATE_SEND_PER_APPLICATION", "2000/1"),
    "connect_user": os.environ.get("CHAT_RATE_CONNECT_PER_USER", "30/60"),
    "connect_application": os.environ.get("CHAT_RATE_CONNECT_PER_APPLICATION", "3000/60"),
}
CHAT_DEFAULT_AVATAR_URL = os.environ.get(
    "CHAT_DEFAULT_AVATAR_URL", "https://api.chatkitty.com/v1/picture/default"
)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["channels_app.api.authentication.BearerAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["channels_app.api.permissions.IsAuthenticatedActor"],
    "DEFAULT_RENDERER_CLASSES": ["channels_app.api.renderers.ApiJSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "channels_app.api.parsers.StrictJSONParser",
        "channels_app.api.parsers.MergePatchParser",
        "channels_app.api.parsers.MergePatchStandardParser",
    ],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "channels_app.api.errors.api_exception_handler",
    "UNAUTHENTICATED_USER": None,
    "DEFAULT_VERSIONING_CLASS": None,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "ChatKitty-compatible Platform API",
    "DESCRIPTION": "Self-hosted, wire-compatible implementation of ChatKitty's Platform API v1.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": "/v1",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # What the API answers on the wire: int64 path ids, ApiError statuses, 200-only successes.
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "channels_app.api.openapi.document_check_user_exists",
        "channels_app.api.openapi.document_page_parameters",
        "channels_app.api.schema.describe_wire",
    ],
    "ENUM_NAME_OVERRIDES": {
        "ChannelTypeEnum": ["DIRECT", "PUBLIC", "PRIVATE"],
        "MessageTypeEnum": ["TEXT", "FILE", "SYSTEM_TEXT", "SYSTEM_FILE"],
        "ReplyThreadTypeEnum": ["MAIN", "STANDALONE", "MESSAGE"],
        "ChatUserTypeEnum": ["PERSON", "BOT"],
        "CreateMessageTypeEnum": ["TEXT", "FILE"],
        "GuestUsersEnum": ["DISABLED", "ENABLED"],
    },
}

OAUTH2_PROVIDER = {
    "ACCESS_TOKEN_EXPIRE_SECONDS": env_int("OAUTH_ACCESS_TOKEN_EXPIRE_SECONDS", 3600),
    "SCOPES": {"application": "Act as the application"},
    "DEFAULT_SCOPES": ["application"],
    # Only client credentials are used; adopt every RFC 9700 (OAuth 2.0 Security BCP) behaviour.
    "COMPLIANT_BCP_RFC9700_IMPLICIT_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PASSWORD_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,
    "COMPLIANT_BCP_RFC9700_ACCESS_TOKEN_TRANSPORT": True,
    "COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS": True,
    "COMPLIANT_BCP_RFC9700_TOKEN_STORAGE": True,
    "COMPLIANT_BCP_RFC9700_REFRESH_TOKEN": True,
    "COMPLIANT_BCP_RFC9700_REDIRECT_URI_SCHEME": True,
    "REFRESH_TOKEN_REUSE_PROTECTION": True,
    "ALLOWED_REDIRECT_URI_SCHEMES": ["https"],
}

# Django's own Content-Security-Policy: no inline script anywhere.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:", "https:"],
    "connect-src": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
    "base-uri": [CSP.SELF],
}

if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31_536_000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_CONTENT_TYPE_NOSNIFF = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
    # django.tasks logs every task's start and end at INFO: one line per message sent.
    "loggers": {"django.tasks": {"level": os.environ.get("TASKS_LOG_LEVEL", "WARNING")}},
}

# Static files are served by the ASGI process itself (WhiteNoise), straight from static/.
WHITENOISE_USE_FINDERS = True

OAUTH2_PROVIDER_APPLICATION_MODEL = "oauth2_provider.Application"
OAUTH2_PROVIDER_ACCESS_TOKEN_MODEL = "oauth2_provider.AccessToken"
OAUTH2_PROVIDER_REFRESH_TOKEN_MODEL = "oauth2_provider.RefreshToken"
OAUTH2_PROVIDER_ID_TOKEN_MODEL = "oauth2_provider.IDToken"
OAUTH2_PROVIDER_GRANT_MODEL = "oauth2_provider.Grant"
