"""What co-development offers the shared machinery (registered in CodevConfig.ready)."""

from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from accompagnement.models import Dispositif
from accompagnement.registry import Card, Scheme

from . import demo, figures
from .models import Groupe, Seance


def sessions_for(user):
    """Séances of the groups the user animates or belongs to (not left)."""
    return (
        Seance.objects.filter(
            Q(groupe__animateur=user)
            | Q(groupe__membres__cadre__user=user, groupe__membres__date_sortie__isnull=True)
        )
        .distinct()
        .select_related("groupe__animateur")
        .prefetch_related("groupe__membres__cadre__user")
    )


def programmes_for(user):
    groupes = (
        Groupe.objects.filter(
            Q(animateur=user) | Q(membres__cadre__user=user, membres__date_sortie__isnull=True)
        )
        .distinct()
        .order_by("-date_debut")
    )
    cards = []
    for groupe in groupes:
        anime = groupe.animateur_id == user.pk
        cards.append(
            Card(
                dispositif=Dispositif.CODEV,
                titre=f"Groupe « {groupe.nom} »" + (" (animation)" if anime else ""),
                statut="En cours" if groupe.date_fin >= timezone.localdate() else "Terminé",
                url=reverse("codev:groupe", args=[groupe.pk]),
                detail=f"Du {groupe.date_debut:%d/%m/%Y} au {groupe.date_fin:%d/%m/%Y}",
            )
        )
    return cards


def actions_for(user):
    """A member who is the client of the next séance prepares their situation."""
    upcoming = (
        Seance.objects.filter(
            client__cadre__user=user,
            statut=Seance.Statut.PLANIFIEE,
            debut__gte=timezone.now(),
        )
        .select_related("groupe")
        .order_by("debut")[:1]
    )
    return [
        Card(
            dispositif=Dispositif.CODEV,
            titre=f"Vous êtes client(e) de la séance du {timezone.localtime(s.debut):%d/%m/%Y}",
            url=reverse("codev:groupe", args=[s.groupe_id]),
            detail=f"Groupe « {s.groupe.nom} » : préparez la situation que vous exposerez.",
        )
        for s in upcoming
    ]


SCHEME = Scheme(
    dispositif=Dispositif.CODEV,
    sessions_for=sessions_for,
    programmes_for=programmes_for,
    actions_for=actions_for,
    session_models=(Seance,),
    seed_demo=demo.seed,
    dashboard=figures.sections,
)
