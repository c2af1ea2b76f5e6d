"""Coaching in the admin: the coach pool (shared by every délégué), the engagements
(inside the délégué's perimeter) and the budget of external coaching.

Assignments and status changes go through ``coaching.services``: the form checks
them (French errors on the fields) and ``save_model`` applies them. The coach's
private notes (``NoteCoach``) have no admin page, on purpose: nobody but their
author reads them, administrators included.
"""

from datetime import timedelta

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Exists, IntegerField, OuterRef, Prefetch, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from import_export import fields, resources

from cadres.admin_mixins import ReadOnlyAdminMixin
from cadres.exports import StreamingExportMixin
from cadres.perimeter import PerimeterAdminMixin, is_national_admin

from . import budget, services
from .forms import ScheduleForm
from .models import (
    EXPIRY_WARNING_DAYS,
    USED_STATUSES,
    Certification,
    Coach,
    Coaching,
    EntretienDecouverte,
    Preselection,
    Proposition,
    SeanceCoaching,
    Specialite,
    SupervisionAnnuelle,
)

# A coach may be chosen or changed only before the coaching runs.
ASSIGNABLE = (Coaching.Statut.A_AFFECTER, Coaching.Statut.CONTRACTUALISE)


# --- Coach pool ----------------------------------------------------------------


@admin.register(Specialite)
class SpecialiteAdmin(StreamingExportMixin, admin.ModelAdmin):
    list_display = ["libelle", "code"]
    search_fields = ["libelle", "code"]
    export_fields = [("Spécialité", "libelle"), ("Code", "code")]


class CertificationInline(admin.TabularInline):
    model = Certification
    extra = 0
    fields = ["organisme", "niveau", "obtenue_le", "expire_le"]


class SupervisionInline(admin.TabularInline):
    model = SupervisionAnnuelle
    extra = 0
    fields = ["annee", "heures"]


class AccreditationFilter(admin.SimpleListFilter):
    """The délégués' watch list: accreditations about to expire, or already gone."""

    title = "accréditation"
    parameter_name = "accreditation"

    def lookups(self, request, model_admin):
        return [
            ("expire_bientot", f"Expire dans les {EXPIRY_WARNING_DAYS} jours"),
            ("aucune_valide", "Aucune accréditation valide"),
        ]

    def queryset(self, request, queryset):
        today = timezone.localdate()
        if self.value() == "expire_bientot":
            return queryset.accreditation_expiring(today)
        if self.value() == "aucune_valide":
            return queryset.exclude(pk__in=Certification.objects.valid(today).values("coach"))
        return queryset


class EligibleFilter(admin.SimpleListFilter):
    title = "affectable"
    parameter_name = "affectable"

    def lookups(self, request, model_admin):
        return [("oui", "Oui"), ("non", "Non (inactif, accréditation ou charte manquante)")]

    def queryset(self, request, queryset):
        if self.value() == "oui":
            return queryset.filter(pk__in=Coach.objects.eligible().values("pk"))
        if self.value() == "non":
            return queryset.exclude(pk__in=Coach.objects.eligible().values("pk"))
        return queryset


