"""Demo data of immersion (called by ``manage.py seed_demo`` through the registry): the
demo cadre's request, four months ahead, waiting for the délégué's decision."""

from datetime import timedelta

from dateutil.relativedelta import relativedelta
from django.utils import timezone

from accompagnement.working_days import next_working_day
from cadres.models import Cadre

from . import services
from .models import Immersion


def seed(rng):
    cadre = Cadre.objects.filter(email="cadre@demo.gouv.fr").first()
    if cadre is None or Immersion.objects.filter(cadre=cadre).exists():
        return
    day = next_working_day(timezone.localdate() + relativedelta(months=4))
    days = []
    while len(days) < 4:
        days.append(day)
        day = next_working_day(day + timedelta(days=1))
    services.submit(
        cadre,
        days,
        by=cadre.user,
        motivation="Découvrir le pilotage d'une préfecture avant une mobilité territoriale.",
        projet_professionnel="Rejoindre un poste de secrétaire général de préfecture.",
        structure_accueil="Préfecture de la Gironde",
        lieu="2 esplanade Charles-de-Gaulle, 33000 Bordeaux",
        fonctions_observees="Secrétaire général : coordination des services de l'État, "
        "gestion de crise, relations avec les élus.",
        tuteur_nom="Hélène Garnier",
        tuteur_fonction="Secrétaire générale",
        tuteur_email="helene.garnier@gironde.demo.gouv.fr",
        accueil_representant_nom="Paul Mercier",
        accueil_representant_email="paul.mercier@gironde.demo.gouv.fr",
        employeur_representant_nom="Denise Délégué",
        employeur_representant_email="delegue.interieur@demo.gouv.fr",
        deplacement=True,  # Bordeaux: en mission, an ordre de mission before the first day
    )
