"""Co-development's dashboard sections (registered in its Scheme): counts and
attendance only, never what is said in a group."""

from django.db.models import Count, Q
from django.utils import timezone

from accompagnement.dashboard import Chart, Section
from accompagnement.models import Session

from .models import Groupe, Presence, Seance

MAX_GROUPS = 15


def sections(scope):
    groupes = scope.filter(Groupe.objects.all(), "structure")
    seances = Seance.objects.filter(groupe__in=groupes).filter(scope.in_period("debut"))
    held = seances.filter(statut=Session.Statut.REALISEE)
    presences = Presence.objects.filter(seance__in=held).aggregate(
        attendus=Count("pk"), presents=Count("pk", filter=Q(present=True))
    )
    per_group = list(
        Presence.objects.filter(seance__in=held)
        .values("seance__groupe", "seance__groupe__nom")
        .annotate(attendus=Count("pk"), presents=Count("pk", filter=Q(present=True)))
        .order_by("seance__groupe__nom")[:MAX_GROUPS]
    )
    rate = (
        round(100 * presences["presents"] / presences["attendus"], 1)
        if presences["attendus"]
        else None
    )
    # Like every situation "today" on the page, independent of the chosen period.
    today = timezone.localdate()
    return [
        Section(
            "Codéveloppement",
            figures=[
                (
                    "Groupes en cours aujourd'hui",
                    groupes.filter(date_debut__lte=today, date_fin__gte=today).count(),
                ),
                ("Séances tenues sur la période", held.count()),
                ("Séances prévues sur la période", seances.count()),
                ("Taux de présence (%)", rate),
            ],
            charts=[
                Chart(
                    "Taux de présence aux séances tenues sur la période, par groupe",
                    [row["seance__groupe__nom"] for row in per_group],
                    [
                        (
                            "Présence",
                            [round(100 * r["presents"] / r["attendus"], 1) for r in per_group],
                        )
                    ],
                    unit=" %",
                    scale=100,
                )
            ],
        )
    ]
