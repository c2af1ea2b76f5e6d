import pytest

from config.celery import app as celery_app
from tests.factories import CadreFactory, StructureFactory, make_admin, make_delegue


def pytest_configure(config):
    """Under xdist (``make test`` runs two processes) both processes share one Redis
    database. Each keeps its own cache keys (allauth's sign-in rate limits, per IP,
    would add up) and its own task queue: a real worker started by a test of one
    process would otherwise take the other's tasks and run them against the wrong test
    database (xdist's ``xdist_group`` cannot keep such tests together: pytest 9.2
    ignores the group xdist 3.8 writes into the test's id)."""
    import os

    from django.conf import settings

    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        return
    if settings.CACHES["default"]["BACKEND"].endswith("RedisCache"):
        settings.CACHES["default"]["KEY_PREFIX"] = worker
    celery_app.conf.task_default_queue = f"celery-{worker}"


@pytest.fixture(autouse=True, scope="session")
def _no_cache_flush():
    """The Redis cache shares its database with the Celery broker: ``cache.clear()`` is a
    FLUSHDB that drops queued tasks and kombu's queue bindings, so a real worker running
    in the other test process would never see its task. Fail loudly instead."""
    from django.core.cache.backends.redis import RedisCache

    def refuse(self):
        raise AssertionError(
            "cache.clear() empties the broker's Redis database: use a locmem cache "
            "(settings.CACHES) or delete the keys you set"
        )

    saved, RedisCache.clear = RedisCache.clear, refuse
    yield
    RedisCache.clear = saved


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


# Browser fixtures (``browser``, ``page``) and the real Celery worker of the
# tests marked ``worker`` (``celery_worker_thread``).
from tests.browser import browser, page  # noqa: E402, F401
from tests.celery_worker import celery_worker_thread  # noqa: E402, F401


@pytest.fixture
def fast_password_hasher(settings):
    """MD5 instead of PBKDF2 (about 0.2 s a password): for tests creating many accounts."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
