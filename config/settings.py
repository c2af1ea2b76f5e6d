"""Settings, driven by the environment.

With no environment at all this is the embedded default: SQLite, Celery tasks run
inline, mails printed on the console. Production sets DATABASE_URL, REDIS_URL,
SECRET_KEY, ALLOWED_HOSTS and uses ``config.settings_production`` on top.
"""

from datetime import timedelta
from pathlib import Path

import environ
from csp.constants import NONCE, NONE, SELF

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str(
    "SECRET_KEY", default="dev-only-insecure-key-change-me-in-production-0123456789"
)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")
PRODUCT_NAME = "Accompagnement des cadres"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.sites",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "axes",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.openid_connect",
    "dsfr",
    "widget_tweaks",
    "crispy_forms",
    "import_export",
    "auditlog",
    # Project apps, bottom-up: cadres <- accompagnement <- the four schemes.
    "cadres",
    "accompagnement",
    "coaching",
    "mentorat",
    "codev",
    "immersion",
    # Built on the four schemes: the cadre's file and the cohort programmes.
    "parcours",
    "cohortes",
    # Audit trail and personal-data rights: reads every scheme, so it comes last.
    "rgpd",
]

MIDDLEWARE = [
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
    "allauth.account.middleware.AccountMiddleware",
    "cadres.middleware.StaffMfaRequiredMiddleware",
    # Who did it: the signed-in user (and address, page) on every audit entry.
    "rgpd.middleware.AuditMiddleware",
    # Last, as django-axes asks: turns a locked-out attempt into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
SITE_ID = 1

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "config.context_processors.site",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Authentication (django-allauth) --------------------------------------------
AUTH_USER_MODEL = "cadres.User"
AUTHENTICATION_BACKENDS = [
    # First: refuses any sign-in (password form, admin, API) while locked out.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
LOGIN_URL = "account_login"

# Brute-force protection (django-axes): after AXES_FAILURE_LIMIT failed sign-ins, the
# account is locked, and so is the IP address, each on its own, for the cool-off time.
# allauth would refuse the 6th attempt itself, before axes counts it: axes owns this
# (in the database, shared by every web process).
ACCOUNT_RATE_LIMITS = {"login_failed": None}
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=30))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_USERNAME_CALLABLE = "cadres.security.attempted_username"
AXES_LOCKOUT_TEMPLATE = "account/lockout.html"
AXES_VERBOSE = False
# Attempts during a lockout do not extend it; the backend flags them for the lockout page.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
LOGIN_REDIRECT_URL = "portal:home"
ACCOUNT_LOGOUT_REDIRECT_URL = "account_login"
ACCOUNT_ADAPTER = "cadres.adapters.AccountAdapter"
SOCIALACCOUNT_ADAPTER = "cadres.adapters.SocialAccountAdapter"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_UNIQUE_EMAIL = True
# Accounts are created by invitation only: the invitation proves the mailbox.
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_LOGIN_ON_PASSWORD_RESET = False
ACCOUNT_SESSION_REMEMBER = False
ACCOUNT_EMAIL_SUBJECT_PREFIX = f"[{PRODUCT_NAME}] "
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = PRODUCT_NAME
# Staff (délégués, administrators) must have TOTP before reaching any page.
MFA_REQUIRED_FOR_STAFF = env.bool("MFA_REQUIRED_FOR_STAFF", default=True)
PASSWORD_RESET_TIMEOUT = 7 * 24 * 3600  # invitation links last a week
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# ProConnect (OpenID Connect federation of the State's agents): off unless configured.
PROCONNECT_CLIENT_ID = env.str("PROCONNECT_CLIENT_ID", default="")
PROCONNECT_SECRET = env.str("PROCONNECT_SECRET", default="")
PROCONNECT_SERVER_URL = env.str(
    "PROCONNECT_SERVER_URL", default="https://auth.agentconnect.gouv.fr/api/v2"
)
SOCIALACCOUNT_ONLY = False
SOCIALACCOUNT_PROVIDERS = {"openid_connect": {"APPS": [], "OAUTH_PKCE_ENABLED": True}}
if PROCONNECT_CLIENT_ID:
    SOCIALACCOUNT_PROVIDERS["openid_connect"]["APPS"].append(
        {
            "provider_id": "proconnect",
            "name": "ProConnect",
            "client_id": PROCONNECT_CLIENT_ID,
            "secret": PROCONNECT_SECRET,
            "settings": {
                "server_url": PROCONNECT_SERVER_URL,
                "scope": ["openid", "email", "given_name", "usual_name", "siret", "idp_id"],
                "token_auth_method": "client_secret_post",
            },
        }
    )

# --- Internationalisation -------------------------------------------------------
LANGUAGE_CODE = "fr-fr"
LANGUAGES = [("fr", "Français")]
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True

# --- Static and media -----------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "media")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# --- Forms ----------------------------------------------------------------------
CRISPY_ALLOWED_TEMPLATE_PACKS = ("crispy_dsfr",)
CRISPY_TEMPLATE_PACK = "crispy_dsfr"
FORM_RENDERER = "django.forms.renderers.DjangoTemplates"

