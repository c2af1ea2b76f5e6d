"""A real Celery worker, fed through Redis, sends the invitation recorded in a
committed transaction: the path production takes, minus the separate process."""

import time

import pytest
from django.conf import settings
from django.core import mail
from django.db import transaction

from cadres.models import Invitation
from cadres.services import invite_cadre
from config.celery import app as celery_app
from tests.factories import CadreFactory

pytestmark = [
    pytest.mark.worker,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("fast_password_hasher"),
]

TIMEOUT = 20


@pytest.fixture
def worker():
    if not settings.REDIS_URL:
        pytest.skip("REDIS_URL is empty: a real worker needs the Redis broker")
    from celery.contrib.testing.worker import start_worker

    conf = celery_app.conf
    saved = conf.task_always_eager, conf.worker_hijack_root_logger
    conf.task_always_eager = False
    conf.worker_hijack_root_logger = False  # leave pytest's logging alone
    # Connections made by an earlier test (another broker URL) must not be reused.
    celery_app._pool = None
    celery_app.amqp._producer_pool = None
    try:
        with start_worker(
            celery_app, perform_ping_check=False, pool="solo", loglevel="WARNING"
        ) as started:
            yield started
    finally:
        conf.task_always_eager, conf.worker_hijack_root_logger = saved


def test_worker_sends_the_invitation_after_commit(worker):
    cadre = CadreFactory()
    with transaction.atomic():
        invitation = invite_cadre(cadre)
        time.sleep(0.3)  # even a busy worker cannot see it before the commit
        assert mail.outbox == []
    deadline = time.monotonic() + TIMEOUT
    sent = None
    while time.monotonic() < deadline:
        sent = Invitation.objects.filter(pk=invitation.pk, envoyee_le__isnull=False).first()
        if sent is not None and mail.outbox:
            break
        time.sleep(0.05)
    assert sent is not None, f"the worker did not send the invitation within {TIMEOUT}s"
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [cadre.email]
    assert "/invitation/" in mail.outbox[0].body
