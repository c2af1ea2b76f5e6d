"""Requests for a scheme: submission, instruction, decision, acceptance."""

from datetime import datetime, time, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from cadres.perimeter import delegues_for

from .. import registry
from ..models import Demande
from ..workflow import check_step
from . import outbox

NEAR_DEADLINE = timedelta(days=7)


def _morning(day):
    return timezone.make_aware(datetime.combine(day, time(8, 0)))


DEADLINE_KINDS = ["demande_echeance_proche", "demande_en_retard"]


def _schedule_deadline_reminders(demande):
    """Remind the délégué in charge a week before the deadline and on its morning.

    Reminders for another deadline (corrected reception date) or another délégué are
    cancelled."""
    keep = []
    if demande.delegue is not None:
        for kind, due_at in (
            ("demande_echeance_proche", _morning(demande.echeance) - NEAR_DEADLINE),
            ("demande_en_retard", _morning(demande.echeance)),
        ):
            row = outbox.notify(kind, demande, user=demande.delegue, due_at=due_at)
            if row is not None:
                keep.append(row.pk)
    outbox.cancel(demande, kinds=DEADLINE_KINDS, exclude_ids=keep)


@transaction.atomic
def submit(cadre, *, dispositif, contexte, motivation, by, origine=Demande.Origine.CADRE, **extra):
    """Record a request (from the portal or the admin) and tell the délégué in charge."""
    demande = Demande(
        cadre=cadre,
        dispositif=dispositif,
        contexte=contexte,
        motivation=motivation,
        origine=origine,
        cree_par=by,
        **extra,
    )
    if demande.delegue is None:
        candidates = delegues_for(cadre.structure)
        demande.delegue = candidates[0] if candidates else None
    demande.full_clean()
    demande.save()
    after_save(demande)
    return demande


def after_save(demande):
    """Outbox rows that follow a request's save (admin or portal)."""
    if demande.is_open:
        if demande.delegue:
            # Keyed on the reception: once per délégué, a new one in charge is told too.
            outbox.notify(
                "demande_recue", demande, user=demande.delegue, reference_at=demande.recue_le
            )
        _schedule_deadline_reminders(demande)
    else:
        outbox.cancel(demande, kinds=DEADLINE_KINDS)


def check_decision(demande, statut, motif):
    """Raise a French ValidationError if ``statut`` may not follow the current one."""
    current = Demande.Statut(demande.statut)
    if not check_step(Demande.TRANSITIONS, current, statut, "Une demande"):
        return
    if statut in (Demande.Statut.REFUSEE, Demande.Statut.REPORTEE) and not (motif or "").strip():
        raise ValidationError(
            {
                "motif_decision": (
                    "Indiquez le motif du refus ou du report : il est communiqué au cadre."
                )
            }
        )
    if statut == Demande.Statut.ACCEPTEE:
        scheme = registry.get(demande.dispositif)
        if scheme is None or scheme.create_programme is None:
            raise ValidationError(
                {
                    "statut": "Ce dispositif ne peut pas encore être ouvert depuis une demande : "
                    "aucun module ne le prend en charge."
                }
            )


@transaction.atomic
def decide(demande, statut, motif="", by=None):
    """Move a request along its workflow; accepting it creates the programme."""
    demande = Demande.objects.select_for_update().get(pk=demande.pk)
    check_decision(demande, statut, motif)
    if statut == demande.statut:
        return demande
    demande.statut = statut
    demande.motif_decision = motif.strip()
    if statut in Demande.DECISIONS:
        demande.decidee_par = by
        demande.decidee_le = timezone.now()
    if statut == Demande.Statut.ACCEPTEE:
        programme = registry.get(demande.dispositif).create_programme(demande, by)
        demande.programme = programme
    demande.save()
    after_save(demande)
    if statut in Demande.DECISIONS:
        outbox.notify(
            "demande_decision",
            demande,
            user=demande.cadre.user,
            email=demande.cadre.email,
            reference_at=demande.decidee_le,
            context={"statut": demande.get_statut_display(), "motif": demande.motif_decision},
        )
    return demande
