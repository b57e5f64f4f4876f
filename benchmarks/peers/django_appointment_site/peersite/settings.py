"""Settings of the throwaway Django site that serves django-appointment for the side-by-side
benchmark (``benchmarks/peers/django_appointment.py``). Close to ``django-admin startproject``'s
defaults plus what the package's README asks for, with ``DEBUG`` off as in production.

Read from the environment (the benchmark sets them):

* ``PEER_DB``: path of the SQLite file;
* ``PEER_TZ``: ``TIME_ZONE``, an IANA zone; the package keeps wall-clock times in this one zone;
* ``PEER_MIGRATIONS``: the importable module the package's migrations are generated into.
"""
import os

SECRET_KEY = "benchmark-only-not-a-secret"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "appointment",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "peersite.urls"
WSGI_APPLICATION = "peersite.wsgi.application"

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
            ],
        },
    },
]

DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": os.environ.get("PEER_DB", "peer.sqlite3")}}

# The wheel ships no migrations (its README says to run `makemigrations appointment`): they are
# generated into a scratch module so that site-packages stays untouched.
MIGRATION_MODULES = {"appointment": os.environ.get("PEER_MIGRATIONS", "peer_migrations")}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

LANGUAGE_CODE = "en-us"
TIME_ZONE = os.environ.get("PEER_TZ", "UTC")
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"

APPOINTMENT_WEBSITE_NAME = "Peer Comparison Clinic"
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
