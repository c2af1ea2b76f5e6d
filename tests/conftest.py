import pytest

from config.celery import app as celery_app
from tests.factories import CadreFactory, StructureFactory, make_admin, make_delegue


@pytest.fixture(autouse=True)
def _mail_and_tasks(settings):
    """Mails land in ``mail.outbox``; tasks run inline unless a test starts a worker."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.SITE_URL = "http://testserver"
    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = eager


@pytest.fixture
def two_ministries(db):
    """Ministry A (with a direction and a service) and ministry B, a délégué each."""
    a = StructureFactory(nom="Ministère A", sigle="MA")
    a_dir = StructureFactory(nom="Direction A1", sigle="DA1", parent=a, type="direction")
    a_srv = StructureFactory(nom="Service A1-1", sigle="SA11", parent=a_dir, type="service")
    b = StructureFactory(nom="Ministère B", sigle="MB")
    return {
        "a": a,
        "a_dir": a_dir,
        "a_srv": a_srv,
        "b": b,
        "cadre_a": CadreFactory(structure=a_srv, nom="Alpha"),
        "cadre_b": CadreFactory(structure=b, nom="Bravo"),
        "delegue_a": make_delegue(a),
        "delegue_b": make_delegue(b),
        "admin": make_admin(),
    }


# Browser fixtures (``browser``, ``page``) for the journeys' tests.
from tests.browser import browser, page  # noqa: E402, F401


@pytest.fixture
def fast_password_hasher(settings):
    """MD5 instead of PBKDF2 (about 0.2 s a password): for tests creating many accounts."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


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
    try:
        with start_worker(
            celery_app, perform_ping_check=False, pool="solo", loglevel="WARNING"
        ) as started:
            yield started
    finally:
        conf.task_always_eager, conf.worker_hijack_root_logger = saved


def pytest_collection_modifyitems(items):
    """Under xdist (``make test`` runs two processes), tests that use the Redis broker
    all go to one process: two Celery workers on one broker would take each other's
    tasks and run them against the other process's test database."""
    for item in items:
        if item.get_closest_marker("worker") or "celery_worker_thread" in getattr(
            item, "fixturenames", ()
        ):
            item.add_marker(pytest.mark.xdist_group("redis-broker"))
