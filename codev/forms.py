"""Forms of the facilitator space (/codev/). They only collect input: the rules (group
size, cycle, rotation, runner state) stay in ``services``, whose ValidationErrors the
views put back on the form that caused them."""

from crispy_forms.layout import Fieldset, Layout
from django import forms

from accompagnement.models import Mode
from cadres.forms import PortalFormMixin
from cadres.models import Structure

from .models import PHASES, QUATRE_A, Groupe, Note, Seance, cycle_warnings

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
TIME_WIDGET = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
DATETIME_WIDGET = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")

# --- Groups --------------------------------------------------------------------


def phase_field_name(phase):
    return f"duree_{phase.value}"


# One field per step, declared on a form class so that the admin's fieldsets can name them.
PhaseTimingsFields = type(
    "PhaseTimingsFields",
    (forms.Form,),
    {
        phase_field_name(phase): forms.IntegerField(
            label=f"{phase.label} (minutes)", min_value=1, max_value=240
        )
        for phase in PHASES
    },
)


class GroupSettingsMixin(PhaseTimingsFields):
    """What the facilitator's form and the admin's form of a group share:

    - the timings of the steps, one field each, stored in ``Groupe.durees_phases``; the
      model's ``clean()`` checks that they fill the séance exactly;
    - the explicit confirmation of a cycle outside the usual frame (a séance every 2 to
      6 weeks, over 6 to 12 months), asked when the cycle is set or changed."""

    PHASE_FIELDS = [phase_field_name(phase) for phase in PHASES]
    CYCLE_FIELDS = ["rythme_semaines", "date_debut", "date_fin"]

    confirmer_cycle = forms.BooleanField(
        label="Je confirme ce calendrier inhabituel",
        required=False,
        help_text="Un cycle compte d'habitude une séance toutes les 2 à 6 semaines, sur 6 à "
        "12 mois.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        minutes = self.instance.durees_phases or {}
        for phase in PHASES:
            self.fields[phase_field_name(phase)].initial = minutes.get(phase.value)

    def clean(self):
        data = super().clean()
        if all(data.get(name) is not None for name in self.PHASE_FIELDS):
            self.instance.durees_phases = {
                phase.value: data[phase_field_name(phase)] for phase in PHASES
            }
        warnings = cycle_warnings(
            data.get("rythme_semaines"), data.get("date_debut"), data.get("date_fin")
        )
        changed = not self.instance.pk or any(f in self.changed_data for f in self.CYCLE_FIELDS)
        if warnings and changed and not data.get("confirmer_cycle"):
            self.add_error(
                "confirmer_cycle",
                [*warnings, "Cochez la case pour confirmer ce calendrier, ou modifiez-le."],
            )
        return data


class GroupeForm(GroupSettingsMixin, PortalFormMixin, forms.ModelForm):
    """A group of the facilitator space; a new one is led by the user creating it. The
    model's ``clean()`` (period, video link, timings) gives its messages on the fields."""

    submit_label = "Créer le groupe"

    lien_visio = forms.URLField(
        label="Lien de visioconférence",
        required=False,
        assume_scheme="https",
        help_text="Obligatoire pour un groupe à distance : adresse complète (https://…).",
    )

    class Meta:
        model = Groupe
        fields = [
            "nom",
            "theme",
            "structure",
            "animation",
            "prestataire",
            "montant_devis",
            "bon_de_commande",
            "mode",
            "lieu",
            "lien_visio",
            "date_debut",
            "date_fin",
            "rythme_semaines",
            "nb_seances_cible",
            "heure",
            "duree",
        ]
        widgets = {
            "date_debut": DATE_WIDGET,
            "date_fin": DATE_WIDGET,
            "heure": TIME_WIDGET,
        }
        help_texts = {
            "theme": "Exemple : conduire le changement dans son service.",
            "structure": (
                "Ministère ou direction qui organise le groupe : ses délégués à "
                "l'encadrement supérieur en suivent la présence, jamais le contenu."
            ),
            "lieu": "Pour des séances en présentiel : adresse, bâtiment, salle.",
            "animation": (
                "Un animateur d'un prestataire externe anime sur devis : son coût apparaît "
                "dans les dépenses externes suivies par les délégués."
            ),
            "date_debut": "Première séance à cette date, ou au premier jour ouvré qui suit.",
            "rythme_semaines": "Entre 2 et 6 semaines d'habitude (de 1 à 12).",
            "heure": "Heure de Paris.",
            "duree": "2 heures d'habitude : la somme des durées des étapes ci-dessous.",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.submit_label = "Enregistrer"
        structure = self.fields["structure"]
        structure.queryset = Structure.objects.filter(niveau__lte=1).order_by("chemin")
        structure.empty_label = "Choisir une structure"
        self.fields["mode"].initial = Mode.PRESENTIEL

    @property
    def helper(self):
        helper = super().helper
        helper.layout = Layout(
            Fieldset("Le groupe", "nom", "theme", "structure"),
            Fieldset("Animation", "animation", "prestataire", "montant_devis", "bon_de_commande"),
            Fieldset("Modalités", "mode", "lieu", "lien_visio"),
            Fieldset(
                "Cycle",
                "date_debut",
                "date_fin",
                "rythme_semaines",
                "confirmer_cycle",
                "nb_seances_cible",
                "heure",
            ),
            Fieldset("Déroulé d'une séance", "duree", *self.PHASE_FIELDS),
        )
        return helper


class AddMemberForm(PortalFormMixin, forms.Form):
    submit_label = "Ajouter au groupe"
    auto_id = "id_ajout_%s"

    email = forms.EmailField(
        label="Adresse électronique du cadre",
        help_text="Adresse professionnelle du cadre, telle que connue de son dossier.",
    )


# --- The cycle's séances (group page) ------------------------------------------


class ClientForm(PortalFormMixin, forms.Form):
    """The animateur swaps the client of a séance to come. Choices are the members of
    the group on that day, given by the view (no query at rendering)."""

    submit_label = "Changer le client"
    small = True

    membre = forms.TypedChoiceField(label="Client", coerce=int)

    def __init__(self, *args, membres=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["membre"].choices = [(m.pk, str(m.cadre)) for m in membres]


class RescheduleForm(PortalFormMixin, forms.Form):
    submit_label = "Déplacer"
    small = True

    debut = forms.DateTimeField(
        label="Nouvelle date et heure",
        widget=DATETIME_WIDGET,
        help_text="Heure de Paris. Les rappels et les agendas suivent.",
    )


# --- The runner ----------------------------------------------------------------


class AttendanceForm(PortalFormMixin, forms.Form):
    submit_label = "Enregistrer la présence"
    auto_id = "id_presence_%s"

    presents = forms.TypedMultipleChoiceField(
        label="Membres présents",
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Décochez les absents.",
    )

    def __init__(self, *args, membres=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["presents"].choices = [(m.pk, str(m.cadre)) for m in membres]


class ProblemeForm(PortalFormMixin, forms.Form):
    submit_label = "Enregistrer l'exposé"
    auto_id = "id_probleme_%s"

    probleme = forms.CharField(
        label="Problématique exposée par le client",
        widget=forms.Textarea(attrs={"rows": 5}),
        max_length=10_000,
        help_text="La situation, le problème, le projet ou la préoccupation, en quelques lignes.",
    )


class ContratForm(PortalFormMixin, forms.Form):
    submit_label = "Enregistrer le contrat"
    auto_id = "id_contrat_%s"

    consultation = forms.ChoiceField(
        label="Type de consultation demandée",
        choices=Seance.Consultation.choices,
        widget=forms.RadioSelect,
    )
    contrat = forms.CharField(
        label="Demande du client",
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=10_000,
        help_text="La question que le client pose au groupe, dans ses mots.",
    )


class PlanForm(PortalFormMixin, forms.Form):
    submit_label = "Enregistrer le plan d'action"
    auto_id = "id_plan_%s"

    actions = forms.CharField(
        label="Plan d'action du client",
        widget=forms.Textarea(attrs={"rows": 6}),
        max_length=10_000,
        help_text="Ce que le client retient et les actions qu'il engage : il en rendra compte "
        "au tour d'ouverture de la séance suivante.",
    )


class SuiviForm(PortalFormMixin, forms.Form):
    submit_label = "Enregistrer le suivi"
    auto_id = "id_suivi_%s"

    suivi = forms.CharField(
        label="Suivi du plan d'action",
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=10_000,
        help_text="Ce qui a été fait, ce qui reste, ce qui a changé depuis la dernière séance.",
    )


class LearningsForm(PortalFormMixin, forms.Form):
    """One text area per member present: ``membre_<pk>``."""

    submit_label = "Enregistrer les apprentissages"
    auto_id = "id_apprentissages_%s"

    def __init__(self, *args, membres=(), **kwargs):
        super().__init__(*args, **kwargs)
        for membre in membres:
            self.fields[f"membre_{membre.pk}"] = forms.CharField(
                label=f"Apprentissages de {membre.cadre}",
                required=False,
                max_length=10_000,
                widget=forms.Textarea(attrs={"rows": 3}),
            )

    def texts(self):
        """(member's pk, text) of each area filled in."""
        return [
            (int(name.removeprefix("membre_")), value.strip())
            for name, value in self.cleaned_data.items()
            if value and value.strip()
        ]


class RegulationForm(PortalFormMixin, forms.Form):
    submit_label = "Enregistrer l'appréciation"
    auto_id = "id_regulation_%s"

    note_regulation = forms.TypedChoiceField(
        label="Appréciation de la séance par le groupe",
        coerce=int,
        choices=[(n, f"{n} sur 5") for n in range(1, 6)],
        widget=forms.RadioSelect,
        help_text="De 1 (la séance n'a pas aidé) à 5 (très utile).",
    )


class NextPhaseForm(forms.Form):
    """The runner's main button. ``depuis`` is the phase the page showed: a second click
    from a stale page (or another device) does not skip a phase."""

    depuis = forms.CharField(required=False, widget=forms.HiddenInput)


# --- The four-A evaluation (members) -------------------------------------------


class EvaluationForm(PortalFormMixin, forms.Form):
    """The four A, each from 1 to 5: short, and anonymous once recorded."""

    submit_label = "Envoyer ma réponse anonyme"
    auto_id = "id_evaluation_%s"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, label, question in QUATRE_A:
            self.fields[name] = forms.TypedChoiceField(
                label=f"{label} : {question}",
                coerce=int,
                choices=Note.choices,
                widget=forms.RadioSelect,
            )
