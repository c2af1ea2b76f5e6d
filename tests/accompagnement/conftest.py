from datetime import timedelta

import pytest
from django.utils import timezone

from tests.factories import UserFactory, make_cadre_user
from tests.fakescheme.models import FakeProgramme, FakeSession


@pytest.fixture
def programme(db):
    """A programme of the fake scheme: a cadre with an account and their accompanist."""
    cadre = make_cadre_user()
    return FakeProgramme.objects.create(cadre=cadre, accompagnant=UserFactory())


@pytest.fixture
def make_session(programme):
    def make(days=10, **kwargs):
        return FakeSession.objects.create(
            programme=kwargs.pop("programme", programme),
            debut=timezone.now() + timedelta(days=days),
            duree=kwargs.pop("duree", 60),
            **kwargs,
        )

    return make
