"""The outbox: notifications are rows written in the transaction of the change that
causes them; ``send_due()`` (a beat task) sends them.

Exactly once: the unique key (kind, object, recipient, due date) forbids a second
row for the same reminder; a row is marked sent as soon as its message has left, so a
sweep running twice, or a worker restarted after a crash, does not resend it. Rows a
dead worker had claimed but not sent go back to the queue after CLAIM_TIMEOUT. (A
worker killed between a message leaving and its row being marked resends that one
message later: at most the few in flight; their stable Message-ID lets mail clients
drop the copy.) A row whose mail fails is retried by later sweeps (after RETRY_DELAY,
doubled at each attempt) and marked failed after MAX_ATTEMPTS.

Messages go out over a few SMTP connections at once (OUTBOX_SMTP_CONNECTIONS), in
threads that only talk SMTP: waiting for the mail server then overlaps rendering the
next messages, which stays in the sweep's thread with every database write.
"""

import logging
import queue
from collections import defaultdict
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.mail import get_connection
from django.db import IntegrityError, transaction
from django.db import connection as db_connection
from django.db.models import F
from django.utils import timezone

from cadres.mail import build_mail
from cadres.services import enqueue

from ..models import Notification

logger = logging.getLogger(__name__)

CLAIM_TIMEOUT = timedelta(minutes=15)
MAX_ATTEMPTS = 5
BATCH_SIZE = 200
RETRY_DELAY = timedelta(minutes=5)


@dataclass(frozen=True)
class Kind:
    """How a kind of notification becomes a mail."""

    template: str  # "accompagnement/email/<name>" pair of .txt/.html + _subject.txt
    # (notification, target) -> extra template context
    context: callable = None
    # (notification, target) -> list of (filename, content, mimetype)
    attachments: callable = None


_kinds: dict[str, Kind] = {}
_prefixed_kinds: dict[str, Kind] = {}


def register_kind(name, kind: Kind, prefix=False):
    """Register a kind; with ``prefix``, every kind whose name starts with ``name``
    (e.g. the session reminders, one kind per configured delay)."""
    (_prefixed_kinds if prefix else _kinds)[name] = kind


def kind_for(name) -> Kind:
    if name in _kinds:
        return _kinds[name]
    for prefix, kind in _prefixed_kinds.items():
        if name.startswith(prefix):
            return kind
    raise KeyError(f"Unknown notification kind: {name}")


def notify(kind, target, user=None, email=None, due_at=None, reference_at=None, context=None):
    """Write one outbox row (idempotent). Call inside the transaction of the change.

    ``reference_at`` (default: ``due_at``) is the date the notification is about;
    a second call with the same kind, target, recipient and reference is a no-op.
    """
    email = (email or getattr(user, "email", "")).lower()
    if not email:
        return None
    due_at = due_at or timezone.now()
    key = {
        "kind": kind,
        "object_type": ContentType.objects.get_for_model(target),
        "object_id": target.pk,
        "email": email,
        "reference_at": reference_at or due_at,
    }
    try:
        with transaction.atomic():
            row, created = Notification.objects.get_or_create(
                **key, defaults={"recipient": user, "context": context or {}, "due_at": due_at}
            )
    except IntegrityError:  # a concurrent writer got there first
        return Notification.objects.get(**key)
    if not created and row.statut == Notification.Statut.ANNULEE:
        row.statut = Notification.Statut.EN_ATTENTE
        row.save(update_fields=["statut"])
    if due_at <= timezone.now():
        kick()
    return row


def cancel(target, kinds=None, exclude_ids=(), kind_prefix=None):
    """Cancel the pending rows of an object (all kinds, those given, or those whose
    name starts with ``kind_prefix``)."""
    qs = Notification.objects.filter(
        object_type=ContentType.objects.get_for_model(target),
        object_id=target.pk,
        statut=Notification.Statut.EN_ATTENTE,
    ).exclude(pk__in=exclude_ids)
    if kinds:
        qs = qs.filter(kind__in=kinds)
    if kind_prefix:
        qs = qs.filter(kind__startswith=kind_prefix)
    return qs.update(statut=Notification.Statut.ANNULEE)


def kick():
    """Ask a worker to send now what is due (after commit; the beat sweep is the net)."""
    from ..tasks import send_due_notifications

    enqueue(send_due_notifications)


def release_stale_claims(now=None):
    now = now or timezone.now()
    return Notification.objects.filter(
        statut=Notification.Statut.ENVOI, claimed_at__lt=now - CLAIM_TIMEOUT
    ).update(statut=Notification.Statut.EN_ATTENTE, claimed_at=None)


def _claim(batch_size, now):
    with transaction.atomic():
        rows = list(
            Notification.objects.due(now)
            .select_for_update(skip_locked=True, of=("self",))
            .select_related("object_type", "recipient")
            .order_by("due_at", "pk")[:batch_size]
        )
        Notification.objects.filter(pk__in=[r.pk for r in rows]).update(
            statut=Notification.Statut.ENVOI, claimed_at=now, attempts=F("attempts") + 1
        )
    return rows