# --- Mail -----------------------------------------------------------------------
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str(
    "DEFAULT_FROM_EMAIL", default=f"{PRODUCT_NAME} <ne-pas-repondre@localhost>"
)
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# SMTP connections the outbox sends over at once: a relay answers each message in
# milliseconds to tens of milliseconds, during which the next ones are rendered.
OUTBOX_SMTP_CONNECTIONS = env.int("OUTBOX_SMTP_CONNECTIONS", default=4)

# --- Celery ---------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True  # a task whose worker dies is delivered again
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Web requests must not hang when Redis is down: fail fast, the sweep catches up.
CELERY_BROKER_TRANSPORT_OPTIONS = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2}
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE = {
    "send-pending-invitations": {
        "task": "cadres.tasks.send_pending_invitations",
        "schedule": 300.0,
    },
    "send-due-notifications": {
        "task": "accompagnement.tasks.send_due_notifications",
        "schedule": 60.0,
    },
    "prepare-pending-conventions": {
        "task": "immersion.tasks.prepare_pending_conventions",
        "schedule": 60.0,
    },
    "remind-silent-mentoring": {
        "task": "mentorat.tasks.remind_silent_relations",
        "schedule": 6 * 3600.0,
    },
    "send-mentoring-health-checks": {
        "task": "mentorat.tasks.send_health_checks",
        "schedule": 6 * 3600.0,
    },
    "remind-expiring-accreditations": {
        "task": "coaching.tasks.remind_expiring_accreditations",
        "schedule": 6 * 3600.0,
    },
    "requeue-stalled-imports": {
        "task": "cadres.tasks.requeue_stalled_imports",
        "schedule": 60.0,
    },
    "rgpd-retention": {
        "task": "rgpd.tasks.apply_retention",
        "schedule": 24 * 3600.0,
    },
    "close-finished-cohorts": {
        "task": "cohortes.tasks.close_finished",
        "schedule": 6 * 3600.0,
    },
}

# Weights of the mentoring matching score (see mentorat/matching.py): points per
# criterion; "accompagnement" must stay above the sum of the others.
MENTORAT_MATCHING_WEIGHTS = {
    "accompagnement": env.int("MENTORAT_POIDS_ACCOMPAGNEMENT", default=100),
    "expertise": env.int("MENTORAT_POIDS_EXPERTISE", default=10),
    "expertise_max": env.int("MENTORAT_EXPERTISE_MAX", default=3),
    "experience": env.int("MENTORAT_POIDS_EXPERIENCE", default=1),
    "experience_max": env.int("MENTORAT_EXPERIENCE_MAX", default=10),
    "souhait": env.int("MENTORAT_POIDS_SOUHAIT", default=15),
    "meme_ville": env.int("MENTORAT_POIDS_MEME_VILLE", default=5),
}

# --- Co-development ------------------------------------------------------------
# Minutes of each step of a 2-hour séance (opening round, then the six phases): the
# timings a new group starts with, which its animateur or a délégué may change.
CODEV_PHASE_MINUTES = {
    "ouverture": 10,
    "expose": 10,
    "clarification": 15,
    "contrat": 5,
    "exploration": 40,
    "synthese": 20,
    "apprentissage": 20,
}

# --- Reminders ------------------------------------------------------------------
# Session reminders, in days before the start (default: a week and a day before).
SESSION_REMINDERS = {
    f"j{days}": timedelta(days=days)
    for days in env.list("SESSION_REMINDER_DAYS", cast=int, default=[7, 1])
}

# --- Cache ----------------------------------------------------------------------
if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Security -------------------------------------------------------------------
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=8 * 3600)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        # DSFR components set a few inline styles; no inline script is allowed.
        "style-src": [SELF, "'unsafe-inline'"],
        "img-src": [SELF, "data:"],
        "font-src": [SELF, "data:"],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
        "base-uri": [SELF],
        "object-src": [NONE],
    }
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        # One line per failed sign-in is enough (axes logs each step at INFO).
        "axes": {"level": "WARNING"},
    },
}

# --- Imports of cadres and structures (cadres/importing.py) ---------------------
IMPORT_MAX_UPLOAD_SIZE = env.int("IMPORT_MAX_UPLOAD_SIZE", default=10 * 1024 * 1024)

# --- Exports (django-import-export) ---------------------------------------------
from import_export.formats import base_formats as _formats  # noqa: E402

IMPORT_EXPORT_FORMATS = [_formats.CSV, _formats.XLSX]
IMPORT_EXPORT_SKIP_ADMIN_LOG = False

# --- Audit trail and personal data (rgpd/) ----------------------------------------
# django-auditlog writes its entries into rgpd.Trace, which also links each entry to
# the cadre it concerns (perimeter of the délégués who may read it).
AUDITLOG_LOGENTRY_MODEL = "rgpd.Trace"
# Programmes closed for longer than this are anonymised by the retention task
# (référentiel CNIL « gestion du personnel »: 5 years after the end of the relation).
RGPD_RETENTION_YEARS = env.int("RGPD_RETENTION_YEARS", default=5)
# Address of the data protection officer (DPD), shown on the personal-data page.
RGPD_DPO_EMAIL = env.str("RGPD_DPO_EMAIL", default="")
