"""The two test processes of ``make test`` share one Redis database: each must publish
to and consume from its own queue, and keep its own cache keys, or a real worker of one
process takes the other's tasks (they then run against the wrong test database)."""

import os

import pytest
from django.core.cache import cache

from config.celery import app as celery_app

WORKER = os.environ.get("PYTEST_XDIST_WORKER")
pytestmark = pytest.mark.skipif(not WORKER, reason="only under xdist (make test)")


def test_tasks_are_routed_to_this_process_queue():
    queue = f"celery-{WORKER}"
    assert celery_app.conf.task_default_queue == queue
    route = celery_app.amqp.router.route({}, "cadres.tasks.analyse_import")
    assert route["queue"].name == queue
    assert [q.name for q in celery_app.amqp.queues.consume_from.values()] == [queue]


def test_cache_keys_carry_this_process_prefix(settings):
    if not settings.REDIS_URL:
        pytest.skip("the cache is in memory, one per process")
    assert cache.key_prefix == WORKER
