from celery import shared_task

from . import services


@shared_task
def remind_expiring_accreditations():
    """Daily beat task: accreditations expiring soon, to the délégués (exactly once)."""
    return services.remind_expiring_accreditations()
