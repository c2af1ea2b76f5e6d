from celery import shared_task

from . import services


@shared_task
def close_finished():
    """Beat (every 6 hours): cohorts past their end date become "terminée"."""
    return services.close_finished()
