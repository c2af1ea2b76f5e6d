"""Immersions for the tests of issue 14's points (start gate, signatories, ordre de
mission, end of immersion), built through the services as in real use."""

from datetime import timedelta

from django.utils import timezone

from accompagnement.working_days import is_working_day
from immersion import services
from immersion.models import Immersion, Signature

S = Immersion.Statut

HR = {
    "partie": "employeur",
    "nom": "Luc Ferrand",
    "fonction": "Responsable des ressources humaines",
    "email": "luc.ferrand@finances.gouv.fr",
}


def working_days(start, count):
    out, day = [], start
    while len(out) < count:
        if is_working_day(day):
            out.append(day)
        day += timedelta(days=1)
    return out


def past_days(count=3, back=20):
    """Working days that started ``back`` days ago (and, for small counts, are over)."""
    return working_days(timezone.localdate() - timedelta(days=back), count)


def future_days(count=3, ahead=120):
    return working_days(timezone.localdate() + timedelta(days=ahead), count)


def request_data(**overrides):
    data = {
        "motivation": "Comprendre le pilotage territorial d'une politique de l'État.",
        "projet_professionnel": "Rejoindre le corps préfectoral.",
        "structure_accueil": "Préfecture de la Gironde",
        "lieu": "2 esplanade Charles-de-Gaulle, 33000 Bordeaux",
        "fonctions_observees": "Directrice de cabinet : gestion de crise, sécurité publique",
        "tuteur_nom": "Hélène Garnier",
        "tuteur_fonction": "Directrice de cabinet",
        "tuteur_email": "helene.garnier@gironde.gouv.fr",
        "tuteur_telephone": "05 56 90 60 60",
        "accueil_representant_nom": "Paul Mercier",
        "accueil_representant_email": "paul.mercier@gironde.gouv.fr",
        "employeur_representant_nom": "Sophie Lemaire",
        "employeur_representant_email": "sophie.lemaire@finances.gouv.fr",
    }
    return {**data, **overrides}


def accepted(cadre, days, delegue=None, signataires=(), **overrides):
    """A request (short notice agreed, so that its days may be close or past)
    accepted by the hierarchy: its convention v1 is in signature."""
    immersion = services.submit(
        cadre,
        days,
        accord_delai_court=True,
        signataires=signataires,
        **request_data(**overrides),
    )
    services.decide(immersion, S.ACCEPTEE, by=delegue)
    immersion.refresh_from_db()
    return immersion


def signatures(immersion):
    return list(immersion.current_convention().signatures.order_by("pk"))


def sign(immersion, *names):
    """Sign the current version as each signatory named (all of them when none)."""
    for signature in signatures(immersion):
        if not signature.signe_le and (not names or signature.nom in names):
            services.sign(signature, signature.nom, "192.0.2.1")
    immersion.refresh_from_db()
    return immersion


def agent_signature(immersion):
    return immersion.current_convention().signatures.get(partie=Signature.Partie.AGENT)
