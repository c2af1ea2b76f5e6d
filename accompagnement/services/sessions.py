"""Keeps each session's reminders in the outbox in step with the session itself."""

from django.conf import settings
from django.utils import timezone

from . import outbox

REMINDER_PREFIX = "session_rappel_"
CANCELLATION = "session_annulation"


def reminder_kinds():
    return {f"{REMINDER_PREFIX}{name}": delay for name, delay in settings.SESSION_REMINDERS.items()}


def sync_session_notifications(session):
    """Called on every save of a session, inside its transaction.

    A planned session has one reminder per delay (settings.SESSION_REMINDERS) and per
    participant; a new time or new participants replace the pending ones; a cancelled
    session loses them and each participant gets one cancellation (with its .ics).
    """
    kinds = reminder_kinds()
    now = timezone.now()
    keep = []
    if session.is_active:
        for user in session.participants():
            for kind, delay in kinds.items():
                due_at = session.debut - delay
                if due_at > now:
                    row = outbox.notify(kind, session, user=user, due_at=due_at)
                    if row is not None:
                        keep.append(row.pk)
    # By prefix: reminders of a delay no longer configured go too.
    outbox.cancel(session, kind_prefix=REMINDER_PREFIX, exclude_ids=keep)
    if session.statut == session.Statut.ANNULEE and session.debut > now:
        for user in session.participants():
            # Keyed on the cancelled start: one cancellation per planned time.
            outbox.notify(CANCELLATION, session, user=user, reference_at=session.debut)
