"""Coaching's dashboard sections (registered in its Scheme)."""

from django.db.models import Count, Q

from accompagnement.dashboard import Chart, Section

from .models import Coach, Coaching, SeanceCoaching

MAX_COACHES = 15


def sections(scope):
    coachings = scope.filter(Coaching.objects.all(), "cadre__structure")
    counts = coachings.aggregate(
        en_cours=Count("pk", filter=Q(statut__in=Coaching.ACTIVE_STATUSES)),
        a_affecter=Count("pk", filter=Q(statut=Coaching.Statut.A_AFFECTER)),
        commences=Count(
            "pk",
            filter=scope.dates_in_period("date_debut") & ~Q(statut=Coaching.Statut.A_AFFECTER),
        ),
        termines=Count(
            "pk", filter=scope.dates_in_period("date_fin") & Q(statut=Coaching.Statut.TERMINE)
        ),
        interrompus=Count(
            "pk", filter=scope.dates_in_period("date_fin") & Q(statut=Coaching.Statut.INTERROMPU)
        ),
    )
    seances = (
        scope.filter(SeanceCoaching.objects.all(), "coaching__cadre__structure")
        .filter(scope.in_period("debut"), statut=SeanceCoaching.Statut.REALISEE)
        .count()
    )
    # Coaches working in the perimeter: their whole load against their capacity (a
    # coach's load elsewhere takes their places too).
    # (A subquery, not a join: filtering on the join would narrow the annotated load to
    # the perimeter's coachings.)
    coaches = list(
        Coach.objects.filter(actif=True, pk__in=coachings.values("coach"))
        .with_load()
        .order_by("-charge", "nom")[:MAX_COACHES]
    )
    return [
        Section(
            "Coaching",
            figures=[
                ("Coachings en cours aujourd'hui", counts["en_cours"]),
                ("Coachings à affecter", counts["a_affecter"]),
                ("Commencés sur la période", counts["commences"]),
                ("Terminés sur la période", counts["termines"]),
                ("Interrompus sur la période", counts["interrompus"]),
                ("Séances réalisées sur la période", seances),
            ],
            charts=[
                Chart(
                    "Charge des coachs du périmètre au regard de leur capacité (aujourd'hui)",
                    [str(c) for c in coaches],
                    [
                        ("Coachings en cours", [c.charge for c in coaches]),
                        ("Places libres", [max(c.capacite - c.charge, 0) for c in coaches]),
                    ],
                )
            ],
        )
    ]
