"""The admin: generated rows for every registered ``ModelAdmin``, and the site's own views.

``ACCESS`` says, for each registered model, what a délégué and a national administrator
may do (``v`` view, ``a`` add, ``c`` change, ``d`` delete) and whether its objects belong
to a perimeter. From it, every list, add, change, history, delete and export page gets a
row. Expected answers:

- anybody who is not staff (anonymous, cadres, coaches, mentors, animateurs, the tutor):
  sent to the sign-in page (the admin's login hands over to allauth);
- a staff member without the permission: 403;
- a délégué asking for an object outside their perimeter: 404 (like a missing object:
  nothing of it is shown, not even that it exists);
- otherwise 200 (a view-only change page is a 200 too).

A new model registered in the admin needs one line in ``ACCESS`` (the coverage test lists
it); custom views of a ``ModelAdmin`` need hand-written rows in their app's module.
"""

from django.contrib import admin

from tests.security.world import STAFF_ROLES

from . import FORBIDDEN, LOGIN, NOT_ALLOWED, NOT_FOUND, OK, REDIRECT, Row, everyone, route_key

# label: (délégué's rights, administrator's rights, perimeter-scoped)
ACCESS = {
    "auth.group": ("", "vacd", False),
    "sites.site": ("", "vacd", False),
    "account.emailaddress": ("", "vacd", False),
    "mfa.authenticator": ("", "vacd", False),
    "axes.accessattempt": ("", "vd", False),
    "axes.accesslog": ("", "vd", False),
    "axes.accessfailurelog": ("", "vd", False),
    "socialaccount.socialapp": ("", "vacd", False),
    "socialaccount.socialtoken": ("", "vacd", False),
    "socialaccount.socialaccount": ("", "vacd", False),
    "cadres.structure": ("v", "vacd", True),
    "cadres.vivier": ("v", "vacd", False),
    "cadres.cadre": ("vac", "vacd", True),
    "cadres.role": ("", "vacd", False),
    "cadres.user": ("", "vacd", False),
    "cadres.invitation": ("v", "vcd", True),
    "accompagnement.demande": ("vac", "vacd", True),
    "accompagnement.evaluation": ("v", "vd", True),
    "accompagnement.notification": ("", "v", False),
    "coaching.specialite": ("vac", "vacd", False),
    "coaching.coach": ("vac", "vacd", False),
    "coaching.coaching": ("vac", "vacd", True),
    "mentorat.domaine": ("v", "vacd", False),
    "mentorat.mentor": ("vac", "vacd", True),
    "mentorat.mentore": ("vac", "vacd", True),
    "mentorat.campagne": ("vac", "vacd", True),
    "mentorat.mentorat": ("vc", "vcd", True),
    # The queue is read-only; offers are decided (custom views), never added or deleted.
    "mentorat.mentoreenattente": ("v", "v", True),
    "mentorat.offre": ("vc", "vc", True),
    "codev.groupe": ("vac", "vacd", True),
    "cohortes.cohorte": ("vac", "vacd", True),
    "immersion.immersion": ("vac", "vacd", True),
    # The audit trail: read within the perimeter, written by nobody.
    "rgpd.trace": ("v", "v", True),
}

# (view suffix, right needed, needs an object)
VIEWS = [
    ("changelist", "v", False),
    ("add", "a", False),
    ("export_csv", "v", False),
    ("export_xlsx", "v", False),
    ("change", "v", True),
    ("history", "v", True),
    ("delete", "d", True),
]


def _rights(label, role):
    delegue, administrator, _ = ACCESS[label]
    return administrator if role == "admin" else delegue


def _expect(label, right, side):
    """Answers of every role for one page; ``side`` is the object's perimeter."""
    perimeter = ACCESS[label][2]
    cells = everyone(LOGIN)
    for role in STAFF_ROLES:
        rights = _rights(label, role)
        allowed = right in rights or (right == "v" and "c" in rights)
        outside = perimeter and (
            (role == "delegue" and side == "b") or (role == "other_delegue" and side == "a")
        )
        cells[role] = NOT_FOUND if outside else (OK if allowed else FORBIDDEN)
    return cells


