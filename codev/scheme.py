"""What co-development offers the shared machinery (registered in CodevConfig.ready)."""

from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone

from accompagnement.models import Dispositif
from accompagnement.registry import Card, Scheme

from . import demo, figures, services, spending
from .models import EvaluationRendue, Groupe, Presence, Seance


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


def _to_evaluate(user):
    """Séances closed lately that the user attended and has not evaluated yet."""
    since = timezone.now() - services.EVALUATION_WINDOW
    return (
        Seance.objects.filter(
            groupe__membres__cadre__user=user,
            groupe__membres__date_entree__lte=F("debut__date"),
            statut=Seance.Statut.REALISEE,
            terminee_le__gte=since,
        )
        .exclude(pk__in=EvaluationRendue.objects.filter(membre__cadre__user=user).values("seance"))
        .exclude(
            pk__in=Presence.objects.filter(membre__cadre__user=user, present=False).values("seance")
        )
        .select_related("groupe")
        .order_by("-terminee_le")[:3]
    )


def actions_for(user):
    """A member who is the client of the next séance prepares their situation; one who
    attended a séance lately evaluates it (the four A)."""
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
    ] + [
        Card(
            dispositif=Dispositif.CODEV,
            titre=f"Évaluez la séance n° {s.numero} du {timezone.localtime(s.debut):%d/%m/%Y}",
            url=reverse("codev:seance_evaluation", args=[s.pk]),
            detail=f"Groupe « {s.groupe.nom} » : quatre questions, réponse anonyme.",
        )
        for s in _to_evaluate(user)
    ]


SCHEME = Scheme(
    dispositif=Dispositif.CODEV,
    sessions_for=sessions_for,
    programmes_for=programmes_for,
    actions_for=actions_for,
    session_models=(Seance,),
    seed_demo=demo.seed,
    dashboard=figures.sections,
    external_spending=spending.external_spending,
)
