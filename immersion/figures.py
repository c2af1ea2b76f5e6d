"""Immersion's dashboard sections (registered in its Scheme)."""

from django.db.models import Count

from accompagnement.dashboard import Chart, Section

from .models import Immersion, JourImmersion


def sections(scope):
    immersions = scope.filter(Immersion.objects.all(), "cadre__structure")
    by_status = dict(immersions.values("statut").annotate(n=Count("pk")).values_list("statut", "n"))
    days = (
        JourImmersion.objects.counting()
        .filter(immersion__in=immersions)
        .filter(scope.dates_in_period("date"))
        .count()
    )
    statuses = list(Immersion.Statut)
    return [
        Section(
            "Immersion professionnelle",
            figures=[
                ("Immersions (tous statuts)", sum(by_status.values())),
                ("Jours d'immersion sur la période", days),
                ("Conventions signées", by_status.get(Immersion.Statut.SIGNEE, 0)),
            ],
            charts=[
                Chart(
                    "Immersions par statut (aujourd'hui)",
                    [s.label for s in statuses],
                    [("Immersions", [by_status.get(s.value, 0) for s in statuses])],
                )
            ],
        )
    ]
