from django.apps import AppConfig


class ImmersionConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "immersion"
    verbose_name = "Immersion professionnelle"
