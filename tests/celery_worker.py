"""A real Celery worker, in a thread, for the tests that go through the Redis broker."""

import time

import pytest
from celery.signals import after_task_publish, task_failure, task_received

from config.celery import app as celery_app


@pytest.fixture
def celery_worker_thread():
    """A real Celery worker (in a thread) consuming from the Redis broker, on this test
    process's own queue (see ``pytest_configure`` in tests/conftest.py)."""
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
    # What became of each task, for the message of a test that waited in vain.
    journal = {"published": [], "received": [], "failed": []}

    def published(sender=None, **kwargs):
        journal["published"].append(sender)

    def received(request=None, **kwargs):
        journal["received"].append(getattr(request, "name", request))

    def failed(sender=None, exception=None, **kwargs):
        journal["failed"].append(f"{getattr(sender, 'name', sender)}: {exception!r}")

    signals = [(after_task_publish, published), (task_received, received), (task_failure, failed)]
    for signal, receiver in signals:
        signal.connect(receiver, weak=False)
    try:
        with start_worker(
            celery_app, perform_ping_check=False, pool="solo", loglevel="WARNING"
        ) as started:
            started.journal = journal
            queues = [q.name for q in started.consumer.task_consumer.queues]
            assert queues == [celery_app.conf.task_default_queue], queues
            yield started
    finally:
        for signal, receiver in signals:
            signal.disconnect(receiver)
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
    journal = worker.journal
    raise AssertionError(
        f"{what} within {timeout}s; tasks published: {journal['published']}, received by "
        f"the worker: {journal['received']}, failed: {journal['failed']} (an unpublished "
        f"task: see the 'Broker unreachable' log); broker: {broker_state()}; worker: "
        f"{worker_state(worker)}"
    )


def broker_state():
    """Every key of the broker's database (queues, kombu's bindings, unacked messages)."""
    with celery_app.connection_for_read() as connection:
        client = connection.default_channel.client
        state = {}
        for key in client.scan_iter(count=1000):
            kind = client.type(key).decode()
            size = {"list": client.llen, "set": client.smembers, "hash": client.hlen}.get(kind)
            state[key.decode()] = size(key) if size else kind
        return state


def worker_state(worker):
    consumer = getattr(worker, "consumer", None)
    if consumer is None:
        return "no consumer"
    task_consumer = getattr(consumer, "task_consumer", None)
    return {
        "blueprint": getattr(consumer.blueprint, "state", None),
        "queues": [q.name for q in getattr(task_consumer, "queues", [])],
        "knows the tasks": sorted(name for name in consumer.strategies if "import" in name),
        "connection": repr(getattr(consumer, "connection", None)),
    }
