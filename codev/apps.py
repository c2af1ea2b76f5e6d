from django.apps import AppConfig


class CodevConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "codev"
    verbose_name = "Codéveloppement professionnel"
