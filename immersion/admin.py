"""Immersions in the admin, inside the délégué's perimeter.

The request's data, its days and the decision all go through ``immersion.services``:
the form checks them (the décret's rules and the decision's reasons, French errors on
the fields) and ``save_model`` applies them, so that a change to what the convention
states voids its signatures and makes a new version, and an acceptance generates the
convention and asks the three parties to sign. The PDF of each version is served by an
admin URL that checks the perimeter; no PDF content is loaded by the lists.
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, IntegerField, Min, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.views.decorators.http import require_POST
from import_export import fields, resources

from cadres.admin_mixins import ReadOnlyAdminMixin
from cadres.exports import StreamingExportMixin
from cadres.perimeter import PerimeterAdminMixin

from . import rules, services
from .forms import REQUEST_FIELDS, DaysField, format_days
from .models import Convention, Immersion, JourImmersion, Signataire, Signature

S = Immersion.Statut
WEEKDAYS = ["lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"]


def _count(queryset, outer):
    """A correlated COUNT(*) of ``queryset`` grouped on ``outer`` (0 when empty)."""
    counted = queryset.order_by().values(outer).annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def annotate_list(queryset, today=None):
    """Days, first day, signatures of the current version and the agent's days over
    the 3-year window: one query for the whole list, whatever its size."""
    today = today or timezone.localdate()
    current = Signature.objects.filter(
        convention__immersion=OuterRef("pk"), convention__annulee_le__isnull=True
    )
    used = JourImmersion.objects.counting().filter(
        immersion__cadre=OuterRef("cadre"),
        date__gte=today - rules.FENETRE,
        date__lt=today + rules.FENETRE,
    )
    first = (
        JourImmersion.objects.filter(immersion=OuterRef("pk"))
        .order_by()
        .values("immersion")
        .annotate(d=Min("date"))
        .values("d")
    )
    return queryset.annotate(
        nb_jours=_count(JourImmersion.objects.filter(immersion=OuterRef("pk")), "immersion"),
        premier_jour=Subquery(first),
        signataires=_count(current, "convention"),
        signees=_count(current.filter(signe_le__isnull=False), "convention"),
        jours_3_ans=_count(used, "immersion__cadre"),
    )


# --- Form ------------------------------------------------------------------------


class ImmersionAdminForm(forms.ModelForm):
    """The request as the délégué edits it; the days one a line, as in the portal.
    The status offers only the decisions open from the current one."""

    jours = DaysField()

    class Meta:
        model = Immersion
        fields = [
            "cadre",
            *REQUEST_FIELDS,
            "recue_le",
            "accord_delai_court",
            "statut",
            "motif_decision",
            "ordre_mission_numero",
            "ordre_mission_date",
            "commentaire_interne",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        stored = self.instance.statut if self.instance.pk else S.DEMANDEE
        if self.instance.pk:
            self.initial["jours"] = format_days(self.instance.dates)
        if "statut" in self.fields:
            open_ = [s for s in Immersion.DECISIONS if s in services.TRANSITIONS[S(stored)]]
            labels = dict(S.choices)
            self.fields["statut"].choices = [(stored, labels[stored])] + [
                (s.value, labels[s]) for s in open_
            ]
            if not open_:
                self.fields["statut"].disabled = True
                self.fields["statut"].help_text = (
                    "Les étapes suivantes (signatures, fin de l'immersion) sont enregistrées "
                    "automatiquement."
                )
            else:
                self.fields["statut"].help_text = (
                    "La décision est due dans le mois qui suit la réception. Un refus ou un "
                    "report est motivé ; l'accord génère la convention à signer."
                )

    def _stored(self):
        if self.instance.pk:
            return Immersion.objects.select_related("cadre").get(pk=self.instance.pk)
        return Immersion(statut=S.DEMANDEE)

    def clean(self):
        data = super().clean()
        stored = self._stored()
        cadre = data.get("cadre") or (stored.cadre if stored.pk else None)
        try:
            statut = data.get("statut")
            if statut and statut != stored.statut:
                services.check_decision(stored, statut, data.get("motif_decision") or "")
        except ValidationError as error:
            self._add_service_errors(error)
        days = data.get("jours")
        rechecked = {"jours", "recue_le", "accord_delai_court"} & set(self.changed_data)
        if days and cadre is not None and data.get("recue_le") and (not stored.pk or rechecked):
            try:
                services.validate(
                    cadre,
                    days,
                    data["recue_le"],
                    data.get("accord_delai_court", False),
                    exclude=stored if stored.pk else None,
                )
            except ValidationError as error:
                self._add_service_errors(error)
        return data

    def _add_service_errors(self, error):
        if not hasattr(error, "error_dict"):
            self.add_error(None, error.messages)
            return
        for field, errors in error.message_dict.items():
            self.add_error(field if field in self.fields else None, errors)


# --- Export ------------------------------------------------------------------------


class ImmersionResource(resources.ModelResource):
    agent = fields.Field(attribute="cadre", column_name="agent")
    agent_email = fields.Field(attribute="cadre__email", column_name="courriel de l'agent")
    structure = fields.Field(attribute="cadre__structure__nom", column_name="structure de l'agent")
    statut = fields.Field(attribute="get_statut_display", column_name="statut")
    premier_jour = fields.Field(attribute="premier_jour", column_name="premier jour")
    nb_jours = fields.Field(attribute="nb_jours", column_name="jours")
    jours_3_ans = fields.Field(attribute="jours_3_ans", column_name="jours de l'agent sur 3 ans")
    signatures = fields.Field(column_name="signatures")

    class Meta:
        model = Immersion
        fields = [
            "id",
            "agent",
            "agent_email",
            "structure",
            "structure_accueil",
            "lieu",
            "statut",
            "recue_le",
            "decidee_le",
            "premier_jour",
            "nb_jours",
            "jours_3_ans",
            "signatures",
        ]
        export_order = fields

    def dehydrate_signatures(self, obj):
        total = getattr(obj, "signataires", 0)
        return f"{obj.signees} / {total}" if total else ""


# --- Inlines -------------------------------------------------------------------------


class JourImmersionInline(ReadOnlyAdminMixin, admin.TabularInline):
    """The days, as recorded: they change through the « Jours d'immersion » field, so
    that the décret's rules apply and the convention follows."""

    model = JourImmersion
    fields = readonly_fields = ["date", "jour_ouvre"]
    extra = 0
    can_delete = False
    verbose_name_plural = "jours d'immersion enregistrés"

    @admin.display(description="jour de la semaine")
    def jour_ouvre(self, obj):
        return WEEKDAYS[obj.date.weekday()]


