from django.apps import AppConfig


class CohortesConfig(AppConfig):
    """Cohort programmes (cycles de développement) combining the schemes."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "cohortes"
    verbose_name = "Programmes de cohorte"

    def ready(self):
        from accompagnement import registry

        from . import droits

        registry.register_actions(droits.actions_for)
