"""Fixtures of the accessibility suite: the security suite's world, committed so that
the live server sees it, and browser contexts signed in as any of its roles."""

from unittest import mock

import pytest
from django.conf import settings
from django.test import Client

from tests.a11y import axe
from tests.security.conftest import _tiny_pdf
from tests.security.world import build_world

DESKTOP = {"width": 1280, "height": 800}
MOBILE = {"width": 375, "height": 740}


@pytest.fixture
def world(live_server):
    """One of everything (about a second): ``live_server`` makes the test transactional,
    so the world is committed for the server's thread and truncated afterwards."""
    from allauth.socialaccount.models import SocialApp

    # The conventions' PDF without WeasyPrint, here and in the server's thread.
    with mock.patch("immersion.services.render_pdf", _tiny_pdf):
        world = build_world()
        # The cadre's ProConnect account, as configured in production: its app is known
        # by the account's provider id, so that the connections page can name it.
        app = SocialApp.objects.get(name="ProConnect")
        app.provider_id = "proconnect"
        app.settings = {"server_url": "https://proconnect.example.fr"}
        app.save()
        app.sites.add(settings.SITE_ID)
        yield world


@pytest.fixture
def contexts(browser, live_server, world):
    """``contexts(role)``: a browser context signed in as that role of the world, through
    a session cookie (signing in through the form, TOTP included, takes seconds); any
    other name (``anonymous``, ``tutor``...) gets a context of its own, signed out."""
    opened = {}

    def context_for(role):
        if role not in opened:
            context = browser.new_context(
                locale="fr-FR", base_url=live_server.url, viewport=DESKTOP
            )
            if role in world.users:
                client = Client()
                client.force_login(world.users[role])
                cookie = client.cookies[settings.SESSION_COOKIE_NAME]
                context.add_cookies(
                    [
                        {
                            "name": settings.SESSION_COOKIE_NAME,
                            "value": cookie.value,
                            "url": live_server.url,
                        }
                    ]
                )
            context.set_default_timeout(10_000)
            axe.install(context)
            opened[role] = context
        return opened[role]

    yield context_for
    for context in opened.values():
        context.close()