def signatures_html(signatures):
    return format_html_join(
        "",
        "<li>{} – {} : {}</li>",
        (
            (
                s.get_partie_display(),
                f"{s.nom} ({s.fonction})" if s.fonction else s.nom,
                (
                    f"signée le {timezone.localtime(s.signe_le):%d/%m/%Y à %H:%M}"
                    if s.signe_le
                    else "en attente"
                ),
            )
            for s in signatures
        ),
    )


class ConventionInline(ReadOnlyAdminMixin, admin.TabularInline):
    """Versions of the convention, read only, without their PDF content."""

    model = Convention
    fields = readonly_fields = ["version", "cree_le", "annulee_le", "sha256", "etat", "document"]
    extra = 0
    can_delete = False
    verbose_name_plural = "versions de la convention"

    def get_queryset(self, request):
        return super().get_queryset(request).defer("pdf").prefetch_related("signatures")

    @admin.display(description="signatures")
    def etat(self, obj):
        if obj is None or obj.pk is None:
            return "—"
        return format_html("<ul>{}</ul>", signatures_html(obj.signatures.all()))

    @admin.display(description="PDF")
    def document(self, obj):
        if obj is None or obj.pk is None:
            return "—"
        url = reverse("admin:immersion_immersion_convention_pdf", args=[obj.immersion_id, obj.pk])
        return format_html('<a href="{}">Télécharger la version {}</a>', url, obj.version)