def _object(world, label, side):
    objects = world.admin_objects[label]
    return objects[side] if side in objects else next(iter(objects.values()))


def _model_rows(label, model, model_admin):
    info = (model._meta.app_label, model._meta.model_name)
    names = {p.name for p in model_admin.get_urls() if p.name}
    rows = []
    if label not in ACCESS:
        return []  # test_every_admin_model_has_an_access_line names it
    sides = ["a", "b"] if ACCESS[label][2] else ["any"]
    for suffix, right, needs_object in VIEWS:
        name = "admin:{}_{}_{}".format(*info, suffix)
        if name.split(":", 1)[1] not in names:
            continue
        if not needs_object:
            rows.append(Row(name, expect=_expect(label, right, None)))
            continue
        for side in sides:
            rows.append(
                Row(
                    name,
                    _object_id(label, side),
                    _expect(label, right, side),
                    variant="" if side == "any" else f"in {side.upper()}",
                )
            )
    # ``<path:object_id>/`` (no name): the admin's redirect to the change page.
    route = "admin/{}/{}/<path:object_id>/".format(*info)
    rows.append(
        Row(
            route_key(route),
            url=lambda w, label=label, info=info: "/admin/{}/{}/{}/".format(
                *info, _object(w, label, sides[0]).pk
            ),
            expect=_redirect_to_change(),
        )
    )
    return rows


def _redirect_to_change():
    cells = everyone(LOGIN)
    for role in STAFF_ROLES:
        cells[role] = REDIRECT
    return cells


def _object_id(label, side):
    return lambda w: {"object_id": _object(w, label, side).pk}


def staff(answer=OK, others=LOGIN, **overrides):
    """An admin page: staff get ``answer``, everyone else the sign-in page."""
    cells = everyone(others)
    for role in STAFF_ROLES:
        cells[role] = answer
    cells.update(overrides)
    return cells


def _site_rows():
    return [
        Row("admin:index", expect=staff()),
        # Signed in without staff rights: the admin's login refuses (403) rather than
        # loop back to a sign-in page that would accept the same person.
        Row("admin:login", expect=staff(REDIRECT, others=FORBIDDEN, anonymous=LOGIN, tutor=LOGIN)),
        # Signing out is a POST; a GET from outside the admin goes to its index.
        Row(
            "admin:logout",
            expect=staff(NOT_ALLOWED, others=REDIRECT, anonymous=REDIRECT, tutor=REDIRECT),
        ),
        Row(
            "admin:auth_user_password_change",
            lambda w: {"id": w.users["cadre"].pk},
            staff(FORBIDDEN, admin=OK),
        ),
        Row("admin:password_change", expect=staff()),
        Row("admin:password_change_done", expect=staff()),
        Row("admin:autocomplete", expect=staff(FORBIDDEN)),
        Row("admin:jsi18n", expect=staff()),
        Row(
            "admin:view_on_site",
            lambda w: {
                "content_type_id": _content_type(w.cadre).pk,
                "object_id": w.cadre.pk,
            },
            # The shortcut view sends on to the object's admin page, which answers 404
            # to a délégué of another perimeter (rows ``cadres_cadre_change``).
            staff(REDIRECT),
        ),
        Row("admin:app_list", lambda w: {"app_label": "cadres"}, staff(), variant="cadres"),
        Row(
            "admin:app_list",
            lambda w: {"app_label": "auth"},
            staff(NOT_FOUND, admin=OK),
            variant="auth",
        ),
        Row(
            route_key("admin/(?P<url>.*)$"),
            url=lambda w: "/admin/nulle-part/",
            expect=staff(NOT_FOUND),
        ),
    ]


def _content_type(obj):
    from django.contrib.contenttypes.models import ContentType

    return ContentType.objects.get_for_model(obj)


def rows():
    result = _site_rows()
    for model, model_admin in admin.site._registry.items():
        result.extend(_model_rows(model._meta.label_lower, model, model_admin))
    return result
