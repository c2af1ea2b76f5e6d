from django.apps import AppConfig


class CodevConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "codev"
    verbose_name = "Codéveloppement professionnel"

    def ready(self):
        from accompagnement import registry

        from .scheme import SCHEME

        registry.register(SCHEME)
