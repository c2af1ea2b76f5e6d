from django.apps import AppConfig


class MentoratConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "mentorat"
    verbose_name = "Mentorat"
