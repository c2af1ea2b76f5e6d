from celery import shared_task

from . import services


@shared_task
def remind_silent_relations():
    """Daily beat task: relations without a meeting for 8 weeks (exactly once each)."""
    return services.remind_silent()


@shared_task
def send_health_checks():
    """Daily beat task: the health checks due (30 days after the start, then every 60),
    each written and mailed exactly once."""
    return services.send_health_checks()
