from celery import shared_task

from . import services


@shared_task
def remind_silent_relations():
    """Daily beat task: relations without a meeting for 8 weeks (exactly once each)."""
    return services.remind_silent()
