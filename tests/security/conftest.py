"""Fixtures of the security suite: one world for the package, one client per role."""

from unittest import mock

import pytest
from django.db import transaction
from django.test import Client

from tests.security.world import ANONYMOUS_ROLES, ROLES, build_world


def _tiny_pdf(immersion, version):
    """The conventions' PDF without WeasyPrint (seconds each): pages serve stored bytes."""
    return b"%PDF-1.4\n% convention " + str(version).encode() + b"\n%%EOF\n"


@pytest.fixture(scope="package")
def world(django_db_setup, django_db_blocker):
    """Built once for the package inside a transaction rolled back afterwards; each test
    (``db``) runs in a savepoint of it, so whatever a request changes goes too."""
    with django_db_blocker.unblock(), transaction.atomic():
        with mock.patch("immersion.services.render_pdf", _tiny_pdf):
            world = build_world()
        world.clients = {}
        for role in ROLES:
            # The server error page is the answer under test, not an exception.
            client = Client(raise_request_exception=False)
            if role not in ANONYMOUS_ROLES:
                client.force_login(world.users[role])
            world.clients[role] = client
        yield world
        transaction.set_rollback(True)


@pytest.fixture
def clients(world, db):
    return world.clients
