"""The one plug-in point between the shared machinery and the scheme apps.

Each scheme app registers a ``Scheme`` from its ``AppConfig.ready()``: what it offers
for a person (programmes, sessions, pending actions) and how it creates a programme
from an accepted request. ``accompagnement`` and ``cadres`` never import a scheme app;
a fifth scheme is one more app and one more ``register()`` call.
"""

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Card:
    """A line of the portal: a programme, a pending action..."""

    dispositif: str
    titre: str
    statut: str = ""
    url: str = ""
    detail: str = ""


@dataclass(frozen=True)
class Scheme:
    dispositif: str  # a accompagnement.models.Dispositif value
    # Creates the programme of an accepted request; returns the model instance.
    create_programme: Callable | None = None
    # user -> queryset of the scheme's sessions the user takes part in (any date), or a
    # tuple of querysets when the scheme has several session models.
    sessions_for: Callable | None = None
    # user -> list[Card]: the user's programmes in this scheme (bounded queries).
    programmes_for: Callable | None = None
    # user -> list[Card]: what the user has to do (sign, answer...).
    actions_for: Callable | None = None
    session_models: tuple = field(default_factory=tuple)
    # random.Random -> None: adds the scheme's demo data (``manage.py seed_demo``).
    seed_demo: Callable | None = None
    # dashboard.Scope -> list[dashboard.Section]: the scheme's figures for a délégué.
    dashboard: Callable | None = None
    # (user, year) -> list of (structure path, committed, spent): what the scheme spends
    # on external providers within the user's perimeter, by structure (bounded queries).
    external_spending: Callable | None = None
    # Personal data (export, anonymisation, retention): an ``rgpd.schemes.PersonalData``.
    # When None, rgpd uses its own functions for the four schemes (rgpd/schemes.py).
    personal_data: object | None = None
    # cadre -> FileSection: the cadre's programmes and dated steps in this scheme for
    # their file (``parcours``), in a constant number of queries, never confidential
    # content (notes, what is said in a séance, evaluation answers).
    dossier: Callable | None = None


_schemes: dict[str, Scheme] = {}
# Pending actions that do not belong to one scheme (the rights a cohort programme
# opens): user -> list[Card], in a bounded number of queries.
_action_providers: list[Callable] = []


def register(scheme: Scheme):
    _schemes[scheme.dispositif] = scheme
    return scheme


def unregister(dispositif):
    _schemes.pop(dispositif, None)


def get(dispositif) -> Scheme | None:
    return _schemes.get(dispositif)


def all_schemes():
    return list(_schemes.values())


def register_actions(provider):
    if provider not in _action_providers:
        _action_providers.append(provider)
    return provider


def action_providers():
    return list(_action_providers)


def session_querysets(scheme, user):
    """The scheme's session querysets for ``user`` (one per session model)."""
    if not scheme.sessions_for:
        return []
    found = scheme.sessions_for(user)
    return list(found) if isinstance(found, tuple | list) else [found]
