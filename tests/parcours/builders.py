"""A cadre's history across the four schemes, for the tests of the cadre's file.

``history(cadre, n)`` gives ``n`` items of everything: requests, documents, talent
pools, evaluations, and per scheme ``programmes`` programmes of ``n`` sessions each,
with a confidential marker in every field that must never reach the file.
"""

from datetime import timedelta

from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from accompagnement.models import Demande, Evaluation
from cadres.models import Vivier
from coaching.models import NoteCoach, SeanceCoaching
from codev.models import Apprentissage, PlanAction, Presence, Seance
from mentorat.models import NotePrivee, PointEtape, Rencontre
from parcours.models import DocumentParcours
from tests.factories import (
    CoachFactory,
    CoachingFactory,
    GroupeFactory,
    ImmersionFactory,
    MembreFactory,
    MentoratFactory,
    MentorFactory,
)
from tests.immersion.builders import working_days

SECRET = "SECRET-CONFIDENTIEL"
MARKERS = {
    "note_coach": f"{SECRET}-note-du-coach",
    "note_privee": f"{SECRET}-note-privee-mentorat",
    "point_etape": f"{SECRET}-commentaire-point-etape",
    "probleme": f"{SECRET}-probleme-codev",
    "contrat": f"{SECRET}-contrat-codev",
    "plan_action": f"{SECRET}-plan-action-codev",
    "suivi": f"{SECRET}-suivi-plan-codev",
    "apprentissage": f"{SECRET}-apprentissage-codev",
    "evaluation": f"{SECRET}-commentaire-evaluation",
}


def _ago(days):
    return timezone.now() - timedelta(days=days)


def _statut(i):
    return ("realisee", "planifiee", "annulee")[i % 3]


def _sessions(model, n, **fields):
    """``n`` sessions written directly (no reminder: the file only counts them)."""
    return model.objects.bulk_create(
        [
            model(numero=i + 1, debut=_ago(100 - i), statut=_statut(i), **fields)
            if hasattr(model, "numero")
            else model(debut=_ago(100 - i), statut=_statut(i), **fields)
            for i in range(n)
        ]
    )


def history(cadre, n, programmes=1, mentor_user=None):
    """``n`` items of every kind for ``cadre`` (who has an account), ``programmes``
    programmes in each scheme. Returns the objects a test may look at."""
    made = {"coachings": [], "mentorats": [], "membres": [], "immersions": []}
    user = cadre.user
    for i in range(n):
        Demande.objects.create(
            cadre=cadre,
            dispositif="coaching",
            contexte="prise_de_poste",
            motivation=f"Motivation {i}",
            recue_le=_ago(300 - i),
            statut="acceptee",
            decidee_le=_ago(290 - i),
        )
        DocumentParcours.objects.create(
            cadre=cadre, nature="bilan", date=timezone.localdate(), reference=f"REF-{i}"
        )
        cadre.viviers.add(Vivier.objects.create(nom=f"Vivier {cadre.pk}-{i}"))
    coach = CoachFactory()
    mentor = MentorFactory(user=mentor_user)
    for p in range(programmes):
        coaching = CoachingFactory(cadre=cadre, coach=coach, statut="en_cours")
        _sessions(SeanceCoaching, n, coaching=coaching)
        NoteCoach.objects.create(coaching=coaching, auteur=user, texte=MARKERS["note_coach"])
        made["coachings"].append(coaching)

        mentorat = MentoratFactory(mentor=mentor, mentore=cadre, statut="en_cours")
        rencontres = _sessions(Rencontre, n, mentorat=mentorat)
        NotePrivee.objects.create(
            rencontre=rencontres[0], auteur=user, texte=MARKERS["note_privee"]
        )
        PointEtape.objects.create(
            mentorat=mentorat,
            numero=1,
            cote="mentore",
            echeance=timezone.localdate(),
            commentaire=MARKERS["point_etape"],
            repondu_le=timezone.now(),
        )
        made["mentorats"].append(mentorat)

        groupe = GroupeFactory(structure=cadre.structure)
        membre = MembreFactory(groupe=groupe, cadre=cadre)
        seances = _sessions(
            Seance,
            n,
            groupe=groupe,
            client=membre,
            probleme=MARKERS["probleme"],
            contrat=MARKERS["contrat"],
        )
        Presence.objects.bulk_create(Presence(seance=s, membre=membre) for s in seances)
        PlanAction.objects.create(
            seance=seances[0],
            membre=membre,
            actions=MARKERS["plan_action"],
            suivi=MARKERS["suivi"],
        )
        Apprentissage.objects.create(
            seance=seances[0], membre=membre, texte=MARKERS["apprentissage"]
        )
        made["membres"].append(membre)

        start = timezone.localdate() - timedelta(days=200 - 20 * p)
        made["immersions"].append(
            ImmersionFactory(cadre=cadre, statut="terminee", jours=working_days(start, 2))
        )
    coaching_type = ContentType.objects.get_for_model(made["coachings"][0])
    Evaluation.objects.bulk_create(
        # One per programme and participant: the file reads only their dates, so
        # further ones may name programme ids of their own.
        Evaluation(
            dispositif="coaching",
            programme_type=coaching_type,
            programme_id=made["coachings"][0].pk + 1_000_000 * i,
            cadre=cadre,
            participant=user,
            satisfaction=5,
            commentaire=MARKERS["evaluation"],
            remplie_le=_ago(10),
        )
        for i in range(n)
    )
    return made
