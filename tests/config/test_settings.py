"""Settings come from the environment; the production profile passes check --deploy."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run_python(code, **env):
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    for key in ["DATABASE_URL", "REDIS_URL", "CELERY_TASK_ALWAYS_EAGER", "DEBUG"]:
        full_env.pop(key, None)
    full_env.update(env)
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=full_env, capture_output=True, text=True
    )


def test_check_deploy_with_production_settings_prints_no_warning():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env={
            **{k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"},
            "DJANGO_SETTINGS_MODULE": "config.settings_production",
            "SECRET_KEY": "x7Kp2Qw9Lm4Zr8Tn1Vb6Yc3Hd5Jf0Gs7Ua2Xe9Wi4Oq8Pl1Mk6Nj3Bh5Cg0Df",
            "ALLOWED_HOSTS": "accompagnement.example.gouv.fr",
        },
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues (0 silenced)" in result.stdout
    assert "WARNING" not in result.stderr


def test_production_settings_refuse_to_start_without_a_secret_key():
    result = run_python(
        "import django; django.setup()",
        DJANGO_SETTINGS_MODULE="config.settings_production",
        ALLOWED_HOSTS="x.gouv.fr",
    )
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


PRINT = (
    "import django; django.setup(); from django.conf import settings as s; "
    "print(s.DATABASES['default']['ENGINE'], s.CELERY_TASK_ALWAYS_EAGER, s.CELERY_BROKER_URL, "
    "s.LANGUAGE_CODE, s.TIME_ZONE, s.DEBUG, s.EMAIL_BACKEND, s.ALLOWED_HOSTS)"
)


def test_embedded_default_is_sqlite_with_inline_tasks():
    result = run_python(PRINT, DJANGO_SETTINGS_MODULE="config.settings")
    assert result.returncode == 0, result.stderr
    engine, eager, broker, lang, tz, debug, backend, *_ = result.stdout.split()
    assert engine == "django.db.backends.sqlite3"
    assert eager == "True"
    assert broker == "memory://"
    assert (lang, tz, debug) == ("fr-fr", "Europe/Paris", "False")
    assert backend == "django.core.mail.backends.console.EmailBackend"


@pytest.mark.parametrize("eager_env, expected", [(None, "False"), ("true", "True")])
def test_environment_selects_postgres_redis_and_mail(eager_env, expected):
    env = {
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": "postgres://u@db.example:5432/prod",
        "REDIS_URL": "redis://cache.example:6379/0",
        "EMAIL_URL": "smtp://mail.example:1025",
        "ALLOWED_HOSTS": "a.gouv.fr,b.gouv.fr",
        "DEBUG": "true",
    }
    if eager_env:
        env["CELERY_TASK_ALWAYS_EAGER"] = eager_env
    result = run_python(PRINT, **env)
    assert result.returncode == 0, result.stderr
    engine, eager, broker, _, _, debug, backend, hosts = result.stdout.split(maxsplit=7)
    assert engine == "django.db.backends.postgresql"
    assert eager == expected
    assert broker == "redis://cache.example:6379/0"
    assert debug == "True"
    assert backend == "django.core.mail.backends.smtp.EmailBackend"
    assert "b.gouv.fr" in hosts
