"""Brute-force protection (django-axes): repeated failed sign-ins lock the account and
the IP address for the cool-off time, with a French page; a success resets the count."""

import uuid

import pytest
from axes.models import AccessAttempt
from django.contrib.auth import SESSION_KEY

from tests.factories import PASSWORD, make_cadre_user

pytestmark = pytest.mark.django_db

LOGIN = "/compte/login/"


@pytest.fixture(autouse=True)
def _fresh_rate_limits(settings):
    """allauth's own per-IP rate limit on the sign-in page lives in the cache, which
    outlives a test: each test gets an empty cache of its own (not ``cache.clear()``,
    which empties the broker's Redis database too)."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": f"lockout-{uuid.uuid4()}",  # locmem caches of one name share data
        }
    }


def sign_in(client, email, password, ip="192.0.2.10"):
    return client.post(LOGIN, {"login": email, "password": password}, REMOTE_ADDR=ip)


def fail(client, email, times, ip="192.0.2.10"):
    for _ in range(times):
        response = sign_in(client, email, "mauvais-mot-de-passe", ip)
        assert response.status_code in (200, 429)


def test_the_account_is_locked_after_five_failures_even_with_the_right_password(client, settings):
    cadre = make_cadre_user()
    fail(client, cadre.user.email, settings.AXES_FAILURE_LIMIT)
    response = sign_in(client, cadre.user.email, PASSWORD)
    assert response.status_code == 429
    assert "Connexion temporairement bloquée" in response.content.decode()
    assert SESSION_KEY not in client.session


def test_four_failures_then_success_resets_the_count(client, settings):
    cadre = make_cadre_user()
    fail(client, cadre.user.email, settings.AXES_FAILURE_LIMIT - 1)
    response = sign_in(client, cadre.user.email, PASSWORD)
    assert response.status_code == 302
    assert str(client.session[SESSION_KEY]) == str(cadre.user.pk)
    client.logout()
    # The count starts again: four more failures do not lock.
    fail(client, cadre.user.email, settings.AXES_FAILURE_LIMIT - 1)
    assert sign_in(client, cadre.user.email, PASSWORD).status_code == 302


def test_the_account_stays_locked_from_another_address(client, settings):
    cadre = make_cadre_user()
    fail(client, cadre.user.email, settings.AXES_FAILURE_LIMIT, ip="192.0.2.10")
    assert sign_in(client, cadre.user.email, PASSWORD, ip="198.51.100.7").status_code == 429


def test_the_address_is_locked_for_every_account(client, settings):
    """Spraying one password over many accounts from one address is stopped too."""
    victims = [make_cadre_user() for _ in range(settings.AXES_FAILURE_LIMIT)]
    for victim in victims:
        fail(client, victim.user.email, 1, ip="203.0.113.5")
    other = make_cadre_user()
    assert sign_in(client, other.user.email, PASSWORD, ip="203.0.113.5").status_code == 429
    # Another address is not concerned.
    assert sign_in(client, other.user.email, PASSWORD, ip="198.51.100.7").status_code == 302


def test_the_email_is_counted_whatever_its_case(client, settings):
    cadre = make_cadre_user()
    fail(client, cadre.user.email.upper(), settings.AXES_FAILURE_LIMIT)
    assert sign_in(client, cadre.user.email, PASSWORD, ip="198.51.100.7").status_code == 429
    assert AccessAttempt.objects.filter(username=cadre.user.email.lower()).exists()


def test_an_administrator_can_lift_the_lock(client, settings):
    from axes.utils import reset

    cadre = make_cadre_user()
    fail(client, cadre.user.email, settings.AXES_FAILURE_LIMIT)
    assert sign_in(client, cadre.user.email, PASSWORD).status_code == 429
    # What `manage.py axes_reset_username EMAIL` (or the admin's attempts page) does.
    reset(username=cadre.user.email)
    assert sign_in(client, cadre.user.email, PASSWORD).status_code == 302
