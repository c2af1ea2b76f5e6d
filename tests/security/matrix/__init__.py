"""The permission matrix: what every role gets from every URL of the project.

Roles (columns, built in ``tests/security/world.py``)
-----------------------------------------------------
``anonymous``        nobody signed in.
``cadre``            a cadre of perimeter A with one of everything: a request, an
                     evaluation, a coaching (with ``coach``), a mentoring (with ``mentor``),
                     a co-development group (run by ``animateur``), an immersion.
``other_cadre``      a cadre of perimeter B with the same, with the "other" people.
``coach``            the cadre's coach; ``other_coach`` coaches the other cadre.
``mentor``           the cadre's mentor.
``animateur``        runs the cadre's group; ``other_animateur`` runs the other group.
``tutor``            no account: holds only a signature / feedback link of the cadre's
                     immersion (its client is never signed in).
``delegue``          délégué of perimeter A (TOTP set up); ``other_delegue`` of B.
``admin``            national administrator (TOTP set up).

Answers (cells)
---------------
``OK`` (200), ``LOGIN`` (302 to ``/compte/login/`` or ``/admin/login/``), ``FORBIDDEN``
(403), ``NOT_FOUND`` (404), ``NOT_ALLOWED`` (405), ``REDIRECT`` (302 anywhere else: an
action done, or refused with a message), ``DONE`` (an action handled: 200 or 400 with the
form's errors, or ``REDIRECT``). In the portal an object of someone else is ``NOT_FOUND``, never
``FORBIDDEN``: a 403 would tell that the id exists. ``FORBIDDEN`` is for pages a role may
not use at all (no object in the URL).

Adding a row
------------
Rows live in one module per app (``portal.py``, ``coaching.py`` ...). Add a ``Row`` to
that module's ``ROWS``::

    Row("coaching:detail", {"pk": "coaching"}, only(cadre=OK, coach=OK)),

- the URL name (``namespace:name``; an unnamed pattern is keyed by its full route,
  ``route_key()``, and its row gives ``url=lambda world: "/the/path/"``);
- the URL's kwargs: a dict whose string values name attributes of the world
  (``"coaching"`` is ``world.coaching``, whose ``pk`` is used), or a function
  ``world -> kwargs`` for anything else (literal strings included);
- the expected answer per role: ``only(**allowed)`` (the others get ``NOT_FOUND``, or
  ``other=``), ``everyone(answer, **overrides)``; anonymous and tutor get ``LOGIN``
  unless said otherwise;
- ``method="post"`` for actions (the request is rolled back after each role), a
  ``variant`` label when a URL has several rows (own object, someone else's...).

Admin pages of every registered ``ModelAdmin`` (list, add, change, history, delete,
exports) are generated from ``admin.site._registry`` by ``admin.py`` using its
``ACCESS`` table: a new model needs one line there. Custom admin views (``get_urls``)
need a hand-written row in their app's module. ``test_every_url_has_a_row`` fails on any
URL pattern without a row and lists them.
"""

from dataclasses import dataclass, field
from typing import Any

from tests.security.world import ROLES

OK = 200
FORBIDDEN = 403
NOT_FOUND = 404
NOT_ALLOWED = 405
LOGIN = "login"
REDIRECT = "redirect"
DONE = "done"  # 200 (form with errors) or REDIRECT: the action was handled


def everyone(answer, anonymous=LOGIN, tutor=None, **overrides):
    """The same answer for every role; anonymous and tutor get ``anonymous``."""
    unknown = set(overrides) - set(ROLES)
    assert not unknown, f"unknown roles {unknown}"
    cells = dict.fromkeys(ROLES, answer)
    cells["anonymous"] = anonymous
    cells["tutor"] = anonymous if tutor is None else tutor
    cells.update(overrides)
    return cells


def only(other=NOT_FOUND, **allowed):
    """Signed-in roles get ``other`` except those listed; anonymous: sign-in."""
    return everyone(other, **allowed)


def public(answer=OK, **overrides):
    """The same answer for everyone, signed in or not."""
    return everyone(answer, anonymous=answer, **overrides)


@dataclass(frozen=True)
class Row:
    name: str
    kwargs: Any = field(default_factory=dict)
    expect: dict = field(default_factory=dict)
    method: str = "get"
    variant: str = ""
    data: Any = None
    query: str = ""
    url: Any = None  # world -> path, for unnamed patterns (``name`` is then their route key)

    @property
    def id(self):
        suffix = f"[{self.variant}]" if self.variant else ""
        return f"{self.method.upper()} {self.name}{suffix}"

    def path(self, world):
        from django.urls import reverse

        path = (
            self.url(world) if self.url else reverse(self.name, kwargs=self.resolve_kwargs(world))
        )
        return f"{path}?{self.query}" if self.query else path

    def resolve_kwargs(self, world):
        if callable(self.kwargs):
            return self.kwargs(world)
        return {
            key: (_pk(getattr(world, value)) if isinstance(value, str) else value)
            for key, value in self.kwargs.items()
        }

    def resolve_data(self, world):
        return self.data(world) if callable(self.data) else (self.data or {})


def route_key(route):
    return f"route:{route}"


def _pk(value):
    return getattr(value, "pk", value)


def all_rows():
    from . import (
        accounts,
        admin,
        cadres,
        coaching,
        codev,
        cohortes,
        immersion,
        mentorat,
        parcours,
        portal,
        rgpd,
        site,
    )

    rows = []
    modules = (
        *(site, accounts, portal, cadres, coaching, mentorat, codev, immersion, rgpd),
        *(parcours, cohortes, admin),
    )
    for module in modules:
        rows.extend(module.rows() if callable(getattr(module, "rows", None)) else module.ROWS)
    return rows
