from django.apps import AppConfig


class FakeSchemeConfig(AppConfig):
    name = "tests.fakescheme"
    label = "fakescheme"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from accompagnement import registry
        from accompagnement.models import Dispositif

        from .scheme import actions_for, create_programme, programmes_for, sessions_for

        registry.register(
            registry.Scheme(
                dispositif=Dispositif.COACHING,
                create_programme=create_programme,
                sessions_for=sessions_for,
                programmes_for=programmes_for,
                actions_for=actions_for,
            )
        )
