from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.db.models import Count, Q, Value
from django.urls import reverse
from django.utils.html import format_html
from dsfr.models import DsfrConfig
from import_export import fields, resources

from . import services
from .admin_filters import StructureSubtreeFilter
from .exports import StreamingExportMixin
from .forms import UserAddForm, UserChangeForm
from .models import Cadre, Invitation, Role, Structure, User, Vivier
from .perimeter import PerimeterAdminMixin, filter_for_user, perimeter_paths

# django-dsfr's site settings (with an unchecked logo upload) are not used here: the
# site's settings come from config.context_processors, so its admin page goes.
if admin.site.is_registered(DsfrConfig):
    admin.site.unregister(DsfrConfig)


@admin.register(Structure)
class StructureAdmin(PerimeterAdminMixin, StreamingExportMixin, admin.ModelAdmin):
    perimeter_field = ""
    list_display = ["indented_name", "sigle", "code", "type", "parent", "nb_cadres"]
    list_select_related = ["parent"]
    list_filter = ["type", "niveau"]
    search_fields = ["nom", "sigle", "code"]
    ordering = ["chemin"]
    autocomplete_fields = ["parent"]
    list_per_page = 100
    show_full_result_count = False
    export_fields = [
        ("Structure", "nom"),
        ("Sigle", "sigle"),
        ("Code RH", "code"),
        ("Type", "get_type_display"),
        ("Structure de rattachement", "parent"),
        ("Niveau", "niveau"),
        ("Cadres", "_nb"),
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("parent").annotate(_nb=Count("cadres"))

    @admin.display(description="structure", ordering="chemin")
    def indented_name(self, obj):
        return format_html('<span style="padding-left:{}rem">{}</span>', obj.niveau * 1.2, obj.nom)

    @admin.display(description="cadres", ordering="_nb")
    def nb_cadres(self, obj):
        return obj._nb


@admin.register(Vivier)
class VivierAdmin(StreamingExportMixin, admin.ModelAdmin):
    list_display = ["nom", "actif", "nb_cadres"]
    list_filter = ["actif"]
    search_fields = ["nom"]
    export_fields = [("Vivier", "nom"), ("Actif", "actif"), ("Cadres", "_nb")]

    def get_queryset(self, request):
        # The referential is shared; its counts are those of the user's perimeter.
        queryset = super().get_queryset(request)
        paths = perimeter_paths(request.user)
        if paths is None:
            return queryset.annotate(_nb=Count("cadres"))
        if not paths:
            return queryset.annotate(_nb=Value(0))
        inside = filter_for_user(Cadre.objects.all(), request.user, "structure")
        return queryset.annotate(_nb=Count("cadres", filter=Q(cadres__in=inside.values("pk"))))

    @admin.display(description="cadres", ordering="_nb")
    def nb_cadres(self, obj):
        return obj._nb


class CadreResource(resources.ModelResource):
    structure = fields.Field(attribute="structure__nom", column_name="structure")
    civilite = fields.Field(attribute="get_civilite_display", column_name="civilité")

    class Meta:
        model = Cadre
        fields = [
            "id",
            "matricule",
            "civilite",
            "nom",
            "prenom",
            "email",
            "categorie",
            "corps",
            "grade",
            "fonction",
            "structure",
            "date_prise_poste",
            "actif",
        ]
        export_order = fields


class HasAccountFilter(admin.SimpleListFilter):
    title = "compte"
    parameter_name = "compte"

    def lookups(self, request, model_admin):
        return [("oui", "Avec compte"), ("non", "Sans compte")]

    def queryset(self, request, queryset):
        if self.value() == "oui":
            return queryset.filter(user__isnull=False)
        if self.value() == "non":
            return queryset.filter(user__isnull=True)
        return queryset


@admin.register(Cadre)
class CadreAdmin(PerimeterAdminMixin, StreamingExportMixin, admin.ModelAdmin):
    export_resource_class = CadreResource
    export_select_related = ["structure"]
    list_display = [
        "nom_complet",
        "email",
        "structure",
        "fonction",
        "corps",
        "date_prise_poste",
        "a_un_compte",
        "actif",
        "dossier",
    ]
    list_select_related = ["structure"]  # the account column reads user_id only
    list_filter = [
        "actif",
        "civilite",
        "categorie",
        HasAccountFilter,
        StructureSubtreeFilter,
        "viviers",
    ]
    search_fields = ["nom", "prenom", "email", "matricule", "fonction", "corps", "structure__sigle"]
    autocomplete_fields = ["structure", "responsable"]
    filter_horizontal = ["viviers"]
    readonly_fields = ["user", "cree_le", "modifie_le", "anonymise_le"]
    date_hierarchy = "date_prise_poste"
    actions = ["inviter"]
    list_per_page = 50
    show_full_result_count = False  # COUNT(*) on a large table is not free
    fieldsets = [
        ("Identité", {"fields": ["civilite", "nom", "prenom", "email", "telephone", "matricule"]}),
        (
            "Situation",
            {
                "fields": [
                    "categorie",
                    "corps",
                    "grade",
                    "fonction",
                    "structure",
                    "responsable",
                    "date_prise_poste",
                    "viviers",
                    "actif",
                ]
            },
        ),
        ("Compte", {"fields": ["user", "cree_le", "modifie_le", "anonymise_le"]}),
    ]

    @admin.display(description="nom", ordering="nom")
    def nom_complet(self, obj):
        return f"{obj.get_civilite_display()} {obj.prenom} {obj.nom.upper()}"

    @admin.display(description="compte", boolean=True)
    def a_un_compte(self, obj):
        return obj.user_id is not None

    @admin.display(description="dossier")
    def dossier(self, obj):
        url = reverse("admin:cadres_cadre_dossier", args=[obj.pk])
        return format_html(
            '<a href="{}">Dossier<span class="visually-hidden"> de {}</span></a>', url, obj
        )

    def get_urls(self):
        # The cadre's file reads every scheme: it lives in ``parcours`` (above the
        # schemes), imported here only when the admin's URLs are built.
        from parcours.admin_views import dossier_urls

        return [*dossier_urls(self), *super().get_urls()]

    @admin.action(description="Inviter à créer leur compte", permissions=["change"])
    def inviter(self, request, queryset):
        count = 0
        for cadre in queryset.select_related("user"):
            services.invite_cadre(cadre, invited_by=request.user)
            count += 1
        self.message_user(
            request, f"{count} invitation(s) enregistrée(s), envoi en cours.", messages.SUCCESS
        )


class RoleInline(admin.TabularInline):
    model = Role
    extra = 0
    filter_horizontal = ["structures"]
    fields = ["kind", "structures", "cree_le"]


@admin.register(Role)
class RoleAdmin(admin.ModelAdmin):
    list_display = ["user", "kind", "perimetre", "cree_le"]
    list_filter = ["kind"]
    search_fields = ["user__email", "user__last_name", "structures__nom", "structures__sigle"]
    autocomplete_fields = ["user", "structures"]
    list_select_related = ["user"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("structures")

    @admin.display(description="périmètre")
    def perimetre(self, obj):
        return ", ".join(s.sigle or s.nom for s in obj.structures.all()) or "—"


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ["email"]
    list_display = ["email", "first_name", "last_name", "is_staff", "is_active", "last_login"]
    list_filter = ["is_staff", "is_superuser", "is_active", "roles__kind"]
    search_fields = ["email", "first_name", "last_name"]
    inlines = [RoleInline]
    actions = ["inviter"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        ("Identité", {"fields": ["first_name", "last_name"]}),
        ("Statut", {"fields": ["is_active", "is_staff", "is_superuser"]}),
        ("Dates", {"fields": ["last_login", "date_joined"]}),
    ]
    readonly_fields = ["is_staff", "is_superuser", "last_login", "date_joined"]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["email", "first_name", "last_name"]})]
    add_form = UserAddForm
    form = UserChangeForm

    def save_model(self, request, obj, form, change):
        if not change:
            obj.set_unusable_password()  # the invitation lets them set it
        super().save_model(request, obj, form, change)

    @admin.action(description="Envoyer une invitation")
    def inviter(self, request, queryset):
        for user in queryset:
            services.invite(user, invited_by=request.user)
        self.message_user(request, f"{queryset.count()} invitation(s) enregistrée(s).")


@admin.register(Invitation)
class InvitationAdmin(PerimeterAdminMixin, StreamingExportMixin, admin.ModelAdmin):
    perimeter_field = "user__cadre__structure"
    list_display = ["user", "invite_par", "cree_le", "envoyee_le", "acceptee_le"]
    list_select_related = ["user", "invite_par"]
    list_filter = ["envoyee_le", "acceptee_le"]
    search_fields = ["user__email"]
    list_per_page = 100
    show_full_result_count = False
    export_fields = [
        ("Adresse électronique", "user__email"),
        ("Nom", "user__last_name"),
        ("Prénom", "user__first_name"),
        ("Invité par", "invite_par"),
        ("Créée le", "cree_le"),
        ("Envoyée le", "envoyee_le"),
        ("Acceptée le", "acceptee_le"),
    ]
    readonly_fields = ["user", "invite_par", "cree_le", "envoyee_le", "acceptee_le"]

    def has_add_permission(self, request):
        return False
