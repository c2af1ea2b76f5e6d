"""What co-development offers the shared machinery (registered in CodevConfig.ready)."""

from django.db.models import Count, F, Q
from django.urls import reverse
from django.utils import timezone

from accompagnement.file_sections import (
    FileSection,
    Programme,
    Step,
    period,
    session_count_annotations,
    session_counts,
)
from accompagnement.models import Dispositif
from accompagnement.registry import Card, Scheme

from . import demo, figures, services, spending
from .models import EvaluationRendue, Groupe, Membre, Presence, Seance


def sessions_for(user):
    """Séances of the groups the user animates or belongs to (not left)."""
    return (
        Seance.objects.filter(groupe__in=Groupe.objects.of_user(user).values("pk"))
        .select_related("groupe__animateur")
        .prefetch_related("groupe__membres__cadre__user")
    )


def programmes_for(user):
    groupes = Groupe.objects.of_user(user).order_by("-date_debut")
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


def _membership_status(membre, today):
    groupe = membre.groupe
    if membre.date_sortie:
        return f"Sorti(e) du groupe le {membre.date_sortie:%d/%m/%Y}"
    if groupe.date_debut > today:
        return "À venir"
    return "En cours" if groupe.date_fin >= today else "Terminé"


def dossier(cadre):
    """The cadre's groups for their file: name, status, the group's séances by status
    and the cadre's attendance. What is said in a group stays in it: no problem,
    contract, action plan or learning is read (one query, whatever the history)."""
    today = timezone.localdate()
    membres = (
        Membre.objects.filter(cadre=cadre)
        .select_related("groupe")
        .annotate(
            **session_count_annotations("groupe__seances"),
            nb_presences=Count("presences", filter=Q(presences__present=True), distinct=True),
        )
        .order_by("date_entree", "pk")
    )
    programmes, etapes = [], []
    for membre in membres:
        groupe = membre.groupe
        titre = f"Groupe « {groupe.nom} »"
        programmes.append(
            Programme(
                dispositif=Dispositif.CODEV,
                titre=titre,
                statut=_membership_status(membre, today),
                periode=period(groupe.date_debut, groupe.date_fin),
                seances=session_counts(membre),
                chiffres=(("Présences", f"{membre.nb_presences} séance(s)"),),
            )
        )
        etapes.append(Step(membre.date_entree, Dispositif.CODEV, f"Entrée dans le {titre}"))
        if membre.date_sortie:
            etapes.append(Step(membre.date_sortie, Dispositif.CODEV, f"Sortie du {titre}"))
        elif groupe.date_fin < today:
            etapes.append(Step(groupe.date_fin, Dispositif.CODEV, f"Fin du cycle du {titre}"))
    return FileSection(Dispositif.CODEV, programmes, etapes)


SCHEME = Scheme(
    dispositif=Dispositif.CODEV,
    sessions_for=sessions_for,
    programmes_for=programmes_for,
    actions_for=actions_for,
    session_models=(Seance,),
    seed_demo=demo.seed,
    dashboard=figures.sections,
    external_spending=spending.external_spending,
    dossier=dossier,
)
