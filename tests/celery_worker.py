"""A real Celery worker, in a thread, for the tests that go through the Redis broker."""

import time

import pytest
from celery.signals import task_failure

from config.celery import app as celery_app


@pytest.fixture
def celery_worker_thread():
    """A real Celery worker (in a thread) consuming from the Redis broker."""
    from celery.contrib.testing.worker import start_worker
    from django.conf import settings

    if not settings.REDIS_URL:
        pytest.skip("REDIS_URL is empty: a real worker needs the Redis broker")
    conf = celery_app.conf
    saved = conf.task_always_eager, conf.worker_hijack_root_logger
    conf.task_always_eager = False
    conf.worker_hijack_root_logger = False  # leave pytest's logging alone
    # Connections made by an earlier test (another broker URL) must not be reused.
    celery_app._pool = None
    celery_app.amqp._producer_pool = None
    # Messages left in the queue by an earlier test (restored when its worker stopped,
    # or published while no worker ran) would be run first, against rows long gone.
    celery_app.control.purge()
    failures = []

    def record_failure(sender=None, exception=None, **kwargs):
        failures.append(f"{getattr(sender, 'name', sender)}: {exception!r}")

    task_failure.connect(record_failure, weak=False)
    try:
        with start_worker(
            celery_app, perform_ping_check=False, pool="solo", loglevel="WARNING"
        ) as started:
            started.failures = failures
            yield started
    finally:
        task_failure.disconnect(record_failure)
        conf.task_always_eager, conf.worker_hijack_root_logger = saved


# A real worker's wait: generous, since CI machines run two test processes on two cores.
WORKER_TIMEOUT = 60


def wait_until(condition, worker, what, timeout=WORKER_TIMEOUT):
    """Poll ``condition`` until it holds; on timeout, fail saying what the worker did."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    with celery_app.connection_for_read() as connection:
        waiting = connection.default_channel.client.llen("celery")
    raise AssertionError(
        f"{what} within {timeout}s; messages still queued: {waiting}; "
        f"task failures: {worker.failures or 'none'}"
    )
