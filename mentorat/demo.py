"""Demo data of mentoring (called by ``manage.py seed_demo`` through the registry)."""

from datetime import datetime, time, timedelta

from django.utils import timezone

from accompagnement.models import Mode, Session
from cadres.models import Cadre, Structure, User

from . import services
from .models import Campagne, Domaine, Mentor, Mentorat, Mentore, Rencontre

DOMAINES = [
    ("management", "Management d'équipes"),
    ("transformation", "Conduite de la transformation"),
    ("budget", "Finances publiques et budget"),
    ("numerique", "Transformation numérique"),
    ("territoires", "Action territoriale"),
    ("crise", "Gestion de crise"),
    ("europe", "Affaires européennes et internationales"),
    ("rh", "Ressources humaines"),
]

# email, prénom, nom, ville, expérience, capacité, domaines
MENTORS = [
    (
        "helene.marchand@mentorat.demo.gouv.fr",
        "Hélène",
        "Marchand",
        "Paris",
        22,
        3,
        ["management", "transformation", "rh"],
    ),
    (
        "jacques.lefort@mentorat.demo.gouv.fr",
        "Jacques",
        "Lefort",
        "Lyon",
        18,
        2,
        ["territoires", "crise"],
    ),
    (
        "sophie.bertin@mentorat.demo.gouv.fr",
        "Sophie",
        "Bertin",
        "Paris",
        15,
        2,
        ["numerique", "budget"],
    ),
    (
        "nadia.roux@mentorat.demo.gouv.fr",
        "Nadia",
        "Roux",
        "Bordeaux",
        25,
        1,
        ["europe", "management"],
    ),
]


def seed(rng):
    domaines = {
        code: Domaine.objects.get_or_create(code=code, defaults={"libelle": libelle})[0]
        for code, libelle in DOMAINES
    }
    mentors = []
    for email, prenom, nom, ville, experience, capacite, codes in MENTORS:
        mentor, created = Mentor.objects.get_or_create(
            email=email,
            defaults={
                "civilite": Cadre.Civilite.MADAME if prenom[-1] == "e" else Cadre.Civilite.MONSIEUR,
                "prenom": prenom,
                "nom": nom,
                "ville": ville,
                "annees_experience": experience,
                "capacite": capacite,
                "fonction": "Ancien(ne) directeur(rice) d'administration centrale",
            },
        )
        if created:
            mentor.domaines.set([domaines[c] for c in codes])
        mentors.append(mentor)

    # The demo mentor is a senior cadre of the Économie ministry, with an account.
    marc_user = User.objects.filter(email="mentor@demo.gouv.fr").first()
    marc_cadre = Cadre.objects.filter(email="mentor@demo.gouv.fr").first()
    if marc_user and marc_cadre:
        marc, created = Mentor.objects.get_or_create(
            email="mentor@demo.gouv.fr",
            defaults={
                "civilite": marc_cadre.civilite,
                "prenom": marc_cadre.prenom,
                "nom": marc_cadre.nom,
                "cadre": marc_cadre,
                "user": marc_user,
                "structure": marc_cadre.structure,
                "fonction": marc_cadre.fonction,
                "ville": "Paris",
                "annees_experience": 20,
                "capacite": 3,
            },
        )
        if created:
            marc.domaines.set([domaines["management"], domaines["budget"], domaines["crise"]])
        _demo_relation(marc, domaines)

    # Waiting mentees in both ministries, and a campaign to review for the Intérieur.
    waiting = list(
        Cadre.objects.filter(user__isnull=True, mentore__isnull=True, mentor__isnull=True).order_by(
            "pk"
        )[:16:2]
    )
    for cadre in waiting:
        mentore = Mentore.objects.create(
            cadre=cadre,
            contexte=rng.choice(Mentore.Contexte.values),
            objectifs="Prendre du recul sur ma pratique managériale.",
            annees_experience=rng.randint(0, 6),
            ville=rng.choice(["Paris", "Lyon", "Bordeaux"]),
            mode_souhaite=rng.choice(Mentore.ModeSouhaite.values),
            en_attente_depuis=timezone.now() - timedelta(days=rng.randint(3, 90)),
        )
        mentore.besoins.set(rng.sample(list(domaines.values()), 2))
    interieur = Structure.objects.filter(parent__isnull=True, nom__icontains="Intérieur").first()
    if interieur and not Campagne.objects.exists():
        campagne = Campagne.objects.create(nom="Campagne d'automne – Intérieur")
        campagne.structures.set([interieur])
        services.compute(campagne)


def _demo_relation(marc, domaines):
    """The demo cadre is mentored by Marc: two meetings held, one planned."""
    cadre = Cadre.objects.filter(email="cadre@demo.gouv.fr").first()
    if cadre is None or Mentorat.objects.filter(mentore=cadre).exists():
        return
    today = timezone.localdate()
    mentore = Mentore.objects.create(
        cadre=cadre,
        contexte=Mentore.Contexte.PRISE_DE_POSTE,
        objectifs="Réussir ma prise de poste de sous-directeur.",
        statut=Mentore.Statut.ACCOMPAGNE,
        annees_experience=2,
        ville="Paris",
    )
    mentore.besoins.set([domaines["management"], domaines["crise"]])
    now = timezone.now()
    mentorat = Mentorat.objects.create(
        mentor=marc,
        mentore=cadre,
        contexte=Mentore.Contexte.PRISE_DE_POSTE,
        objectifs=mentore.objectifs,
        statut=Mentorat.Statut.EN_COURS,
        charte_mentor_le=now - timedelta(days=60),
        charte_mentore_le=now - timedelta(days=59),
        date_debut=today - timedelta(days=56),
        date_fin_prevue=today + timedelta(days=218),
    )
    for days_ago in (45, 15):
        day = today - timedelta(days=days_ago)
        Rencontre.objects.create(
            mentorat=mentorat,
            debut=timezone.make_aware(datetime.combine(day, time(12, 30))),
            duree=75,
            mode=Mode.PRESENTIEL,
            lieu="Bercy, bâtiment Colbert",
            statut=Session.Statut.REALISEE,
            saisie_par=marc.user,
        )
    Rencontre.objects.create(
        mentorat=mentorat,
        debut=timezone.make_aware(datetime.combine(today + timedelta(days=12), time(12, 30))),
        duree=60,
        mode=Mode.DISTANCIEL,
        lien_visio="https://webconf.numerique.gouv.fr/mentorat-demo",
        saisie_par=marc.user,
    )
    # Past day 30: its first health check is out, as the daily beat task would do.
    services.send_health_checks()
