from datetime import timedelta

import pytest
from django.utils import timezone

from accompagnement import registry
from tests.factories import UserFactory, make_cadre_user
from tests.fakescheme.models import FakeProgramme, FakeSession
from tests.fakescheme.scheme import FAKE_SCHEME


@pytest.fixture(autouse=True)
def fake_scheme():
    """Plug the fake scheme in (in place of whatever serves its dispositif) for the
    tests of the shared machinery; put the real one back afterwards."""
    previous = registry.get(FAKE_SCHEME.dispositif)
    registry.register(FAKE_SCHEME)
    yield FAKE_SCHEME
    registry.unregister(FAKE_SCHEME.dispositif)
    if previous is not None:
        registry.register(previous)


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


@pytest.fixture
def m(two_ministries):
    """The two ministries of ``tests/conftest.py``, under a short name."""
    return two_ministries


@pytest.fixture
def cadre_a(m):
    """A cadre with an account, in the service of ministry A (délégué A's perimeter)."""
    return make_cadre_user(structure=m["a_srv"], nom="Martin", prenom="Claire")


@pytest.fixture
def submit_demande():
    """Record a request through the service, as the portal does."""
    from accompagnement.models import Demande
    from accompagnement.services import demandes

    def submit(cadre, dispositif="coaching", **kwargs):
        kwargs.setdefault("contexte", Demande.Contexte.PRISE_DE_POSTE)
        kwargs.setdefault("motivation", "Je prends la tête d'une sous-direction de 80 agents.")
        kwargs.setdefault("by", cadre.user)
        return demandes.submit(cadre, dispositif=dispositif, **kwargs)

    return submit
