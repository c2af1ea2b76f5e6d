import pytest


@pytest.fixture(autouse=True)
def convention_task_inline(monkeypatch):
    """Tests run the convention task at once, inside the test's transaction (the real
    path, after commit or by the sweep, is tested in test_tasks.py)."""
    from immersion import services

    monkeypatch.setattr(services, "enqueue", lambda task, *args: task(*args))
