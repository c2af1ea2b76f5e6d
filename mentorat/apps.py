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

        def health_check_url(notification, point):
            return {
                "point": point,
                "mentorat": point.mentorat,
                "url": settings.SITE_URL + reverse("mentorat:point_etape", args=[point.pk]),
            }

        register_kind("mentorat_point_etape", Kind("mentorat/email/point_etape", health_check_url))

        def offer_url(notification, offre):
            return {
                "offre": offre,
                "url": settings.SITE_URL + reverse("admin:mentorat_offre_change", args=[offre.pk]),
            }

        register_kind("mentorat_offre", Kind("mentorat/email/offre", offer_url))