def _load_targets(rows):
    """Fetch the batch's targets in one query per model, with what their mails read
    (a session's participants), instead of several queries per row."""
    by_type = defaultdict(list)
    for row in rows:
        by_type[row.object_type].append(row)
    cache = Notification._meta.get_field("target")
    for content_type, group in by_type.items():
        model = content_type.model_class()
        if model is None:  # a model removed since: rendering these rows fails, alone
            continue
        queryset = model._base_manager.filter(pk__in={row.object_id for row in group})
        if hasattr(model, "with_participants"):
            queryset = model.with_participants(queryset)
        targets = queryset.in_bulk()
        for row in group:
            if row.object_id in targets:
                cache.set_cached_value(row, targets[row.object_id])


def render(notification):
    kind = kind_for(notification.kind)
    target = notification.target
    context = {"notification": notification, "target": target, **notification.context}
    if kind.context:
        context.update(kind.context(notification, target))
    message = build_mail(kind.template, context, to=notification.email)
    # A stable Message-ID lets mail clients drop a copy resent after a crash.
    message.extra_headers["Message-ID"] = (
        f"<notification-{notification.pk}@{settings.SITE_URL.split('//')[-1]}>"
    )
    for filename, content, mimetype in (
        kind.attachments(notification, target) if kind.attachments else ()
    ):
        message.attach(filename, content, mimetype)
    return message


class _Connections:
    """Up to ``size`` SMTP connections shared by the sending threads: a thread takes
    an idle one or opens another; a connection that failed is dropped, not reused."""

    def __init__(self, size):
        self.size = size
        self.idle = queue.SimpleQueue()
        self.opened = []

    def open(self):
        connection = get_connection()
        connection.open()
        self.opened.append(connection)
        return connection

    def send(self, message):
        try:
            connection = self.idle.get_nowait()
        except queue.Empty:
            connection = self.open()
        message.connection = connection
        try:
            message.send()
        except Exception:
            connection.close()
            raise
        self.idle.put(connection)

    def close(self):
        for connection in self.opened:
            connection.close()


def _sent(rows):
    # One statement per message sent or so: written in SQL, as the ORM's compilation
    # of the same UPDATE costs more than the database does (the sweep's budget is
    # 10,000 reminders in 30 s).
    table = Notification._meta.db_table
    placeholders = ", ".join(["%s"] * len(rows))
    with db_connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET statut = %s, sent_at = %s WHERE id IN ({placeholders})",
            [Notification.Statut.ENVOYEE, timezone.now(), *(row.pk for row in rows)],
        )


def _failed(row, exc, now):
    logger.error("Notification %s failed: %r", row.pk, exc, exc_info=exc)
    attempts = row.attempts + 1  # counted by the claim
    failed = attempts >= MAX_ATTEMPTS
    Notification.objects.filter(pk=row.pk).update(
        statut=Notification.Statut.ECHEC if failed else Notification.Statut.EN_ATTENTE,
        claimed_at=None,
        last_error=str(exc)[:2000],
        # Retried by a later sweep, not by the next batch of this one (a short outage
        # would spend every attempt in seconds).
        due_at=now + RETRY_DELAY * 2 ** (attempts - 1),
    )


def send_due(batch_size=None, now=None):
    """Send one batch of due rows; returns (claimed, sent)."""
    batch_size = batch_size or BATCH_SIZE
    now = now or timezone.now()
    release_stale_claims(now)
    rows = _claim(batch_size, now)
    if not rows:
        return 0, 0
    _load_targets(rows)
    connections = _Connections(max(1, settings.OUTBOX_SMTP_CONNECTIONS))
    try:
        connections.idle.put(connections.open())
    except Exception:
        # Mail server down: give the rows back at once, the next sweep retries. The
        # outage is not the rows' fault: it spends none of their attempts.
        Notification.objects.filter(pk__in=[r.pk for r in rows]).update(
            statut=Notification.Statut.EN_ATTENTE, claimed_at=None, attempts=F("attempts") - 1
        )
        raise
    sent = 0
    in_flight = {}  # future -> row
    killed = None  # a BaseException (the worker stopping) met in a sending thread

    def settle(futures):
        """Record what the finished sends did: the rows sent, marked at once."""
        nonlocal sent, killed
        done = []
        for future in futures:
            row = in_flight.pop(future)
            exc = future.exception()
            if exc is None:
                done.append(row)
            elif isinstance(exc, Exception):  # one bad row must not block the others
                _failed(row, exc, now)
            else:
                killed = killed or exc
        if done:
            _sent(done)
            sent += len(done)

    with ThreadPoolExecutor(connections.size, thread_name_prefix="smtp") as pool:
        try:
            for row in rows:
                if killed:
                    break
                try:
                    message = render(row)
                except Exception as exc:
                    _failed(row, exc, now)
                    continue
                in_flight[pool.submit(connections.send, message)] = row
                if len(in_flight) >= connections.size:
                    settle(wait(in_flight, return_when=FIRST_COMPLETED).done)
            settle(wait(in_flight).done)
        finally:
            connections.close()
    if killed:
        raise killed
    return len(rows), sent
