from django.apps import AppConfig


class ParcoursConfig(AppConfig):
    """The cadre's file (dossier): the whole journey across the four schemes."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "parcours"
    verbose_name = "Dossiers des cadres"
