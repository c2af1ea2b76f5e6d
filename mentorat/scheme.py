"""What mentoring offers the shared machinery (registered in MentoratConfig.ready)."""

from django.db.models import Count, Q
from django.urls import reverse

from accompagnement.models import Dispositif, Session
from accompagnement.registry import Card, Scheme

from . import demo, figures, services
from .models import Mentorat, Rencontre


def sessions_for(user):
    """Meetings of the user's relations, as mentee or as mentor."""
    return Rencontre.objects.filter(
        Q(mentorat__mentore__user=user) | Q(mentorat__mentor__user=user)
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


SCHEME = Scheme(
    dispositif=Dispositif.MENTORAT,
    create_programme=services.create_from_demande,
    sessions_for=sessions_for,
    programmes_for=programmes_for,
    actions_for=actions_for,
    session_models=(Rencontre,),
    seed_demo=demo.seed,
    dashboard=figures.sections,
)
