"""The pages of the audit, read from the permission matrix (``tests/security/matrix/``).

Every URL of the resolver has a row there saying which roles get 200: a page is audited
as each kind of role that reads it in the portal and the facilitator space (a coach's
home is not a cadre's), as its first reader elsewhere (the account and public pages are
the same for all). The scope is what people use through the DSFR templates: the portal
(``/espace/``), the facilitator space (``/codev/``), the signature and feedback links
(``/immersion/``), the sign-in and account pages (``/compte/``), the invitation link,
the public pages and, of the admin, the délégués' dashboard only (the other admin pages
are Django's own: see the statement's known limits).
"""

from dataclasses import dataclass

from tests.security.matrix import LOGIN, NOT_ALLOWED, OK, all_rows
from tests.security.test_matrix import url_patterns
from tests.security.world import ROLES

# The admin URLs of the scope.
ADMIN_PAGES = {"admin_dashboard"}

# URLs of the scope that are not audited, each with why. (POST-only actions need no
# line: their GET row answers 405 to everyone, see ``post_only()``.)
SKIP = {
    # Not HTML.
    "health": "JSON (contrôle de santé)",
    "calendar_feed": "flux ICS",
    "immersion:convention_pdf": "PDF",
    "immersion_public:signer_pdf": "PDF",
    "mentorat:activite_pdf": "PDF",
    "mentorat:activite_csv": "CSV",
    "rgpd:export_json": "JSON",
    "rgpd:export_pdf": "PDF",
    "mfa_download_recovery_codes": "texte brut",
    # Redirects for every role of the matrix: no page of their own.
    "route:": "redirige vers l'accueil de l'espace",
    "account_set_password": "redirige (mot de passe déjà défini)",
    "account_confirm_login_code": "redirige (connexion par code désactivée)",
    "mfa_activate_totp": "redirige vers la confirmation du mot de passe",
    "mfa_generate_recovery_codes": "redirige vers la confirmation du mot de passe",
    "mfa_view_recovery_codes": "404 sans codes de secours",
    "mfa_deactivate_totp": "redirige vers la confirmation du mot de passe",
    "socialaccount_login_error": "401 du fournisseur d'identité (gabarit d'allauth)",
    "socialaccount_signup": "redirige vers la connexion",
    "openid_connect_login": "404 sans fournisseur configuré",
    "openid_connect_callback": "404 sans fournisseur configuré",
    "route:compte/social/login/cancelled/": "ancienne adresse, redirige",
    "route:compte/social/login/error/": "ancienne adresse, redirige",
    "route:compte/social/signup/": "ancienne adresse, redirige",
    "route:compte/social/connections/": "ancienne adresse, redirige",
}


# Pages reached only in the middle of a journey, audited by their own test.
AUDITED_APART = {
    "mfa_authenticate": "test_audit.py::test_the_second_factor_step_of_a_staff_sign_in",
}


@dataclass(frozen=True)
class Page:
    name: str
    role: str
    row: object
    # Its first reader checks both widths; the others, the same template, the desktop.
    small_screen: bool = True

    def path(self, world):
        return self.row.path(world)


def in_scope(key, route):
    return not route.startswith("admin/") or key in ADMIN_PAGES


def scope():
    """{url name: route} of the resolver's URLs the audit is about."""
    return {key: route for key, route in url_patterns() if in_scope(key, route)}


# Roles that see the same pages the same way (the other perimeter's twin, the tutor's
# anonymous link, the national administrator's staff pages).
KIND = {
    "other_cadre": "cadre",
    "other_coach": "coach",
    "other_animateur": "animateur",
    "tutor": "anonymous",
    "other_delegue": "delegue",
    "admin": "delegue",
}
# Where a page is audited as each kind of role that reads it.
PER_ROLE = ("espace/", "codev/")


def _readers(row, route):
    """The roles a row is audited as: the first reader, or one of each kind."""
    readers = [role for role in ROLES if row.expect[role] == OK]
    if not route.startswith(PER_ROLE):
        return readers[:1]
    kinds = {}
    for role in readers:
        kinds.setdefault(KIND.get(role, role), role)
    return list(kinds.values())


def pages():
    """The ``Page``s of the audit, from the first GET row of each URL name of the scope
    that someone may read."""
    names = scope()
    found = {}
    for row in all_rows():
        if row.method != "get" or row.name not in names or row.name in SKIP:
            continue
        readers = _readers(row, names[row.name])
        if readers and row.name not in found:
            found[row.name] = [
                Page(row.name, role, row, small_screen=(role == readers[0])) for role in readers
            ]
    return [page for entries in found.values() for page in entries]


def post_only():
    """URL names whose GET answers 405 (or the sign-in page) to every role: actions."""
    names = set()
    for row in all_rows():
        answers = {row.expect[role] for role in ROLES}
        if row.method == "get" and NOT_ALLOWED in answers and answers <= {NOT_ALLOWED, LOGIN}:
            names.add(row.name)
    return names
