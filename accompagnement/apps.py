from django.apps import AppConfig


class AccompagnementConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "accompagnement"
    verbose_name = "Accompagnement"

    def ready(self):
        from . import admin_widgets
        from .notifications import register_all

        register_all()
        admin_widgets.install()
