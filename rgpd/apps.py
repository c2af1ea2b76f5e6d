from django.apps import AppConfig


class RgpdConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "rgpd"
    verbose_name = "Journal d'audit et données personnelles"

    def ready(self):
        from . import audit, imports

        audit.register_models()
        imports.connect()
