from django.apps import AppConfig


class MentoratConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "mentorat"
    verbose_name = "Mentorat"

    def ready(self):
        from django.conf import settings
        from django.urls import reverse

        from accompagnement import registry
        from accompagnement.services.outbox import Kind, register_kind

        from .scheme import SCHEME

        registry.register(SCHEME)

        def relation_url(notification, mentorat):
            return {
                "mentorat": mentorat,
                "url": settings.SITE_URL + reverse("mentorat:detail", args=[mentorat.pk]),
            }

        for kind in ("propose", "accepte", "decline", "sans_rencontre"):
            register_kind(f"mentorat_{kind}", Kind(f"mentorat/email/{kind}", relation_url))