class SignataireInline(admin.TabularInline):
    """Further signatories of a party (the employer's HR beside the line manager...).
    Saved through ``services.update`` with the rest: as they are stated in the
    convention, a change makes a new version to be signed again."""

    model = Signataire
    fields = ["partie", "nom", "fonction", "email"]
    extra = 0
    verbose_name_plural = (
        "signataires supplémentaires (en plus des représentants ; une partie a signé "
        "lorsque tous ses signataires ont signé)"
    )


# --- Immersion --------------------------------------------------------------------


@admin.register(Immersion)
class ImmersionAdmin(PerimeterAdminMixin, StreamingExportMixin, admin.ModelAdmin):
    perimeter_field = "cadre__structure"
    form = ImmersionAdminForm
    export_resource_class = ImmersionResource
    view_on_site = False  # the portal page belongs to the agent
    list_display = [
        "cadre",
        "structure_accueil",
        "premier_jour_col",
        "nb_jours_col",
        "statut",
        "signatures_col",
        "jours_3_ans_col",
        "echeance_col",
    ]
    list_select_related = ["cadre__structure"]
    list_filter = ["statut", "accord_delai_court"]
    search_fields = [
        "cadre__nom",
        "cadre__prenom",
        "cadre__email",
        "structure_accueil",
        "lieu",
        "tuteur_nom",
    ]
    autocomplete_fields = ["cadre"]
    list_per_page = 50
    show_full_result_count = False
    fieldsets = [
        ("Convention", {"fields": ["etat_convention"]}),
        (
            "Demande",
            {
                "fields": [
                    "cadre",
                    "motivation",
                    "projet_professionnel",
                    ("recue_le", "accord_delai_court"),
                    "jours",
                    "deplacement",
                ]
            },
        ),
        (
            "Accueil",
            {
                "fields": [
                    "structure_accueil",
                    "lieu",
                    "fonctions_observees",
                    ("tuteur_nom", "tuteur_fonction"),
                    ("tuteur_email", "tuteur_telephone"),
                    ("accueil_representant_nom", "accueil_representant_email"),
                ]
            },
        ),
        (
            "Administration d'emploi",
            {"fields": [("employeur_representant_nom", "employeur_representant_email")]},
        ),
        (
            "Décision",
            {"fields": ["echeance", "statut", "motif_decision", "decidee_par", "decidee_le"]},
        ),
        (
            "Ordre de mission et réalisation",
            {
                "description": "L'ordre de mission ne figure pas dans la convention : "
                "l'enregistrer n'annule aucune signature. Avec un déplacement, il est requis "
                "pour commencer l'immersion.",
                "fields": [
                    ("ordre_mission_numero", "ordre_mission_date"),
                    "commencee_le",
                    "realisation",
                ],
            },
        ),
        ("Suivi interne", {"fields": ["commentaire_interne"]}),
    ]

    def get_queryset(self, request):
        return annotate_list(super().get_queryset(request).select_related("cadre__structure"))

    def get_readonly_fields(self, request, obj=None):
        fields = [
            "etat_convention",
            "echeance",
            "decidee_par",
            "decidee_le",
            "commencee_le",
            "realisation",
        ]
        if obj is not None:
            fields.append("cadre")  # an immersion does not move to another agent
        return fields

    # Before the request exists: no convention, no ordre de mission, no follow-up yet.
    ADD_FIELDSETS = ("Demande", "Accueil", "Administration d'emploi", "Décision")

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return [f for f in self.fieldsets if f[0] in self.ADD_FIELDSETS]
        return self.fieldsets

    def get_inlines(self, request, obj):
        if obj is None:
            return [SignataireInline]
        return [SignataireInline, JourImmersionInline, ConventionInline]

    # --- Columns --------------------------------------------------------------------

    @admin.display(description="premier jour", ordering="premier_jour")
    def premier_jour_col(self, obj):
        return obj.premier_jour.strftime("%d/%m/%Y") if obj.premier_jour else "—"

    @admin.display(description="jours", ordering="nb_jours")
    def nb_jours_col(self, obj):
        return obj.nb_jours

    @admin.display(description="signatures")
    def signatures_col(self, obj):
        if not obj.signataires:
            return "—"
        text = f"{obj.signees} / {obj.signataires}"
        if obj.signees < obj.signataires:
            return format_html('<strong style="color:#b34000">{}</strong>', text)
        return text

    @admin.display(description="jours de l'agent sur 3 ans", ordering="jours_3_ans")
    def jours_3_ans_col(self, obj):
        text = f"{obj.jours_3_ans} / {rules.PLAFOND_JOURS}"
        if obj.jours_3_ans > rules.PLAFOND_JOURS:
            return format_html('<strong style="color:#ce0500">{}</strong>', text)
        return text

    @admin.display(description="décision avant le", ordering="recue_le")
    def echeance_col(self, obj):
        deadline = rules.decision_deadline(obj.recue_le)
        if obj.statut == S.DEMANDEE and deadline < timezone.localdate():
            return format_html(
                '<strong style="color:#ce0500">⚠ {} – en retard</strong>',
                deadline.strftime("%d/%m/%Y"),
            )
        return deadline.strftime("%d/%m/%Y")

    @admin.display(description="décision avant le")
    def echeance(self, obj):
        if obj is None or obj.pk is None:
            return "Un mois après la réception de la demande."
        return self.echeance_col(obj)

    @admin.display(description="état de la convention")
    def etat_convention(self, obj):
        """The signatures party by party, the start gate's alert (who has not signed,
        by name and role; a missing ordre de mission) and the buttons that act on
        them. The buttons post the change form to their own URL (``formaction``)."""
        convention = services.current_convention_light(obj)
        if convention is None:
            return "Pas encore de convention : elle est générée à l'accord de la hiérarchie."
        gate = services.gate_to_show(obj, convention)
        signatures = list(convention.signatures.all())
        return render_to_string(
            "admin/immersion/etat_convention.html",
            {
                "immersion": obj,
                "convention": convention,
                "parties": convention.parties(),
                "signees": sum(1 for s in signatures if s.signe_le),
                "total": len(signatures),
                "gate": gate,
                "admin": True,
                "start_url": reverse("admin:immersion_immersion_start", args=[obj.pk]),
                "can_start": gate is None and obj.statut == S.SIGNEE and not obj.commencee_le,
                "renew_url": "admin:immersion_immersion_renew_link",
            },
        )

    # --- Saving through the services ---------------------------------------------------

    def save_model(self, request, obj, form, change):
        # Everything is saved by save_related, through the services, once the
        # signatories' inline is known too: one change, at most one new version.
        pass

    def save_related(self, request, form, formsets, change):
        data = form.cleaned_data
        statut = data.get("statut") or form.instance.statut
        motif = data.get("motif_decision") or ""
        signataires = None
        for formset in formsets:
            if formset.model is Signataire and formset.has_changed():
                signataires = [
                    {k: f.cleaned_data[k] for k in ("partie", "nom", "fonction", "email")}
                    for f in formset.forms
                    if f.cleaned_data and not f.cleaned_data.get("DELETE")
                ]
        try:
            with transaction.atomic():  # a refusal leaves nothing half-done
                self._save_through_services(
                    request, form.instance, form, change, statut, motif, signataires
                )
        except ValidationError as error:
            # Another délégué got there first, or the data moved meanwhile: nothing is kept.
            messages.error(request, " ".join(error.messages))
        # No inline saves itself (the services did it all): nothing for the change log.
        for formset in formsets:
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []

    def _save_through_services(self, request, obj, form, change, statut, motif, signataires):
        data = form.cleaned_data
        if not change:
            created = services.submit(
                data["cadre"],
                data["jours"],
                by=request.user,
                accord_delai_court=data.get("accord_delai_court", False),
                recue_le=data["recue_le"],
                signataires=signataires or (),
                **{f: data[f] for f in REQUEST_FIELDS},
            )
            obj.pk = created.pk
            obj._state.adding = False
            if statut != S.DEMANDEE:
                self._decide(request, created, statut, motif)
            return
        stored = Immersion.objects.get(pk=obj.pk)
        before = stored.current_convention()
        editable = [
            *REQUEST_FIELDS,
            "recue_le",
            "accord_delai_court",
            "motif_decision",
            "ordre_mission_numero",
            "ordre_mission_date",
            "commentaire_interne",
        ]
        changes = {f: data[f] for f in form.changed_data if f in editable}
        if statut != stored.statut:
            changes.pop("motif_decision", None)  # recorded with the decision
        days = data["jours"] if "jours" in form.changed_data else None
        if changes or days is not None or signataires is not None:
            after = services.update(stored, days=days, signataires=signataires, **changes)
            if before is not None and after is not None and after.pk != before.pk:
                self._new_version_message(request, before, after)
            elif before is not None and stored.current_convention() is None:
                self._new_version_message(request, before, None)
        if statut != stored.statut:
            self._decide(request, stored, statut, motif)

    def _new_version_message(self, request, before, after):
        nouvelle = f"la version {after.version}" if after else "une nouvelle version"
        messages.warning(
            request,
            f"La convention change : {nouvelle} remplace la version {before.version}, dont "
            "les signatures sont annulées. Les parties sont invitées à signer la nouvelle "
            "version.",
        )

    def _decide(self, request, immersion, statut, motif):
        services.decide(immersion, statut, motif, by=request.user)
        if statut == S.ACCEPTEE:
            messages.info(
                request,
                "Accord enregistré : la convention est générée et envoyée aux parties "
                "pour signature.",
            )
        else:
            messages.info(request, "La décision motivée est enregistrée et notifiée à l'agent.")

    # --- PDF of a version ------------------------------------------------------------

    def get_urls(self):
        return [
            path(
                "<int:pk>/convention/<int:convention_pk>/pdf/",
                self.admin_site.admin_view(self.convention_pdf_view),
                name="immersion_immersion_convention_pdf",
            ),
            path(
                "<int:pk>/commencer/",
                self.admin_site.admin_view(require_POST(self.start_view)),
                name="immersion_immersion_start",
            ),
            path(
                "<int:pk>/signature/<int:signature_pk>/renouveler/",
                self.admin_site.admin_view(require_POST(self.renew_link_view)),
                name="immersion_immersion_renew_link",
            ),
            *super().get_urls(),
        ]

    def _changeable(self, request, pk):
        immersion = self.get_object(request, str(pk))  # 404 outside the perimeter
        if immersion is None:
            raise Http404("Cette immersion n'existe pas.")
        if not self.has_change_permission(request, immersion):
            raise PermissionDenied
        return immersion

    def start_view(self, request, pk):
        """Mark started, through the service (refused while someone has not signed)."""
        immersion = self._changeable(request, pk)
        try:
            services.start(immersion)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, "Le début de l'immersion est enregistré.")
        return HttpResponseRedirect(reverse("admin:immersion_immersion_change", args=[pk]))

    def renew_link_view(self, request, pk, signature_pk):
        """A new 30-day link for a signatory of the current version; the old one dies."""
        immersion = self._changeable(request, pk)
        signature = Signature.objects.filter(
            convention__immersion=immersion, pk=signature_pk
        ).first()
        if signature is None:
            raise Http404("Ce signataire n'existe pas.")
        try:
            signature = services.renew_link(signature, by=request.user)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(
                request,
                f"Un nouveau lien, valable jusqu'au "
                f"{timezone.localtime(signature.expire_le):%d/%m/%Y}, est envoyé à "
                f"{signature.nom} ({signature.email}) ; l'ancien ne fonctionne plus.",
            )
        return HttpResponseRedirect(reverse("admin:immersion_immersion_change", args=[pk]))

    def convention_pdf_view(self, request, pk, convention_pk):
        immersion = self.get_object(request, str(pk))  # 404 outside the perimeter
        if not self.has_view_permission(request, immersion):
            raise PermissionDenied
        convention = Convention.objects.filter(immersion=immersion, pk=convention_pk).first()
        if convention is None:
            raise Http404("Cette version de la convention n'existe pas.")
        response = HttpResponse(bytes(convention.pdf), content_type="application/pdf")
        response["Content-Disposition"] = (
            f'inline; filename="convention-immersion-{immersion.pk}-v{convention.version}.pdf"'
        )
        return response
