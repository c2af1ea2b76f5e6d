"""Mail backends that misbehave on purpose, for the outbox's failure tests.

They deliver to ``django.core.mail.outbox`` like the locmem backend; ``state`` (reset
by the ``misbehaving_mail`` fixture) says how to misbehave.
"""

import smtplib
import threading

from django.core.mail.backends.locmem import EmailBackend

state = {}


def reset():
    state.clear()
    state.update(
        {
            "calls": 0,  # messages handed to any backend below
            "die_at": None,  # 1-based message number that kills the worker
            "refused": set(),  # addresses the server refuses
            "open_error": None,  # exception raised when opening the connection
            "started": threading.Event(),  # a message reached the backend
            "release": threading.Event(),  # lets a blocked send go on
        }
    )


reset()


class DyingBackend(EmailBackend):
    """The worker process is killed while sending message number ``die_at``:
    ``SystemExit`` is no ``Exception``, nothing in the sweep catches it."""

    def send_messages(self, messages):
        for message in messages:
            state["calls"] += 1
            if state["calls"] == state["die_at"]:
                raise SystemExit("worker killed")
            super().send_messages([message])
        return len(messages)


class RefusingBackend(EmailBackend):
    """An SMTP server refusing some recipients (550), or down altogether."""

    def open(self):
        if state["open_error"] is not None:
            raise state["open_error"]
        return super().open()

    def send_messages(self, messages):
        for message in messages:
            state["calls"] += 1
            refused = {a: (550, b"5.1.1 User unknown") for a in message.to if a in state["refused"]}
            if refused:
                raise smtplib.SMTPRecipientsRefused(refused)
            super().send_messages([message])
        return len(messages)


class BlockingBackend(EmailBackend):
    """A slow SMTP server: the first message waits for ``release`` (another sweep
    runs meanwhile)."""

    def send_messages(self, messages):
        state["calls"] += len(messages)
        state["started"].set()
        if not state["release"].wait(timeout=10):
            raise RuntimeError("never released")
        return super().send_messages(messages)
