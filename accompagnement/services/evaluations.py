"""End-of-programme evaluations: asked when a programme ends, answered in the portal."""

from datetime import timedelta

from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import Avg, Count, Q
from django.utils import timezone

from ..models import Dispositif, Evaluation
from . import outbox

RELANCE_AFTER = timedelta(days=7)
# Below this many answers a figure could point at one person: it is not shown.
MIN_ANSWERS = 3


@transaction.atomic
def request_evaluations(programme, *, dispositif, cadre, participants):
    """One questionnaire per participant (idempotent), a mail now and a reminder later."""
    content_type = ContentType.objects.get_for_model(programme)
    created = []
    for user in participants:
        evaluation, is_new = Evaluation.objects.get_or_create(
            programme_type=content_type,
            programme_id=programme.pk,
            participant=user,
            defaults={"dispositif": dispositif, "cadre": cadre},
        )
        if is_new:
            outbox.notify("evaluation_demandee", evaluation, user=user)
            outbox.notify(
                "evaluation_relance",
                evaluation,
                user=user,
                due_at=evaluation.demandee_le + RELANCE_AFTER,
            )
            created.append(evaluation)
    return created


@transaction.atomic
def answer(evaluation, *, satisfaction, objectifs_atteints, commentaire=""):
    evaluation.satisfaction = satisfaction
    evaluation.objectifs_atteints = objectifs_atteints
    evaluation.commentaire = commentaire
    evaluation.remplie_le = timezone.now()
    evaluation.full_clean()
    evaluation.save()
    outbox.cancel(evaluation, kinds=["evaluation_relance"])
    return evaluation


def aggregates(queryset):
    """Per scheme: answers, average satisfaction, share of objectives reached. No
    individual answer leaves this function."""
    rows = (
        queryset.filter(remplie_le__isnull=False)
        .values("dispositif")
        .annotate(
            reponses=Count("pk"),
            satisfaction=Avg("satisfaction"),
            atteints=Count("pk", filter=Q(objectifs_atteints=Evaluation.Objectifs.OUI)),
            partiels=Count("pk", filter=Q(objectifs_atteints=Evaluation.Objectifs.PARTIELLEMENT)),
        )
        .order_by("dispositif")
    )
    result = []
    for row in rows:
        masked = row["reponses"] < MIN_ANSWERS
        if masked:
            row.update(satisfaction=None, atteints=None, partiels=None)
        result.append({**row, "label": Dispositif(row["dispositif"]).label, "masque": masked})
    return result
