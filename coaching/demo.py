"""Demo data of coaching (called by ``manage.py seed_demo`` through the registry)."""

from datetime import time, timedelta
from decimal import Decimal

from django.utils import timezone

from accompagnement.models import Mode
from cadres.models import Cadre, Structure, User
from cadres.perimeter import filter_for_user

from . import services
from .models import (
    Certification,
    Coach,
    Coaching,
    Preselection,
    SeanceCoaching,
    Specialite,
    SupervisionAnnuelle,
)

COACHES = [
    # email, prénom, nom, type, organisme, spécialités, capacité
    (
        "coach@demo.gouv.fr",
        "Corinne",
        "Coach",
        Coach.Type.EXTERNE,
        "Cabinet Trajectoires",
        ["prise_de_poste", "leadership"],
        4,
    ),
    (
        "paul.mercier@coaching.demo.fr",
        "Paul",
        "Mercier",
        Coach.Type.EXTERNE,
        "Alter Coaching",
        ["transformation", "equipe"],
        3,
    ),
    (
        "lea.giraud@interieur.demo.gouv.fr",
        "Léa",
        "Giraud",
        Coach.Type.INTERNE,
        "",
        ["difficulte", "debouche"],
        2,
    ),
]


def seed(rng):
    sg_mef = Structure.objects.filter(sigle="SG-MEF").first()
    coaches = []
    for email, prenom, nom, type_, organisme, specialites, capacite in COACHES:
        coach, created = Coach.objects.get_or_create(
            email=email,
            defaults={
                "civilite": "mme" if prenom in {"Corinne", "Léa"} else "m",
                "prenom": prenom,
                "nom": nom,
                "type": type_,
                "organisme": organisme,
                "structure": sg_mef if type_ == Coach.Type.INTERNE else None,
                "tarif_seance": Decimal("450.00") if type_ == Coach.Type.EXTERNE else None,
                "capacite": capacite,
                "user": User.objects.filter(email=email).first(),
            },
        )
        if created:
            today = timezone.localdate()
            coach.specialites.set(Specialite.objects.filter(code__in=specialites))
            # The register: Paul Mercier's accreditation expires soon (the délégués'
            # filter and reminder show it), everyone has signed the charter.
            Certification.objects.create(
                coach=coach,
                organisme=Certification.Organisme.ICF,
                niveau=rng.choice(["ACC", "PCC", "MCC"]),
                expire_le=today + timedelta(days=40 if nom == "Mercier" else rng.randint(200, 900)),
            )
            coach.charte_signee_le = today - timedelta(days=rng.randint(60, 400))
            coach.save(update_fields=["charte_signee_le"])
            SupervisionAnnuelle.objects.create(
                coach=coach, annee=today.year, heures=Decimal(rng.randint(8, 30))
            )
        coaches.append(coach)
    _shortlist_stage(coaches)
    cadre = Cadre.objects.filter(email="cadre@demo.gouv.fr").first()
    if cadre is None or Coaching.objects.filter(cadre=cadre).exists():
        return
    coaching = Coaching.objects.create(
        cadre=cadre,
        coach=coaches[0],
        motif=Coaching.Motif.PRISE_DE_POSTE,
        statut=Coaching.Statut.EN_COURS,
        objectifs="Réussir la prise de poste : installer l'équipe de direction, "
        "clarifier les priorités avec la hiérarchie.",
        date_debut=timezone.localdate() - timedelta(days=30),
        montant_devis=Decimal("2700.00"),
        bon_de_commande="BC-2026-0142",
    )
    today = timezone.localdate()
    for numero, days, statut in [(1, -21, "realisee"), (2, 7, "planifiee"), (3, 28, "planifiee")]:
        debut = timezone.make_aware(
            timezone.datetime.combine(today + timedelta(days=days), time(10, 0))
        )
        SeanceCoaching.objects.create(
            coaching=coaching,
            numero=numero,
            debut=debut,
            duree=90,
            statut=statut,
            mode=Mode.DISTANCIEL if numero == 2 else Mode.PRESENTIEL,
            lieu="" if numero == 2 else "Cabinet Trajectoires, 12 rue de Rivoli, Paris",
            lien_visio="https://webconf.numerique.gouv.fr/coaching-demo" if numero == 2 else "",
        )


def _shortlist_stage(coaches):
    """One engagement of a délégué's perimeter at the shortlist stage (once)."""
    if Preselection.objects.exists():
        return
    delegue = User.objects.filter(email="delegue.interieur@demo.gouv.fr").first()
    if delegue is None:
        return
    cadre = (
        filter_for_user(Cadre.objects.all(), delegue, "structure")
        .filter(user__isnull=True, coachings__isnull=True)
        .order_by("pk")
        .first()
    )
    if cadre is None:
        return
    coaching = Coaching.objects.create(cadre=cadre, motif=Coaching.Motif.TRANSFORMATION)
    services.propose_shortlist(coaching, coaches[:2], by=delegue)
