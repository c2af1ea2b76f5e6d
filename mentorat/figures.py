"""Mentoring's dashboard sections (registered in its Scheme)."""

from django.db.models import Count, Q

from accompagnement.dashboard import Chart, Section
from accompagnement.models import Session

from .models import Campagne, Mentorat, Mentore, Rencontre

MAX_CAMPAIGNS = 10


def _campaigns(scope):
    """Campaigns confirmed in the period, wholly inside the user's perimeter."""
    return Campagne.objects.visible_to(scope.user).filter(
        scope.in_period("confirmee_le"), statut=Campagne.Statut.CONFIRMEE
    )


def sections(scope):
    relations = scope.filter(Mentorat.objects.all(), "mentore__structure")
    counts = relations.aggregate(
        en_cours=Count("pk", filter=Q(statut__in=Mentorat.LIVE_STATUSES)),
        proposes=Count("pk", filter=Q(statut=Mentorat.Statut.PROPOSE)),
        termines=Count(
            "pk", filter=scope.dates_in_period("date_fin") & Q(statut=Mentorat.Statut.TERMINE)
        ),
        interrompus=Count(
            "pk", filter=scope.dates_in_period("date_fin") & Q(statut=Mentorat.Statut.INTERROMPU)
        ),
    )
    waiting = scope.filter(Mentore.objects.waiting(), "cadre__structure").count()
    meetings = (
        scope.filter(Rencontre.objects.all(), "mentorat__mentore__structure")
        .filter(scope.in_period("debut"), statut=Session.Statut.REALISEE)
        .count()
    )
    # Two joins (relations, unmatched): every count is distinct, or they multiply.
    campaigns = list(
        _campaigns(scope)
        .annotate(
            # Accepted, whatever came next: only an accepted relation can be over or
            # interrupted (Mentorat.TRANSITIONS).
            acceptes=Count(
                "mentorats",
                filter=Q(
                    mentorats__statut__in=[
                        *Mentorat.LIVE_STATUSES,
                        Mentorat.Statut.TERMINE,
                        Mentorat.Statut.INTERROMPU,
                    ]
                ),
                distinct=True,
            ),
            declines=Count(
                "mentorats", filter=Q(mentorats__statut=Mentorat.Statut.DECLINE), distinct=True
            ),
            en_attente=Count(
                "mentorats", filter=Q(mentorats__statut=Mentorat.Statut.PROPOSE), distinct=True
            ),
            nb_non_apparies=Count("non_apparies", distinct=True),
        )
        .order_by("-confirmee_le")[:MAX_CAMPAIGNS]
    )
    return [
        Section(
            "Mentorat",
            figures=[
                ("Mentorats en cours aujourd'hui", counts["en_cours"]),
                ("Propositions en attente de réponse", counts["proposes"]),
                ("Mentorés en attente d'un mentor", waiting),
                ("Terminés sur la période", counts["termines"]),
                ("Interrompus sur la période", counts["interrompus"]),
                ("Rencontres tenues sur la période", meetings),
            ],
            charts=[
                Chart(
                    "Résultats des campagnes d'appariement confirmées sur la période",
                    [c.nom for c in campaigns],
                    [
                        ("Acceptés ou en cours", [c.acceptes for c in campaigns]),
                        ("En attente de réponse", [c.en_attente for c in campaigns]),
                        ("Déclinés", [c.declines for c in campaigns]),
                        ("Non appariés", [c.nb_non_apparies for c in campaigns]),
                    ],
                )
            ],
        )
    ]
