"""Mails of the immersion paperwork (templates in immersion/templates/immersion/email/)."""


def register_all():
    """Filled by the notifications work: each kind used in services.py gets a Kind."""
