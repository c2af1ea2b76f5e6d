"""Demo data of co-development (called by ``manage.py seed_demo`` through the registry)."""

from datetime import time, timedelta

from django.utils import timezone

from cadres.models import Cadre, Structure, User

from . import services
from .models import Groupe


def seed(rng):
    animateur = User.objects.filter(email="animateur@demo.gouv.fr").first()
    ministry = Structure.objects.filter(sigle="MIOM").first()
    if animateur is None or ministry is None or Groupe.objects.filter(animateur=animateur).exists():
        return
    today = timezone.localdate()
    groupe = Groupe.objects.create(
        nom="Codéveloppement des sous-directeurs 2026-2027",
        theme="Conduire le changement dans son service",
        structure=ministry,
        animateur=animateur,
        lieu="Place Beauvau, salle Lépine",
        date_debut=today + timedelta(days=7),
        date_fin=today + timedelta(days=7 + 30 * 7),
        rythme_semaines=3,
        nb_seances_cible=6,
        heure=time(14, 0),
    )
    cadres = list(
        Cadre.objects.filter(structure__chemin__startswith=ministry.chemin)
        .exclude(email="mentor@demo.gouv.fr")
        .order_by("email")[:6]
    )
    demo = Cadre.objects.filter(email="cadre@demo.gouv.fr").first()
    if demo and demo not in cadres:
        cadres[-1] = demo
    for cadre in cadres:
        services.add_member(groupe, cadre, on=today)
    services.generate_cycle(groupe)
