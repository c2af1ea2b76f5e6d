"""What mentoring offers the shared machinery (registered in MentoratConfig.ready)."""

from django.db.models import Count, Q
from django.urls import reverse

from accompagnement.file_sections import (
    FileSection,
    Programme,
    Step,
    as_date,
    period,
    session_count_annotations,
    session_counts,
)
from accompagnement.models import Dispositif, Session
from accompagnement.registry import Card, Scheme

from . import demo, figures, services
from .models import Mentorat, Mentore, Rencontre


def sessions_for(user):
    """Meetings of the user's relations, as mentee or as mentor."""
    return Rencontre.objects.filter(
        mentorat__in=Mentorat.objects.of_user(user).values("pk")
    ).select_related("mentorat__mentore__user", "mentorat__mentor__user")


def _relations_of(user):
    return (
        Mentorat.objects.of_user(user)
        .exclude(statut=Mentorat.Statut.DECLINE)
        .select_related("mentor", "mentore")
        .annotate(tenues=Count("rencontres", filter=Q(rencontres__statut=Session.Statut.REALISEE)))
        .order_by("-cree_le")
    )


def programmes_for(user):
    cards = []
    for mentorat in _relations_of(user):
        as_mentor = mentorat.mentor.user_id == user.pk
        titre = f"Mentorat de {mentorat.mentore}" if as_mentor else "Mon mentorat"
        detail = "" if as_mentor else f"Mentor : {mentorat.mentor}"
        cards.append(
            Card(
                dispositif=Dispositif.MENTORAT,
                titre=titre,
                statut=mentorat.get_statut_display(),
                url=reverse("mentorat:detail", args=[mentorat.pk]),
                detail=" · ".join(filter(None, [detail, f"{mentorat.tenues} rencontre(s)"])),
            )
        )
    return cards


def actions_for(user):
    """Proposals waiting for this user's answer."""
    pending = (
        Mentorat.objects.filter(statut=Mentorat.Statut.PROPOSE)
        .filter(
            Q(mentor__user=user, charte_mentor_le__isnull=True)
            | Q(mentore__user=user, charte_mentore_le__isnull=True)
        )
        .select_related("mentor", "mentore")
    )
    return [
        Card(
            dispositif=Dispositif.MENTORAT,
            titre=(
                f"Répondre à la proposition de mentorat de {m.mentore}"
                if m.mentor.user_id == user.pk
                else f"Répondre à la proposition de mentorat avec {m.mentor}"
            ),
            url=reverse("mentorat:detail", args=[m.pk]),
        )
        for m in pending
    ]


def dossier(cadre):
    """The cadre's mentoring for their file: relations as mentee and as mentor, with the
    other side, the status and the meetings by status; the waiting list. Never a private
    note (two queries, whatever the history)."""
    relations = (
        Mentorat.objects.filter(Q(mentore=cadre) | Q(mentor__cadre=cadre))
        .select_related("mentor", "mentore")
        .annotate(**session_count_annotations("rencontres"))
        .order_by("date_debut", "pk")
    )
    programmes, etapes = [], []
    for mentorat in relations:
        if mentorat.mentore_id == cadre.pk:
            titre = f"Mentorat avec {mentorat.mentor} (mentor)"
        else:
            titre = f"Mentorat de {mentorat.mentore} (en tant que mentor)"
        programmes.append(
            Programme(
                dispositif=Dispositif.MENTORAT,
                titre=titre,
                statut=mentorat.get_statut_display(),
                periode=period(mentorat.date_debut, mentorat.date_fin, mentorat.date_fin_prevue),
                seances=session_counts(mentorat),
            )
        )
        if mentorat.statut in (Mentorat.Statut.PROPOSE, Mentorat.Statut.DECLINE):
            etapes.append(
                Step(
                    as_date(mentorat.cree_le),
                    Dispositif.MENTORAT,
                    f"Proposition : {titre}",
                    mentorat.get_statut_display(),
                )
            )
            continue
        etapes.append(Step(mentorat.date_debut, Dispositif.MENTORAT, f"Début : {titre}"))
        if mentorat.date_fin:
            etapes.append(
                Step(
                    mentorat.date_fin,
                    Dispositif.MENTORAT,
                    f"Fin : {titre}",
                    mentorat.get_statut_display(),
                )
            )
    waiting = Mentore.objects.filter(cadre=cadre, statut=Mentore.Statut.EN_ATTENTE).first()
    if waiting is not None:
        since = as_date(waiting.en_attente_depuis)
        programmes.append(
            Programme(
                dispositif=Dispositif.MENTORAT,
                titre="Liste d'attente du mentorat",
                statut=waiting.get_statut_display(),
                periode=f"depuis le {since:%d/%m/%Y}",
            )
        )
        etapes.append(Step(since, Dispositif.MENTORAT, "En attente d'un mentor"))
    return FileSection(Dispositif.MENTORAT, programmes, etapes)


SCHEME = Scheme(
    dispositif=Dispositif.MENTORAT,
    create_programme=services.create_from_demande,
    sessions_for=sessions_for,
    programmes_for=programmes_for,
    actions_for=actions_for,
    session_models=(Rencontre,),
    seed_demo=demo.seed,
    dashboard=figures.sections,
    dossier=dossier,
)
