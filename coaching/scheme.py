"""What coaching offers the shared machinery (registered in CoachingConfig.ready)."""

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, Subquery
from django.urls import reverse

from accompagnement.file_sections import (
    FileSection,
    Programme,
    SessionCounts,
    Step,
    as_date,
    period,
)
from accompagnement.models import Dispositif
from accompagnement.registry import Card, Scheme

from . import demo, figures, services
from .models import Coach, Coaching, EntretienDecouverte, Preselection, SeanceCoaching


def sessions_for(user):
    """Sessions of the user's coachings, as coached cadre or as coach, and their
    discovery meetings (the cadre's, and the shortlisted coach's)."""
    seances = SeanceCoaching.objects.filter(
        coaching__in=Coaching.objects.of_user(user).values("pk")
    ).select_related("coaching__cadre__user", "coaching__coach__user")
    return seances, entretiens_for(user)


def entretiens_for(user):
    return EntretienDecouverte.objects.filter(
        Q(proposition__preselection__coaching__cadre__user=user)
        | Q(proposition__coach=Subquery(Coach.objects.filter(user=user).values("pk")[:1]))
    ).select_related("proposition__preselection__coaching__cadre__user", "proposition__coach__user")


def _coachings_of(user):
    return (
        Coaching.objects.of_user(user)
        .exclude(statut=Coaching.Statut.INTERROMPU)
        .select_related("cadre", "coach")
        .annotate(
            realisees=Count("seances", filter=Q(seances__statut=SeanceCoaching.Statut.REALISEE)),
            a_choisir=Exists(
                Preselection.objects.filter(
                    coaching=OuterRef("pk"),
                    statut__in=(Preselection.Statut.PROPOSEE, Preselection.Statut.ENTRETIENS),
                )
            ),
        )
        .order_by("-cree_le")
    )


def programmes_for(user):
    cards = []
    for coaching in _coachings_of(user):
        as_coach = coaching.coach is not None and coaching.coach.user_id == user.pk
        titre = f"Coaching de {coaching.cadre}" if as_coach else "Mon coaching"
        detail = f"Coach : {coaching.coach}" if coaching.coach and not as_coach else ""
        seances = f"{coaching.realisees} séance(s) réalisée(s) sur {coaching.nb_seances_prevues}"
        if coaching.a_choisir and not as_coach:
            cards.append(
                Card(
                    dispositif=Dispositif.COACHING,
                    titre=titre,
                    statut="Coachs présélectionnés : à vous de choisir",
                    url=reverse("coaching:preselection", args=[coaching.pk]),
                    detail="Rencontrez les coachs proposés lors d'un court entretien de "
                    "découverte, puis indiquez votre choix.",
                )
            )
            continue
        cards.append(
            Card(
                dispositif=Dispositif.COACHING,
                titre=titre,
                statut=coaching.get_statut_display(),
                url=reverse("coaching:detail", args=[coaching.pk]),
                detail=" · ".join(filter(None, [detail, seances])),
            )
        )
    return cards


def actions_for(user):
    """Coaches: postponements asked by their coachees. (A cadre's shortlist to answer
    shows on their programme card: no query more for everyone's home.)"""
    asked = SeanceCoaching.objects.filter(
        coaching__coach__user=user,
        report_demande_le__isnull=False,
        statut=SeanceCoaching.Statut.PLANIFIEE,
    ).select_related("coaching__cadre")
    return [
        Card(
            dispositif=Dispositif.COACHING,
            titre=f"Report demandé par {s.coaching.cadre} (séance n° {s.numero})",
            url=reverse("coaching:detail", args=[s.coaching_id]),
            detail=s.report_motif,
        )
        for s in asked
    ]


def dossier(cadre):
    """The cadre's coachings for their file: coach, status, sessions by status and the
    allowance; never the coach's notes (two queries, whatever the history)."""
    statuts_only = SeanceCoaching.objects.only("coaching", "statut")
    coachings = (
        Coaching.objects.filter(cadre=cadre)
        .select_related("coach")
        .prefetch_related(Prefetch("seances", queryset=statuts_only))
        .order_by("cree_le", "pk")
    )
    programmes, etapes = [], []
    for coaching in coachings:
        allowance = coaching.allowance()  # the allowance rule, from the prefetched statuses
        avec = f"avec {coaching.coach}" if coaching.coach else "(coach à désigner)"
        programmes.append(
            Programme(
                dispositif=Dispositif.COACHING,
                titre=f"Coaching {avec}",
                statut=coaching.get_statut_display(),
                periode=period(coaching.date_debut, coaching.date_fin),
                seances=SessionCounts.of(s.statut for s in coaching.seances.all()),
                chiffres=(
                    (
                        "Forfait de séances",
                        f"{allowance.utilisees} utilisée(s) sur {allowance.prevues}, "
                        f"{allowance.restantes} restante(s)",
                    ),
                ),
            )
        )
        start = coaching.date_debut or as_date(coaching.cree_le)
        etapes.append(Step(start, Dispositif.COACHING, f"Début du coaching {avec}"))
        if coaching.date_fin:
            etapes.append(
                Step(
                    coaching.date_fin,
                    Dispositif.COACHING,
                    f"Fin du coaching ({coaching.get_statut_display().lower()})",
                )
            )
    return FileSection(Dispositif.COACHING, programmes, etapes)


SCHEME = Scheme(
    dispositif=Dispositif.COACHING,
    create_programme=services.create_from_demande,
    sessions_for=sessions_for,
    programmes_for=programmes_for,
    actions_for=actions_for,
    session_models=(SeanceCoaching, EntretienDecouverte),
    seed_demo=demo.seed,
    dashboard=figures.sections,
    dossier=dossier,
)
