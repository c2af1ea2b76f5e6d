"""Forms of the facilitator space (/codev/). They only collect input: the rules (group
size, cycle, rotation, runner state) stay in ``services``, whose ValidationErrors the
views put back on the form that caused them."""

from django import forms

from accompagnement.models import Mode
from cadres.forms import PortalFormMixin
from cadres.models import Structure

from .models import Groupe, Seance

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
TIME_WIDGET = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
DATETIME_WIDGET = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")

# --- Groups --------------------------------------------------------------------


class GroupeForm(PortalFormMixin, forms.ModelForm):
    """A new group; the animateur is the user creating it. The model's ``clean()``
    (period, video link) gives its messages on the fields."""

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
            "date_debut": "Première séance à cette date, ou au premier jour ouvré qui suit.",
            "rythme_semaines": "Entre 2 et 6 semaines d'habitude (de 1 à 12).",
            "heure": "Heure de Paris.",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        structure = self.fields["structure"]
        structure.queryset = Structure.objects.filter(niveau__lte=1).order_by("chemin")
        structure.empty_label = "Choisir une structure"
        self.fields["mode"].initial = Mode.PRESENTIEL


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
