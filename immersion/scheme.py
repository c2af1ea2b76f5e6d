"""What immersion offers the shared machinery (registered in ImmersionConfig.ready)."""

from django.urls import reverse
from django.utils import timezone

from accompagnement.file_sections import FileSection, Programme, Step, as_date
from accompagnement.models import Dispositif
from accompagnement.registry import Card, Scheme

from . import demo, figures, rules, services
from .models import Immersion, Signature


def programmes_for(user):
    immersions = (
        Immersion.objects.filter(cadre__user=user)
        .exclude(statut=Immersion.Statut.ANNULEE)
        .prefetch_related("jours")
        .order_by("-recue_le")
    )
    return [
        Card(
            dispositif=Dispositif.IMMERSION,
            titre=f"Immersion – {i.structure_accueil}",
            statut=i.get_statut_display(),
            url=reverse("immersion:detail", args=[i.pk]),
            detail=f"{len(i.dates)} jour(s) ouvré(s)",
        )
        for i in immersions
    ]


def actions_for(user):
    """The agent has a convention to sign."""
    pending = Signature.objects.filter(
        convention__immersion__cadre__user=user,
        partie=Signature.Partie.AGENT,
        signe_le__isnull=True,
        convention__annulee_le__isnull=True,
    ).select_related("convention__immersion")
    return [
        Card(
            dispositif=Dispositif.IMMERSION,
            titre="Signer la convention d'immersion",
            url=reverse("immersion:detail", args=[s.convention.immersion_id]),
            detail=s.convention.immersion.structure_accueil,
        )
        for s in pending
    ]


def _days_label(days):
    if not days:
        return ""
    if len(days) == 1:
        return f"le {days[0]:%d/%m/%Y}"
    return f"du {days[0]:%d/%m/%Y} au {days[-1]:%d/%m/%Y}"


def dossier(cadre):
    """The cadre's immersions for their file: host, status, days, the decision's delay,
    and the days used and left in the current 3-year window (the décret's ceiling, as
    the request form counts them). Three queries, whatever the history."""
    immersions = (
        Immersion.objects.filter(cadre=cadre).prefetch_related("jours").order_by("recue_le", "pk")
    )
    programmes, etapes = [], []
    for immersion in immersions:
        days = sorted(immersion.dates)
        titre = f"Immersion – {immersion.structure_accueil}"
        chiffres = [("Jours ouvrés", str(len(days)))]
        if immersion.realisation:
            chiffres.append(("Réalisation", immersion.get_realisation_display()))
        programmes.append(
            Programme(
                dispositif=Dispositif.IMMERSION,
                titre=titre,
                statut=immersion.get_statut_display(),
                periode=_days_label(days),
                chiffres=tuple(chiffres),
            )
        )
        detail = ""
        if immersion.decidee_le:
            decided = as_date(immersion.decidee_le)
            delay = (decided - immersion.recue_le).days
            detail = f"décidée le {decided:%d/%m/%Y}, {delay} jour(s) après la demande"
        etapes.append(
            Step(immersion.recue_le, Dispositif.IMMERSION, f"Demande d'immersion : {titre}", detail)
        )
        if days and immersion.statut not in Immersion.NOT_COUNTING:
            etapes.append(
                Step(
                    days[0],
                    Dispositif.IMMERSION,
                    f"{titre} : {len(days)} jour(s)",
                    _days_label(days),
                )
            )
    used = rules.days_in_window(services.other_days(cadre), timezone.localdate())
    chiffres = (
        ("Jours utilisés ou prévus sur la période de 3 ans en cours", str(len(used))),
        (
            f"Jours restants sur le plafond de {rules.PLAFOND_JOURS}",
            str(max(rules.PLAFOND_JOURS - len(used), 0)),
        ),
    )
    return FileSection(Dispositif.IMMERSION, programmes, etapes, chiffres)


SCHEME = Scheme(
    dispositif=Dispositif.IMMERSION,
    programmes_for=programmes_for,
    actions_for=actions_for,
    seed_demo=demo.seed,
    dashboard=figures.sections,
    dossier=dossier,
)
