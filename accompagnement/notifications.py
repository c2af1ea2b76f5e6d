"""The kinds of mail the outbox sends: template and attachments of each."""

from django.conf import settings
from django.urls import reverse

from . import calendar
from .services.outbox import Kind, register_kind
from .services.sessions import CANCELLATION, REMINDER_PREFIX


def _admin_url(obj):
    opts = obj._meta
    return settings.SITE_URL + reverse(
        f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk]
    )


def _ics(cancel):
    memo = "_ics_cancel" if cancel else "_ics_request"

    def attachments(notification, session):
        # Every participant of a session gets the same .ics: the outbox hands the rows
        # of a batch one instance per session, so it is built once per session.
        if memo not in session.__dict__:
            session.__dict__[memo] = calendar.invitation(session, cancel=cancel)
        return [("invitation.ics", session.__dict__[memo], "text/calendar")]

    return attachments


def _session_context(notification, session):
    delay = settings.SESSION_REMINDERS.get(notification.kind.removeprefix(REMINDER_PREFIX))
    return {"session": session, "delai_jours": delay.days if delay else None}


def _demande_context(notification, demande):
    return {
        "demande": demande,
        "admin_url": _admin_url(demande),
        "portal_url": settings.SITE_URL + reverse("portal:demande_detail", args=[demande.pk]),
    }


def _evaluation_context(notification, evaluation):
    return {
        "evaluation": evaluation,
        "url": settings.SITE_URL + reverse("portal:evaluation", args=[evaluation.pk]),
    }


def register_all():
    # One kind per configured delay (settings.SESSION_REMINDERS), resolved by prefix:
    # a delay added later, or rows queued before a delay was removed, still render.
    register_kind(
        REMINDER_PREFIX,
        Kind(
            "accompagnement/email/session_rappel",
            context=_session_context,
            attachments=_ics(cancel=False),
        ),
        prefix=True,
    )
    register_kind(
        CANCELLATION,
        Kind(
            "accompagnement/email/session_annulation",
            context=_session_context,
            attachments=_ics(cancel=True),
        ),
    )
    register_kind("demande_recue", Kind("accompagnement/email/demande_recue", _demande_context))
    for kind in ("demande_echeance_proche", "demande_en_retard"):
        register_kind(kind, Kind("accompagnement/email/demande_echeance", _demande_context))
    register_kind(
        "demande_decision", Kind("accompagnement/email/demande_decision", _demande_context)
    )
    for kind in ("evaluation_demandee", "evaluation_relance"):
        register_kind(kind, Kind("accompagnement/email/evaluation", _evaluation_context))
