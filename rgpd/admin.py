"""The audit trail in the admin, read-only for everyone; the anonymisation of a cadre,
for national administrators only."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.utils.html import format_html, format_html_join

from cadres.admin import CadreAdmin as BaseCadreAdmin
from cadres.admin_mixins import ReadOnlyAdminMixin
from cadres.exports import StreamingExportMixin
from cadres.models import Cadre
from cadres.perimeter import PerimeterAdminMixin, is_national_admin

from . import services
from .models import Trace

# auditlog registers its own admin for the log model: this one replaces it.
if admin.site.is_registered(Trace):
    admin.site.unregister(Trace)


@admin.register(Trace)
class TraceAdmin(ReadOnlyAdminMixin, PerimeterAdminMixin, StreamingExportMixin, admin.ModelAdmin):
    """Délégués read the entries about cadres of their perimeter, administrators all of
    them; nobody adds, changes or deletes one (no permission is enough for that)."""

    perimeter_field = "cadre__structure"
    list_display = ["timestamp", "action", "type_objet", "object_repr", "cadre_link", "acteur"]
    list_select_related = ["content_type", "cadre", "actor"]
    list_filter = ["action", ("content_type", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["object_repr", "actor_email", "cadre__nom", "=cadre__email"]
    date_hierarchy = "timestamp"
    list_per_page = 100
    show_full_result_count = False
    fields = [
        "timestamp",
        "action",
        "type_objet",
        "object_repr",
        "cadre_link",
        "acteur",
        "remote_addr",
        "chemin",
        "changements",
    ]
    readonly_fields = fields
    # Who did what, when, about whom; the values changed stay on the entry's page.
    export_fields = [
        ("Date", "timestamp"),
        ("Action", "get_action_display"),
        ("Type d'objet", "content_type__model"),
        ("Objet", "object_repr"),
        ("Cadre concerné", "cadre"),
        ("Par", "actor_email"),
        ("Adresse IP", "remote_addr"),
        ("Page", "chemin"),
    ]
    export_select_related = ["content_type", "cadre"]

    @admin.display(description="objet")
    def type_objet(self, obj):
        return obj.content_type.name

    @admin.display(description="cadre concerné", ordering="cadre")
    def cadre_link(self, obj):
        return obj.cadre or (f"n° {obj.cadre_id} (supprimé)" if obj.cadre_id else "—")

    @admin.display(description="par", ordering="actor_email")
    def acteur(self, obj):
        return obj.actor_email or ("système ou lien de signature" if obj.actor_id is None else "—")

    @admin.display(description="changements")
    def changements(self, obj):
        changes = obj.changes if isinstance(obj.changes, dict) else {}
        if not changes:
            return "—"
        rows = []
        for field, change in changes.items():
            if isinstance(change, dict):  # many-to-many: objects added or removed
                verb = "ajout" if change.get("operation") == "add" else "retrait"
                rows.append((field, f"{verb} : {', '.join(change.get('objects', []))}", ""))
            else:
                old, new = (list(change) + ["", ""])[:2]
                rows.append((field, old, new))
        return format_html(
            "<table><thead><tr><th>champ</th><th>avant</th><th>après</th></tr></thead>"
            "<tbody>{}</tbody></table>",
            format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td></tr>", rows),
        )


# The anonymisation action joins the cadres' admin here: it reaches every scheme, which
# the cadres app (lowest layer) must not import.
admin.site.unregister(Cadre)


@admin.register(Cadre)
class CadreAdmin(BaseCadreAdmin):
    actions = [*BaseCadreAdmin.actions, "anonymiser"]

    def has_anonymise_permission(self, request):
        return is_national_admin(request.user)

    @admin.action(description="Anonymiser (droit à l'effacement)", permissions=["anonymise"])
    def anonymiser(self, request, queryset):
        if not self.has_anonymise_permission(request):
            raise PermissionDenied
        cadres = list(queryset.filter(anonymise_le__isnull=True))
        if request.POST.get("confirmation") != "oui":
            return TemplateResponse(
                request,
                "admin/rgpd/anonymiser_confirmation.html",
                {
                    **self.admin_site.each_context(request),
                    "title": "Anonymiser des cadres",
                    "cadres": cadres,
                    "opts": self.model._meta,
                    "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
                },
            )
        done = sum(services.anonymise_cadre(c, by=request.user) for c in cadres)
        self.message_user(
            request,
            f"{done} cadre(s) anonymisé(s) : identité, coordonnées, textes libres et notes "
            "privées effacés, compte désactivé ; les statistiques sont conservées.",
            messages.SUCCESS,
        )
        return None
