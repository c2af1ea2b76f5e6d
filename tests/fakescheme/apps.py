from django.apps import AppConfig


class FakeSchemeConfig(AppConfig):
    """Registered in the registry by the ``fake_scheme`` fixture of the tests of the
    shared machinery only, so that the real scheme apps' own tests see themselves."""

    name = "tests.fakescheme"
    label = "fakescheme"
    default_auto_field = "django.db.models.BigAutoField"
