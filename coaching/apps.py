from django.apps import AppConfig


class CoachingConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "coaching"
    verbose_name = "Coaching"

    def ready(self):
        from django.conf import settings
        from django.urls import reverse

        from accompagnement import registry
        from accompagnement.services.outbox import Kind, register_kind

        from .scheme import SCHEME

        registry.register(SCHEME)

        def coaching_url(notification, target):
            coaching = getattr(target, "coaching", target)
            return {
                "coaching": coaching,
                "url": settings.SITE_URL + reverse("coaching:detail", args=[coaching.pk]),
            }

        register_kind("coaching_affecte", Kind("coaching/email/affecte", coaching_url))
        register_kind(
            "coaching_report_demande", Kind("coaching/email/report_demande", coaching_url)
        )