@admin.register(Coach)
class CoachAdmin(StreamingExportMixin, admin.ModelAdmin):
    """The coach pool and register, shared by every délégué: it is not limited to a
    perimeter. Who may be assigned follows the register (``Coach.ineligibility_reasons``)."""

    list_display = [
        "nom_complet",
        "type",
        "organisme",
        "accreditations",
        "charte_signee_le",
        "supervision",
        "charge",
        "affectable",
    ]
    list_filter = [AccreditationFilter, EligibleFilter, "type", "actif", "specialites"]
    search_fields = ["nom", "prenom", "email", "organisme"]
    autocomplete_fields = ["structure", "user"]
    filter_horizontal = ["specialites"]
    inlines = [CertificationInline, SupervisionInline]
    list_per_page = 50
    show_full_result_count = False
    # The register as listed, with contacts and capacity; no account, no biography.
    export_select_related = ["structure"]
    export_prefetch_related = ["certifications"]
    export_fields = [
        ("Civilité", "get_civilite_display"),
        ("Nom", "nom"),
        ("Prénom", "prenom"),
        ("Adresse électronique", "email"),
        ("Téléphone", "telephone"),
        ("Type", "get_type_display"),
        ("Organisme prestataire", "organisme"),
        ("Structure d'affectation", "structure__nom"),
        ("Spécialités", "specialites"),
        ("Langues", "langues"),
        ("Tarif par séance (€ TTC)", "tarif_seance"),
        ("Capacité", "capacite"),
        ("Coachings en cours", "charge"),
        ("Actif", "actif"),
        ("Accréditations", "accreditations_text"),
        ("Charte de déontologie signée le", "charte_signee_le"),
        ("Heures de supervision (année en cours)", "supervision_annee"),
    ]
    fieldsets = [
        ("Identité", {"fields": ["type", "civilite", "nom", "prenom", "email", "telephone"]}),
        (
            "Rattachement",
            {"fields": ["structure", "organisme", "contact_organisme", "tarif_seance", "user"]},
        ),
        ("Profil", {"fields": ["specialites", "langues", "biographie"]}),
        ("Disponibilité", {"fields": ["capacite", "actif"]}),
        ("Registre", {"fields": ["charte_signee_le"]}),
    ]

    def get_queryset(self, request):
        # ``order_by``: an annotated (GROUP BY) queryset loses Meta.ordering, which
        # the coach picker's pagination needs.
        hours = SupervisionAnnuelle.objects.filter(
            coach=OuterRef("pk"), annee=timezone.localdate().year
        ).values("heures")[:1]
        return (
            super()
            .get_queryset(request)
            .with_load()
            .annotate(supervision_annee=Subquery(hours))
            .prefetch_related("specialites", "certifications")
            .order_by("nom", "prenom", "pk")
        )

    def get_readonly_fields(self, request, obj=None):
        # Linking a coach to an account is for national administrators: délégués do
        # not browse user accounts.
        if is_national_admin(request.user):
            return []
        return ["user"]

    def get_search_results(self, request, queryset, search_term):
        queryset, distinct = super().get_search_results(request, queryset, search_term)
        # The coach picker of an engagement offers the coaches the register allows.
        if request.GET.get("model_name") == "coaching" and request.GET.get("field_name"):
            queryset = queryset.filter(pk__in=Coach.objects.eligible().values("pk"))
        return queryset, distinct

    @admin.display(description="nom", ordering="nom")
    def nom_complet(self, obj):
        return f"{obj.get_civilite_display()} {obj.prenom} {obj.nom.upper()}"

    @admin.display(description="spécialités")
    def specialites_list(self, obj):
        return ", ".join(s.libelle for s in obj.specialites.all()) or "—"

    @admin.display(description="accréditations")
    def accreditations(self, obj):
        today = timezone.localdate()
        soon = today + timedelta(days=EXPIRY_WARNING_DAYS)
        items = []
        for a in obj.certifications.all():
            if a.expire_le is None:
                items.append(format_html("{} (sans expiration)", a.label))
            elif a.expire_le < today:
                items.append(format_html("{} <strong>expirée le {}</strong>", a.label, _d(a)))
            elif a.expire_le <= soon:
                items.append(format_html("{} <strong>expire le {}</strong>", a.label, _d(a)))
            else:
                items.append(format_html("{} jusqu'au {}", a.label, _d(a)))
        return format_html_join(mark_safe("<br>"), "{}", ((i,) for i in items)) or "—"

    def accreditations_text(self, obj):
        return ", ".join(
            f"{a.label} ({'sans expiration' if a.expire_le is None else _d(a)})"
            for a in obj.certifications.all()
        )

    @admin.display(description="supervision (année en cours)", ordering="supervision_annee")
    def supervision(self, obj):
        return "—" if obj.supervision_annee is None else f"{obj.supervision_annee} h"

    @admin.display(description="affectable")
    def affectable(self, obj):
        reasons = obj.ineligibility_reasons()
        if not reasons:
            return "Oui"
        return format_html("<strong>Non</strong> : {}", " ; ".join(reasons))

    @admin.display(description="charge / capacité", ordering="charge")
    def charge(self, obj):
        text = f"{obj.charge} / {obj.capacite}"
        if obj.charge >= obj.capacite:
            return format_html("<strong>{} (complet)</strong>", text)
        return text


# --- Engagements ---------------------------------------------------------------


