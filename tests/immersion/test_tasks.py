"""The convention is rendered by a task after commit; the beat sweep catches up."""

from unittest import mock

import pytest
from kombu.exceptions import OperationalError

import cadres.services
from immersion import services
from immersion.models import Immersion
from immersion.tasks import generate_convention, prepare_pending_conventions
from tests.factories import make_cadre_user
from tests.immersion.test_services import ahead, request_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def real_enqueue(monkeypatch):
    monkeypatch.setattr(services, "enqueue", cadres.services.enqueue)


@pytest.fixture
def delegue(two_ministries):
    return two_ministries["delegue_a"]


@pytest.fixture
def pending_immersion(two_ministries):
    cadre = make_cadre_user(structure=two_ministries["a_srv"])
    return services.submit(cadre, ahead(4), by=cadre.user, **request_data())


def test_acceptance_renders_the_convention_after_commit(
    real_enqueue, pending_immersion, delegue, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.decide(pending_immersion, Immersion.Statut.ACCEPTEE, by=delegue)
        assert pending_immersion.conventions.count() == 0  # nothing rendered yet
    for callback in callbacks:
        callback()
    pending_immersion.refresh_from_db()
    assert pending_immersion.statut == Immersion.Statut.EN_SIGNATURE
    assert pending_immersion.current_convention().version == 1


def test_broker_down_the_sweep_renders_it(
    real_enqueue, pending_immersion, delegue, django_capture_on_commit_callbacks
):
    down = mock.patch.object(generate_convention, "delay", side_effect=OperationalError("down"))
    with down, django_capture_on_commit_callbacks(execute=True):
        services.decide(pending_immersion, Immersion.Statut.ACCEPTEE, by=delegue)
    assert pending_immersion.conventions.count() == 0
    assert prepare_pending_conventions() == 1
    assert prepare_pending_conventions() == 0  # idempotent
    assert pending_immersion.current_convention().version == 1


def test_a_stated_change_voids_at_once_and_the_task_renders_the_new_version(
    real_enqueue, pending_immersion, delegue, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.decide(pending_immersion, Immersion.Statut.ACCEPTEE, by=delegue)
    v1 = pending_immersion.current_convention()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.update(pending_immersion, lieu="Autre site, 5 rue Neuve, Lyon")
        v1.refresh_from_db()
        assert v1.annulee_le is not None  # old links die before the new PDF exists
    for callback in callbacks:
        callback()
    assert pending_immersion.current_convention().version == 2
