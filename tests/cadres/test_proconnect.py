"""ProConnect (OpenID Connect) is configured through settings and off by default."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.django_db

PROVIDERS = {
    "openid_connect": {
        "OAUTH_PKCE_ENABLED": True,
        "APPS": [
            {
                "provider_id": "proconnect",
                "name": "ProConnect",
                "client_id": "client-id",
                "secret": "secret",
                "settings": {"server_url": "https://proconnect.example/api/v2"},
            }
        ],
    }
}


def test_off_by_default(client):
    html = client.get("/compte/login/").content.decode()
    assert "ProConnect" not in html


def test_login_page_offers_proconnect_when_configured(client, settings):
    settings.SOCIALACCOUNT_PROVIDERS = PROVIDERS
    html = client.get("/compte/login/").content.decode()
    assert "ProConnect" in html
    assert "/compte/oidc/proconnect/login/" in html


def test_environment_turns_it_on_with_the_proconnect_scopes():
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings"}
    env.update(PROCONNECT_CLIENT_ID="abc", PROCONNECT_SECRET="s3cret")
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "app = s.SOCIALACCOUNT_PROVIDERS['openid_connect']['APPS'][0]; "
        "print(app['provider_id'], app['client_id'], ' '.join(app['settings']['scope']))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=Path(__file__).resolve().parents[2],
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "proconnect",
        "abc",
        "openid",
        "email",
        "given_name",
        "usual_name",
        "siret",
        "idp_id",
    ]
