"""What immersion offers the shared machinery (registered in ImmersionConfig.ready)."""

from django.urls import reverse

from accompagnement.models import Dispositif
from accompagnement.registry import Card, Scheme

from . import demo, figures
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


SCHEME = Scheme(
    dispositif=Dispositif.IMMERSION,
    programmes_for=programmes_for,
    actions_for=actions_for,
    seed_demo=demo.seed,
    dashboard=figures.sections,
)
