from django.apps import AppConfig


class CodevConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "codev"
    verbose_name = "Codéveloppement professionnel"

    def ready(self):
        from django.conf import settings
        from django.urls import reverse

        from accompagnement import registry
        from accompagnement.services.outbox import Kind, register_kind

        from . import services
        from .scheme import SCHEME

        registry.register(SCHEME)

        def evaluation_url(notification, seance):
            return {
                "seance": seance,
                "fenetre_jours": services.EVALUATION_WINDOW.days,
                "url": settings.SITE_URL + reverse("codev:seance_evaluation", args=[seance.pk]),
            }

        register_kind("codev_evaluation", Kind("codev/email/evaluation", evaluation_url))
