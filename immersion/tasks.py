from celery import shared_task

from . import services
from .models import Immersion


@shared_task
def generate_convention(immersion_id):
    """Render and send for signature the convention of an accepted immersion."""
    convention = services.generate_if_due(immersion_id)
    return convention.version if convention else None


@shared_task
def prepare_pending_conventions():
    """Beat sweep: accepted immersions whose convention task was lost (broker down)."""
    pending = Immersion.objects.filter(statut=Immersion.Statut.ACCEPTEE).exclude(
        conventions__annulee_le__isnull=True, conventions__isnull=False
    )
    return sum(1 for pk in pending.values_list("pk", flat=True) if services.generate_if_due(pk))
