"""Sign-in hardening helpers."""


def attempted_username(request, credentials=None):
    """The account a sign-in attempt is for, as django-axes counts it: allauth
    authenticates with ``email``, its form posts ``login``, the admin ``username``."""
    credentials = credentials or {}
    value = credentials.get("email") or credentials.get("username")
    if not value and request is not None:
        data = getattr(request, "POST", {})
        value = data.get("login") or data.get("username")
    return (value or "").strip().lower() or None
