import pytest


@pytest.fixture(autouse=True)
def convention_task_inline(monkeypatch):
    """Tests run the convention task at once, inside the test's transaction (the real
    path, after commit or by the sweep, is tested in test_tasks.py)."""
    from immersion import services

    monkeypatch.setattr(services, "enqueue", lambda task, *args: task(*args))


@pytest.fixture
def stand_in_pdf(monkeypatch):
    """A tiny stand-in for WeasyPrint, carrying the stated content's fingerprint (the
    real PDF is tested in test_convention.py)."""
    from immersion import services

    def render_pdf(immersion, version):
        return f"%PDF-stand-in v{version} {services.content_fingerprint(immersion)}".encode()

    monkeypatch.setattr(services, "render_pdf", render_pdf)
