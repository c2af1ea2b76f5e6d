from celery import shared_task

from .services import outbox


@shared_task
def send_due_notifications():
    """Beat sweep (every minute) and post-commit kick: send what the outbox has due."""
    total = 0
    while True:
        claimed, sent = outbox.send_due()
        total += sent
        if claimed < outbox.BATCH_SIZE:
            return total
