import logging

from celery import shared_task

from . import services

logger = logging.getLogger(__name__)


@shared_task
def apply_retention():
    """Daily (beat): the retention sweep; running it twice changes nothing more."""
    report = services.apply_retention()
    logger.info("Conservation RGPD : %s", report)
    return {**report, "limite": report["limite"].isoformat()}
