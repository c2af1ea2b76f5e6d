"""A real Celery worker, fed through Redis, sends the invitation recorded in a
committed transaction: the path production takes, minus the separate process."""

import time

import pytest
from django.core import mail
from django.db import transaction

from cadres.models import Invitation
from cadres.services import invite_cadre
from tests.celery_worker import wait_until
from tests.factories import CadreFactory

pytestmark = [
    pytest.mark.worker,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("fast_password_hasher"),
]


@pytest.fixture
def worker(celery_worker_thread):
    return celery_worker_thread


def test_worker_sends_the_invitation_after_commit(worker):
    cadre = CadreFactory()
    with transaction.atomic():
        invitation = invite_cadre(cadre)
        time.sleep(0.3)  # even a busy worker cannot see it before the commit
        assert mail.outbox == []
    wait_until(
        lambda: (
            mail.outbox
            and Invitation.objects.filter(pk=invitation.pk, envoyee_le__isnull=False).exists()
        ),
        worker,
        "the worker did not send the invitation",
    )
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [cadre.email]
    assert "/invitation/" in mail.outbox[0].body
