"""The deployment description (docker-compose.yml) stays consistent with the code and the README.

Pure file checks: no database, no Django request.
"""

from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
WSGI_ENTRY_POINT = "config.wsgi:application"
PRODUCTION_SETTINGS = "config.settings_production"
APP_SERVICES = ("web", "worker", "beat", "migrate")


@pytest.fixture(scope="module")
def compose():
    with (ROOT / "docker-compose.yml").open(encoding="utf-8") as fh:
        return yaml.safe_load(fh)


@pytest.fixture(scope="module")
def services(compose):
    return compose["services"]


def command_of(service):
    command = service.get("command", "")
    return " ".join(command) if isinstance(command, list) else command


def environment_of(service):
    environment = service.get("environment", {})
    if isinstance(environment, list):  # ["KEY=value", ...] form
        return dict(item.split("=", 1) for item in environment)
    return environment


def test_all_services_are_declared(services):
    expected = {"db", "redis", "web", "worker", "beat", "mailcatcher", "migrate"}
    assert expected <= set(services)


@pytest.mark.parametrize("name", ["db", "redis", "web", "mailcatcher"])
def test_long_running_services_have_a_healthcheck(services, name):
    healthcheck = services[name].get("healthcheck")
    assert healthcheck, f"{name} has no healthcheck"
    assert not healthcheck.get("disable", False)
    assert healthcheck.get("test"), f"{name}'s healthcheck has no test"


def test_web_runs_gunicorn_on_the_wsgi_application(services):
    assert f"gunicorn {WSGI_ENTRY_POINT}" in command_of(services["web"])
    wsgi = (ROOT / "config" / "wsgi.py").read_text(encoding="utf-8")
    assert "application = " in wsgi


def test_readme_documents_the_same_entry_point(services):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert WSGI_ENTRY_POINT in command_of(services["web"])
    assert WSGI_ENTRY_POINT in readme


def test_web_healthcheck_hits_the_health_page(services):
    test = services["web"]["healthcheck"]["test"]
    assert "/sante/" in (" ".join(test) if isinstance(test, list) else test)


def test_celery_worker_and_beat(services):
    assert command_of(services["worker"]).startswith("celery -A config worker")
    assert command_of(services["beat"]).startswith("celery -A config beat")


def test_web_waits_for_healthy_db_and_redis(services):
    depends_on = services["web"]["depends_on"]
    assert isinstance(depends_on, dict), "web must use the long depends_on form with conditions"
    for dependency in ("db", "redis"):
        assert depends_on[dependency]["condition"] == "service_healthy"


def test_web_waits_for_migrations(services):
    migrate = services["migrate"]
    assert "migrate --noinput" in command_of(migrate)
    assert migrate.get("restart", "no") == "no"
    condition = services["web"]["depends_on"]["migrate"]["condition"]
    assert condition == "service_completed_successfully"


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_services_use_the_production_settings(services, name):
    environment = environment_of(services[name])
    assert environment["DJANGO_SETTINGS_MODULE"] == PRODUCTION_SETTINGS
    assert (ROOT / "config" / "settings_production.py").is_file()


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_services_reach_db_redis_and_mail(services, name):
    environment = environment_of(services[name])
    assert "@db:5432/" in environment["DATABASE_URL"]
    assert environment["REDIS_URL"].startswith("redis://redis:6379/")
    assert environment["EMAIL_URL"] == "smtp://mailcatcher:1025"
    assert environment["SECRET_KEY"].startswith("${SECRET_KEY:?")
