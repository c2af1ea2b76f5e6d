"""iCalendar (RFC 5545) for sessions: personal feeds and mail invitations."""

from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from icalendar import Calendar, Event, vCalAddress, vText

from . import registry
from .models import Dispositif, Mode

FEED_PAST = timedelta(days=90)
FEED_LIMIT = 500  # per scheme


def _calendar(method=None):
    cal = Calendar()
    cal.add("prodid", f"-//{settings.PRODUCT_NAME}//FR")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", settings.PRODUCT_NAME)
    cal.add("x-wr-timezone", settings.TIME_ZONE)
    if method:
        cal.add("method", method)
    return cal


def event_for(session, cancelled=False):
    event = Event()
    event.add("uid", session.ics_uid())
    event.add("dtstamp", timezone.now())
    event.add("dtstart", session.debut)
    event.add("dtend", session.fin)
    event.add("sequence", session.sequence + (1 if cancelled else 0))
    event.add("summary", session.titre_agenda())
    event.add("categories", [Dispositif(session.dispositif).label])
    if session.mode == Mode.DISTANCIEL and session.lien_visio:
        event.add("location", vText(session.lien_visio))
        event.add("url", session.lien_visio)
    elif session.lieu:
        event.add("location", vText(session.lieu))
    cancelled = cancelled or session.statut == session.Statut.ANNULEE
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    for user in session.participants():
        attendee = vCalAddress(f"mailto:{user.email}")
        attendee.params["cn"] = vText(user.get_full_name() or user.email)
        event.add("attendee", attendee)
    return event


def invitation(session, cancel=False):
    """The .ics attached to a reminder (REQUEST) or a cancellation (CANCEL)."""
    cal = _calendar("CANCEL" if cancel else "REQUEST")
    organizer = vCalAddress(f"mailto:{settings.DEFAULT_FROM_EMAIL.split('<')[-1].strip('>')}")
    organizer.params["cn"] = vText(settings.PRODUCT_NAME)
    event = event_for(session, cancelled=cancel)
    event.add("organizer", organizer)
    cal.add_component(event)
    return cal.to_ical()


def sessions_of(user, since=None):
    since = since or timezone.now() - FEED_PAST
    sessions = []
    for scheme in registry.all_schemes():
        for qs in registry.session_querysets(scheme, user):
            # Ordered, so that the limit keeps the nearest sessions, not any 500.
            qs = qs.filter(debut__gte=since).order_by("debut")
            sessions += list(qs[:FEED_LIMIT])
    return sorted(sessions, key=lambda s: s.debut)


def feed(user):
    cal = _calendar("PUBLISH")
    for session in sessions_of(user):
        cal.add_component(event_for(session))
    return cal.to_ical()
