from django.apps import AppConfig


class CoachingConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "coaching"
    verbose_name = "Coaching"

    def ready(self):
        from django.conf import settings
        from django.urls import reverse

        from accompagnement import calendar, registry
        from accompagnement.services.outbox import Kind, register_kind

        from . import services
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

        def accreditation_context(notification, accreditation):
            return {
                "accreditation": accreditation,
                "coach": accreditation.coach,
                "url": settings.SITE_URL
                + reverse("admin:coaching_coach_change", args=[accreditation.coach_id]),
            }

        def portal(name, pk):
            return settings.SITE_URL + reverse(f"coaching:{name}", args=[pk])

        def admin_shortlist(notification, preselection):
            return {
                "preselection": preselection,
                "coaching": preselection.coaching,
                "url": settings.SITE_URL
                + reverse("admin:coaching_coaching_preselection", args=[preselection.coaching_id]),
            }

        def cadre_shortlist(notification, preselection):
            page = "preselection" if preselection.is_open else "detail"
            return {
                "preselection": preselection,
                "coaching": preselection.coaching,
                "url": portal(page, preselection.coaching_id),
            }

        def released(notification, proposition):
            return {"coaching": proposition.preselection.coaching}

        def meeting(notification, entretien):
            return {"coaching": entretien.coaching, "url": portal("entretien", entretien.pk)}

        def meeting_invitation(notification, entretien):
            return [("invitation.ics", calendar.invitation(entretien), "text/calendar")]

        for kind, context in [
            ("preselection_proposee", cadre_shortlist),
            ("preselection_confirmee", cadre_shortlist),
            ("preselection_choix", admin_shortlist),
            ("preselection_nouvelle", admin_shortlist),
            ("preselection_liberee", released),
        ]:
            register_kind(f"coaching_{kind}", Kind(f"coaching/email/{kind}", context))
        register_kind(
            "coaching_entretien_reserve",
            Kind("coaching/email/entretien_reserve", meeting, meeting_invitation),
        )
        register_kind(
            services.ACCREDITATION_EXPIRING,
            Kind("coaching/email/accreditation_expire", accreditation_context),
        )
