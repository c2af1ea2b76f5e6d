"""The coaching and immersion rights a cohort programme opens to its members.

While the programme runs (between its dates, until it is closed), a member who has
not asked for a right's scheme since the programme started finds, on their portal
home, a link to the request form already set to that scheme and to the programme's
context. The délégué sees on the follow-up page which rights were asked for and what
became of the request. The request itself follows the usual rules (instruction,
decision within the deadline): the right says the scheme is planned for the member,
the délégué still checks the dates and the conditions (immersion days left...).
"""

from urllib.parse import urlencode

from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from accompagnement.models import Demande, Dispositif
from accompagnement.registry import Card

from .models import Cohorte

# Scheme -> the cohort's field that opens it.
RIGHTS = {Dispositif.COACHING: "droit_coaching", Dispositif.IMMERSION: "droit_immersion"}
WORDING = {Dispositif.COACHING: "un coaching", Dispositif.IMMERSION: "une période d'immersion"}


def running(today=None):
    """Cohorts whose rights are open today."""
    today = today or timezone.localdate()
    return Cohorte.objects.filter(date_debut__lte=today, date_fin__gte=today).exclude(
        statut=Cohorte.Statut.TERMINEE
    )


def contexte(cohorte):
    """The request context of a right: the vivier's programme, else a development cycle."""
    if cohorte.origine == Cohorte.Origine.VIVIER:
        return Demande.Contexte.VIVIER
    return Demande.Contexte.CYCLE


def request_url(cohorte, dispositif):
    query = urlencode({"dispositif": dispositif, "contexte": contexte(cohorte)})
    return f"{reverse('portal:demande_create')}?{query}"


def unused(user, today=None):
    """[(cohort, scheme)] the running cohorts of the cadre signed in as ``user`` open
    and that they have not asked for since the cohort started (whatever became of that
    request): two queries at most, whatever the number of cohorts and requests."""
    any_right = Q(droit_coaching=True) | Q(droit_immersion=True)
    cohortes = list(
        running(today).filter(any_right, membres__cadre__user=user).order_by("date_fin", "pk")
    )
    if not cohortes:
        return []
    asked = list(
        Demande.objects.filter(
            cadre__user=user,
            dispositif__in=list(RIGHTS),
            recue_le__date__gte=min(c.date_debut for c in cohortes),
        ).values_list("dispositif", "recue_le")
    )
    found, seen = [], set()
    for cohorte in cohortes:
        for dispositif, field in RIGHTS.items():
            if not getattr(cohorte, field) or dispositif in seen:
                continue
            since = cohorte.date_debut
            if not any(d == dispositif and timezone.localdate(r) >= since for d, r in asked):
                found.append((cohorte, dispositif))
                seen.add(dispositif)  # one invitation per scheme, from the first to end
    return found


def actions_for(user):
    """The portal's pending actions: one per right not asked for yet."""
    return [
        Card(
            dispositif=dispositif,
            titre=f"Demander {WORDING[dispositif]} : votre programme « {cohorte.nom} » "
            "vous y ouvre droit",
            url=request_url(cohorte, dispositif),
            detail=f"jusqu'au {cohorte.date_fin:%d/%m/%Y}",
        )
        for cohorte, dispositif in unused(user)
    ]


def requests_of(cohorte, cadre_ids):
    """{(cadre id, scheme): latest request of a right's scheme since the cohort's start}
    for the follow-up page, in one query."""
    schemes = [d for d, name in RIGHTS.items() if getattr(cohorte, name)]
    latest = {}
    for demande in Demande.objects.filter(
        cadre__in=cadre_ids, dispositif__in=schemes, recue_le__date__gte=cohorte.date_debut
    ).order_by("recue_le", "pk"):
        latest[demande.cadre_id, demande.dispositif] = demande
    return latest
