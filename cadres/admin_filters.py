"""List filters shared by the admin lists of every app."""

from django.contrib import admin

from .models import Structure
from .perimeter import perimeter_paths


class StructureSubtreeFilter(admin.SimpleListFilter):
    """Rows of a structure and everything below it, chosen among the top of the user's
    perimeter: the ministries for the national administrator, a délégué's structures
    and the level below them. A list of every structure with rows (800 at the State's
    scale) would be as long to render as the page itself, and the search box already
    finds a given service."""

    title = "structure"
    parameter_name = "structure"
    structure_path = "structure"  # from the listed model to its Structure

    def lookups(self, request, model_admin):
        paths = perimeter_paths(request.user)
        if paths is None:
            structures = Structure.objects.filter(parent__isnull=True)
        else:
            roots = Structure.objects.filter(chemin__in=paths)
            structures = roots | Structure.objects.filter(parent__in=roots)
        self._choices = {str(s.pk): s for s in structures.order_by("chemin")}
        return [
            (pk, f"{'— ' if s.parent_id and paths else ''}{s.sigle or s.nom}")
            for pk, s in self._choices.items()
        ]

    def queryset(self, request, queryset):
        chosen = getattr(self, "_choices", {}).get(self.value())
        if chosen is None:
            return queryset
        return queryset.filter(**{f"{self.structure_path}__chemin__startswith": chosen.chemin})