class CoachTypeFilter(admin.SimpleListFilter):
    title = "type de coach"
    parameter_name = "type_coach"

    def lookups(self, request, model_admin):
        return Coach.Type.choices

    def queryset(self, request, queryset):
        if self.value() in Coach.Type.values:
            return queryset.filter(coach__type=self.value())
        return queryset


class ShortlistFilter(admin.SimpleListFilter):
    """The délégué's queue: choices to confirm, shortlists the cadre is looking at."""

    title = "présélection"
    parameter_name = "preselection"

    def lookups(self, request, model_admin):
        return [
            (Preselection.Statut.CHOIX, "Choix du cadre à confirmer"),
            ("en_cours", "Entretiens en cours"),
            (Preselection.Statut.NOUVELLE_DEMANDEE, "Autre présélection demandée"),
        ]

    def queryset(self, request, queryset):
        wanted = {
            Preselection.Statut.CHOIX: Q(statut=Preselection.Statut.CHOIX),
            "en_cours": Q(
                statut__in=(Preselection.Statut.PROPOSEE, Preselection.Statut.ENTRETIENS)
            ),
        }
        if self.value() in wanted:
            return queryset.filter(
                Exists(Preselection.objects.filter(wanted[self.value()], coaching=OuterRef("pk")))
            )
        if self.value() == Preselection.Statut.NOUVELLE_DEMANDEE:
            # Asked for and not yet answered: the latest list is the one declined.
            latest = Preselection.objects.filter(coaching=OuterRef("pk")).order_by(
                "-proposee_le", "-pk"
            )
            return (
                queryset.filter(statut=Coaching.Statut.A_AFFECTER)
                .annotate(derniere=Subquery(latest.values("statut")[:1]))
                .filter(derniere=Preselection.Statut.NOUVELLE_DEMANDEE)
            )
        return queryset


