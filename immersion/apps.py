from django.apps import AppConfig


class ImmersionConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "immersion"
    verbose_name = "Immersion professionnelle"

    def ready(self):
        from accompagnement import registry

        from . import notifications
        from .scheme import SCHEME

        registry.register(SCHEME)
        notifications.register_all()
