"""Perimeters: which cadres (and everything about them) a user may see.

One mechanism for the whole project. A queryset is narrowed with
``filter_for_user(qs, user, "path__to__structure")``; admin classes use
``PerimeterAdminMixin`` with ``perimeter_field`` naming that path. National
administrators (superusers or the "administrateur" role) see everything; a délégué
sees the subtrees of the structures of their role; anyone else sees nothing here.
"""

from auditlog.signals import accessed
from django.db.models import Q
from django.http import Http404

from .models import Cadre, Role, Structure

_CACHE_ATTR = "_perimeter_paths"


def is_national_admin(user):
    if not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser:
        return True
    return _paths(user) is None


def _paths(user):
    """None for no restriction, else the list of materialised paths (cached on the user)."""
    if hasattr(user, _CACHE_ATTR):
        return getattr(user, _CACHE_ATTR)
    if user.is_superuser:
        paths = None
    else:
        kinds = set(user.roles.values_list("kind", flat=True))
        if Role.Kind.ADMINISTRATEUR in kinds:
            paths = None
        elif Role.Kind.DELEGUE in kinds:
            paths = list(
                Structure.objects.filter(
                    roles__user=user, roles__kind=Role.Kind.DELEGUE
                ).values_list("chemin", flat=True)
            )
        else:
            paths = []
    setattr(user, _CACHE_ATTR, paths)
    return paths


def perimeter_paths(user):
    if not user.is_authenticated or not user.is_active:
        return []
    return _paths(user)


def filter_for_user(queryset, user, structure_path):
    """Narrow ``queryset`` to the user's perimeter.

    ``structure_path`` leads from the queryset's model to a ``Structure``
    ("structure", "cadre__structure"; "" for Structure itself).
    """
    paths = perimeter_paths(user)
    if paths is None:
        return queryset
    if not paths:
        return queryset.none()
    lookup = f"{structure_path}__chemin__startswith" if structure_path else "chemin__startswith"
    condition = Q()
    for path in paths:
        condition |= Q(**{lookup: path})
    return queryset.filter(condition)


class PerimeterAdminMixin:
    """Admin mixin: lists, change views, deletions, exports and relation pickers all
    stay inside the user's perimeter. An object outside it answers 404."""

    perimeter_field = "structure"

    def get_queryset(self, request):
        return filter_for_user(super().get_queryset(request), request.user, self.perimeter_field)

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            raise Http404("Cet élément n'existe pas ou n'est pas dans votre périmètre.")
        return obj

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        # Who opened whose file: the audit trail records the view of the object the
        # page shows (models with personal data only, see rgpd.audit).
        original = getattr(response, "context_data", {}).get("original")
        if request.method == "GET" and response.status_code == 200 and original is not None:
            accessed.send(sender=type(original), instance=original)
        return response

    def _limit_to_perimeter(self, queryset, request):
        if queryset is None:
            return None
        if queryset.model is Structure:
            return filter_for_user(queryset, request.user, "")
        if queryset.model is Cadre:
            return filter_for_user(queryset, request.user, "structure")
        return queryset

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if field is not None and hasattr(field, "queryset"):
            field.queryset = self._limit_to_perimeter(field.queryset, request)
        return field

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        field = super().formfield_for_manytomany(db_field, request, **kwargs)
        if field is not None and hasattr(field, "queryset"):
            field.queryset = self._limit_to_perimeter(field.queryset, request)
        return field


def delegues_for(structure):
    """Users whose délégué perimeter covers ``structure`` (nearest perimeter first)."""
    from .models import User

    parts = structure.chemin.strip("/").split("/")
    prefixes = ["/".join(parts[: i + 1]) + "/" for i in range(len(parts))]
    roles = (
        Role.objects.filter(kind=Role.Kind.DELEGUE, structures__chemin__in=prefixes)
        .values_list("user_id", "structures__niveau")
        .order_by("-structures__niveau", "user_id")
    )
    ids = list(dict.fromkeys(user_id for user_id, _ in roles))
    users = User.objects.in_bulk(ids)
    return [users[i] for i in ids if users[i].is_active]