class ShortlistForm(forms.Form):
    coachs = forms.ModelMultipleChoiceField(
        label="Coachs présélectionnés",
        queryset=Coach.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        help_text="Deux ou trois coachs, que le cadre pourra rencontrer avant de choisir.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Only coaches the register allows; the service checks line and capacity.
        self.fields["coachs"].queryset = Coach.objects.eligible().order_by("nom", "prenom")
        self.fields["coachs"].label_from_instance = lambda c: (
            f"{c} – {c.organisme or 'coach interne'}"
        )


class ReasonForm(forms.Form):
    motif = forms.CharField(
        label="Raison du retrait", widget=forms.Textarea(attrs={"rows": 2}), max_length=2000
    )


class ExtensionForm(forms.Form):
    nouveau_total = forms.IntegerField(label="Nouveau total de séances", min_value=1)
    motif = forms.CharField(
        label="Raison de la prolongation",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
    )


class CoachingAdminForm(forms.ModelForm):
    """Checks a new coach and a new status with the services' rules, so that a
    refused assignment or transition comes back on the form with its French message."""

    class Meta:
        model = Coaching
        fields = [
            "cadre",
            "origine",
            "motif",
            "objectifs",
            "reunion_tripartite_le",
            "nb_seances_prevues",
            "coach",
            "date_debut",
            "date_fin",
            "statut",
            "reunion_cloture_le",
            "montant_devis",
            "bon_de_commande",
        ]

    def clean(self):
        data = super().clean()
        if self.instance.pk:
            stored = Coaching.objects.select_related("cadre__structure", "coach").get(
                pk=self.instance.pk
            )
        else:
            stored = Coaching(statut=Coaching.Statut.A_AFFECTER)
            if not data.get("cadre"):
                return data  # the missing cadre is already reported
            stored.cadre = data["cadre"]
        # ``probe``: the engagement as it will be once the coach is assigned.
        probe = Coaching(
            pk=stored.pk,
            cadre=stored.cadre,
            coach=stored.coach,
            statut=stored.statut,
            reunion_cloture_le=data.get("reunion_cloture_le"),
        )
        try:
            if "coach" in self.fields and "coach" not in self.errors:
                coach = data.get("coach")
                if coach is not None and coach.pk != stored.coach_id:
                    if stored.pk:
                        services.check_no_open_shortlist(stored)
                    services.check_assignment(probe, coach)
                    probe.coach, probe.statut = coach, Coaching.Statut.CONTRACTUALISE
                elif (
                    coach is None
                    and stored.coach_id
                    and stored.statut != Coaching.Statut.A_AFFECTER
                ):
                    raise ValidationError(
                        {
                            "coach": "Un coaching contractualisé garde son coach : choisissez-en "
                            "un autre ou interrompez le coaching."
                        }
                    )
            statut = data.get("statut")
            if statut and statut != stored.statut and statut != probe.statut:
                services.check_transition(probe, statut, data.get("reunion_cloture_le"))
        except ValidationError as error:
            self._add_service_errors(error)
        return data

    def _add_service_errors(self, error):
        if not hasattr(error, "error_dict"):
            self.add_error(None, error.messages)
            return
        for field, errors in error.message_dict.items():
            self.add_error(field if field in self.fields else None, errors)


class CoachingResource(resources.ModelResource):
    """The engagements list, as exported: dates, attendance and cost, no content."""

    cadre = fields.Field(attribute="cadre", column_name="cadre")
    cadre_email = fields.Field(attribute="cadre__email", column_name="courriel du cadre")
    structure = fields.Field(attribute="cadre__structure__nom", column_name="structure")
    coach = fields.Field(attribute="coach", column_name="coach")
    type_coach = fields.Field(attribute="coach__get_type_display", column_name="type de coach")
    origine = fields.Field(attribute="get_origine_display", column_name="origine")
    motif = fields.Field(attribute="get_motif_display", column_name="motif")
    statut = fields.Field(attribute="get_statut_display", column_name="statut")
    realisees = fields.Field(attribute="realisees", column_name="séances réalisées")

    class Meta:
        model = Coaching
        fields = [
            "id",
            "cadre",
            "cadre_email",
            "structure",
            "coach",
            "type_coach",
            "origine",
            "motif",
            "statut",
            "date_debut",
            "date_fin",
            "nb_seances_prevues",
            "realisees",
            "montant_devis",
            "bon_de_commande",
        ]
        export_order = fields


class SeanceCoachingInline(ReadOnlyAdminMixin, admin.TabularInline):
    """Dates and attendance only: what is said in a session is not HR's business."""

    model = SeanceCoaching
    fields = readonly_fields = ["numero", "debut", "duree", "mode", "statut"]
    extra = 0
    can_delete = False
    verbose_name_plural = "séances (dates et présence)"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("coaching__cadre")


@admin.register(Coaching)
class CoachingAdmin(PerimeterAdminMixin, StreamingExportMixin, admin.ModelAdmin):
    perimeter_field = "cadre__structure"
    view_on_site = False  # the portal page belongs to the cadre and the coach
    export_resource_class = CoachingResource
    form = CoachingAdminForm
    change_list_template = "admin/coaching/coaching/change_list.html"  # + the budget link
    list_display = [
        "cadre",
        "coach",
        "motif",
        "statut",
        "seances",
        "date_debut",
        "origine",
    ]
    list_select_related = ["cadre", "coach"]
    list_filter = ["statut", ShortlistFilter, "motif", "origine", CoachTypeFilter]
    search_fields = ["cadre__nom", "cadre__prenom", "cadre__email", "coach__nom", "coach__prenom"]
    autocomplete_fields = ["cadre", "coach"]
    date_hierarchy = "date_debut"
    list_per_page = 50
    show_full_result_count = False
    fieldsets = [
        (
            "Engagement",
            {
                "fields": [
                    "cadre",
                    "demande",
                    ("origine", "motif"),
                    "objectifs",
                    "reunion_tripartite_le",
                    "nb_seances_prevues",
                    "forfait",
                ]
            },
        ),
        ("Coach", {"fields": ["coach", "preselection", "suggestions"]}),
        (
            "Déroulement",
            {
                "fields": [
                    ("date_debut", "date_fin"),
                    "statut",
                    "reunion_cloture_le",
                    "planifier",
                    "cree_le",
                ]
            },
        ),
        (
            "Coût (coach externe)",
            {"fields": ["montant_devis", "bon_de_commande"]},
        ),
    ]

    def perimeter_queryset(self, request):
        """The engagements of the user's perimeter, without the list's annotations."""
        return super().get_queryset(request)

    def get_queryset(self, request):
        # A correlated count rather than JOIN + GROUP BY: the database reads the page's
        # rows in the order of the index on ``cree_le`` and counts for those rows only.
        def count(**filters):
            sessions = (
                SeanceCoaching.objects.filter(coaching=OuterRef("pk"), **filters)
                .order_by()
                .values("coaching")
                .annotate(n=Count("pk"))
                .values("n")
            )
            return Coalesce(Subquery(sessions, output_field=IntegerField()), Value(0))

        return (
            self.perimeter_queryset(request)
            .select_related("cadre__structure", "coach")
            .annotate(
                realisees=count(statut=SeanceCoaching.Statut.REALISEE),
                utilisees=count(statut__in=USED_STATUSES),
            )
        )

    def get_readonly_fields(self, request, obj=None):
        fields = ["demande", "forfait", "preselection", "suggestions", "planifier", "cree_le"]
        if obj is not None:
            fields.append("cadre")  # an engagement does not move to another person
            if obj.statut != Coaching.Statut.A_AFFECTER:
                # Once contracted, the allowance only grows, through a recorded extension.
                fields.append("nb_seances_prevues")
            if obj.statut not in ASSIGNABLE:
                fields.append("coach")
        return fields

    def get_inlines(self, request, obj):
        return [SeanceCoachingInline] if obj is not None else []

    @admin.display(description="séances utilisées / prévues", ordering="utilisees")
    def seances(self, obj):
        left = max(obj.nb_seances_prevues - obj.utilisees, 0)
        return f"{obj.utilisees} / {obj.nb_seances_prevues} ({left} restante(s))"

    @admin.display(description="forfait de séances")
    def forfait(self, obj):
        if obj is None or obj.pk is None:
            return "—"
        allowance = obj.allowance()
        summary = format_html(
            "<strong>{} / {}</strong> séances utilisées ({} réalisée(s), {} planifiée(s)), "
            "{} restante(s).",
            allowance.utilisees,
            allowance.prevues,
            allowance.realisees,
            allowance.planifiees,
            allowance.restantes,
        )
        history = format_html_join(
            "",
            "<li>{} : {} → {} séances, par {} – « {} »</li>",
            (
                (
                    timezone.localtime(e.accordee_le).strftime("%d/%m/%Y"),
                    e.ancien_total,
                    e.nouveau_total,
                    e.accordee_par or "—",
                    e.motif,
                )
                for e in obj.extensions.select_related("accordee_par")
            ),
        )
        link = ""
        if obj.statut in Coaching.ACTIVE_STATUSES:
            link = format_html(
                ' <a class="button" href="{}">Prolonger le forfait</a>',
                reverse("admin:coaching_coaching_forfait", args=[obj.pk]),
            )
        return format_html("{}{}<ul>{}</ul>", summary, link, history)

    @admin.display(description="séances")
    def planifier(self, obj):
        if obj is None or obj.pk is None or obj.statut not in Coaching.ACTIVE_STATUSES:
            return "Les séances se planifient une fois le coaching contractualisé."
        return format_html(
            '<a class="button" href="{}">Planifier une séance</a>',
            reverse("admin:coaching_coaching_schedule", args=[obj.pk]),
        )

    @admin.display(description="présélection")
    def preselection(self, obj):
        if obj is None or obj.pk is None:
            return "Enregistrez le coaching : vous pourrez alors présélectionner des coachs."
        current = obj.preselections.select_related("coach_choisi").first()
        url = reverse("admin:coaching_coaching_preselection", args=[obj.pk])
        if current is None:
            if obj.statut != Coaching.Statut.A_AFFECTER:
                return "—"
            return format_html(
                '<a class="button" href="{}">Présélectionner 2 ou 3 coachs</a> '
                "(le cadre les rencontre puis choisit) ou affectez directement un coach.",
                url,
            )
        choice = (
            format_html(" : {} choisi", current.coach_choisi) if current.coach_choisi_id else ""
        )
        return format_html(
            '{} (proposée le {}){} – <a class="button" href="{}">Voir la présélection</a>',
            current.get_statut_display(),
            timezone.localtime(current.proposee_le).strftime("%d/%m/%Y"),
            choice,
            url,
        )

    @admin.display(description="coachs suggérés")
    def suggestions(self, obj):
        if obj is None or obj.pk is None:
            return "Enregistrez le coaching : les coachs disponibles seront alors proposés."
        if obj.statut not in ASSIGNABLE:
            return "Le coach ne peut plus être changé à ce stade du coaching."
        proposals = services.suggest(obj)
        if not proposals:
            return (
                "Aucun coach disponible : tous sont inactifs, complets ou dans la ligne "
                "hiérarchique du cadre."
            )
        items = format_html_join(
            "",
            "<li><strong>{}</strong> ({}) – score {}<ul>{}</ul></li>",
            (
                (
                    s.coach,
                    s.coach.organisme or s.coach.get_type_display(),
                    s.score,
                    format_html_join("", "<li>{}</li>", ((reason,) for reason in s.reasons)),
                )
                for s in proposals
            ),
        )
        return format_html('<ol class="coaching-suggestions">{}</ol>', items)

    def save_model(self, request, obj, form, change):
        """Everything but the coach and the status is saved as edited; the coach goes
        through ``services.assign`` (capacity, lock, mail to the coach) and the status
        through ``services.change_status`` (transitions, evaluations at the end)."""
        coach, statut = obj.coach, obj.statut
        if change:
            stored = Coaching.objects.values("coach_id", "statut").get(pk=obj.pk)
            obj.coach_id, obj.statut = stored["coach_id"], stored["statut"]
        else:
            obj.coach, obj.statut = None, Coaching.Statut.A_AFFECTER
        previous_coach, previous_statut = obj.coach_id, obj.statut
        try:
            with transaction.atomic():  # a savepoint: on refusal, nothing is kept
                self._save_through_services(
                    request, obj, coach, statut, previous_coach, previous_statut
                )
        except ValidationError as error:
            # Another délégué got there first (e.g. the coach's last slot).
            messages.error(request, " ".join(error.messages))
        if obj.pk and Coaching.objects.filter(pk=obj.pk).exists():
            obj.refresh_from_db()

    def _save_through_services(self, request, obj, coach, statut, previous_coach, previous_statut):
        obj.save()
        if coach is not None and coach.pk != previous_coach:
            services.assign(obj, coach, by=request.user)
            messages.success(request, f"{coach} est affecté(e) : le coaching est contractualisé.")
        elif coach is None and previous_coach is not None:
            obj.coach = None
            obj.save(update_fields=["coach"])
        if statut != previous_statut:
            current = Coaching.objects.values_list("statut", flat=True).get(pk=obj.pk)
            if statut != current:
                services.change_status(
                    obj, statut, by=request.user, reunion_cloture_le=obj.reunion_cloture_le
                )
                if statut == Coaching.Statut.TERMINE:
                    messages.info(
                        request, "Coaching terminé : l'évaluation de fin de parcours est demandée."
                    )

    # --- Budget -----------------------------------------------------------------

    def get_urls(self):
        return [
            path(
                "budget/",
                self.admin_site.admin_view(self.budget_view),
                name="coaching_coaching_budget",
            ),
            path(
                "<int:pk>/preselection/",
                self.admin_site.admin_view(self.shortlist_view),
                name="coaching_coaching_preselection",
            ),
            path(
                "<int:pk>/forfait/",
                self.admin_site.admin_view(self.extension_view),
                name="coaching_coaching_forfait",
            ),
            path(
                "<int:pk>/planifier/",
                self.admin_site.admin_view(self.schedule_view),
                name="coaching_coaching_schedule",
            ),
            *super().get_urls(),
        ]

    def shortlist_view(self, request, pk):
        """The délégué's side of the shortlist: propose two or three coaches, follow
        the meetings (dates and status only), confirm the cadre's choice or withdraw
        the list. Every step goes through ``services``."""
        coaching = self.get_object(request, str(pk))  # 404 outside the perimeter
        if not self.has_change_permission(request, coaching):
            raise PermissionDenied
        current = Preselection.objects.open().filter(coaching=coaching).first()
        propose_form = ShortlistForm(
            request.POST if request.POST.get("action") == "proposer" else None
        )
        reason_form = ReasonForm(request.POST if request.POST.get("action") == "retirer" else None)
        if request.method == "POST":
            action = request.POST.get("action")
            try:
                with transaction.atomic():
                    if action == "proposer" and propose_form.is_valid():
                        services.propose_shortlist(
                            coaching, propose_form.cleaned_data["coachs"], by=request.user
                        )
                        messages.success(
                            request, "Présélection proposée : le cadre en est informé."
                        )
                        return redirect("admin:coaching_coaching_preselection", coaching.pk)
                    if action == "confirmer" and current is not None:
                        services.confirm_choice(current, by=request.user)
                        messages.success(
                            request,
                            f"Choix confirmé : {current.coach_choisi} est affecté, le coaching "
                            "est contractualisé et les autres coachs sont libérés.",
                        )
                        return redirect("admin:coaching_coaching_change", coaching.pk)
                    if action == "retirer" and current is not None and reason_form.is_valid():
                        services.withdraw_shortlist(
                            current, reason_form.cleaned_data["motif"], by=request.user
                        )
                        messages.success(request, "Présélection retirée : les coachs sont libérés.")
                        return redirect("admin:coaching_coaching_preselection", coaching.pk)
            except ValidationError as error:
                messages.error(request, " ".join(error.messages))
        meetings = EntretienDecouverte.objects.order_by("debut")
        preselections = coaching.preselections.select_related(
            "coach_choisi", "proposee_par", "cloturee_par"
        ).prefetch_related(
            Prefetch(
                "propositions",
                queryset=Proposition.objects.select_related("coach").prefetch_related(
                    Prefetch("entretiens", queryset=meetings)
                ),
            )
        )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": f"Présélection de coachs – {coaching}",
            "coaching": coaching,
            "preselections": list(preselections),
            "current": current,
            "can_propose": current is None and coaching.statut == Coaching.Statut.A_AFFECTER,
            "propose_form": propose_form,
            "reason_form": reason_form,
            "suggestions": self.suggestions(coaching),
        }
        return TemplateResponse(request, "admin/coaching/coaching/preselection.html", context)

    def extension_view(self, request, pk):
        """The délégué extends the allowance: the new total and the reason, recorded."""
        coaching = self.get_object(request, str(pk))  # 404 outside the perimeter
        if not self.has_change_permission(request, coaching):
            raise PermissionDenied
        form = ExtensionForm(
            request.POST or None, initial={"nouveau_total": coaching.nb_seances_prevues + 2}
        )
        if request.method == "POST" and form.is_valid():
            try:
                extension = services.extend_allowance(
                    coaching, by=request.user, **form.cleaned_data
                )
            except ValidationError as error:
                if hasattr(error, "error_dict"):
                    for field, errors in error.message_dict.items():
                        form.add_error(field if field in form.fields else None, errors)
                else:
                    form.add_error(None, error)
            else:
                messages.success(
                    request,
                    f"Forfait porté de {extension.ancien_total} à {extension.nouveau_total} "
                    "séances.",
                )
                return redirect("admin:coaching_coaching_change", coaching.pk)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": f"Prolonger le forfait de séances – {coaching}",
            "coaching": coaching,
            "allowance": coaching.allowance(),
            "form": form,
        }
        return TemplateResponse(request, "admin/coaching/coaching/forfait.html", context)

    def schedule_view(self, request, pk):
        """The délégué plans a session, with the coach's form and the same service
        (allowance, numbering, reminders and calendar)."""
        coaching = self.get_object(request, str(pk))  # 404 outside the perimeter
        if not self.has_change_permission(request, coaching):
            raise PermissionDenied
        form = ScheduleForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                seance = services.schedule(coaching, by=request.user, **form.cleaned_data)
            except ValidationError as error:
                form.add_service_error(error)
            else:
                messages.success(
                    request,
                    f"Séance n° {seance.numero} planifiée le "
                    f"{timezone.localtime(seance.debut):%d/%m/%Y à %H:%M}.",
                )
                return redirect("admin:coaching_coaching_change", coaching.pk)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": f"Planifier une séance – {coaching}",
            "coaching": coaching,
            "form": form,
        }
        return TemplateResponse(request, "admin/coaching/coaching/schedule.html", context)

    def budget_view(self, request):
        # External spending of every scheme (coaching and co-development), by ministry.
        return budget.spending_view(self, request)


def _d(accreditation):
    return accreditation.expire_le.strftime("%d/%m/%Y")
