"""Forms of the cohort pages in the admin. They only collect input: the rules live in
``cohortes.services``, whose ValidationErrors the views put back on the form."""

from django import forms
from django.utils import timezone

from cadres.models import Cadre, Structure, Vivier
from cadres.perimeter import filter_for_user
from codev.admin import animateurs

from .models import Cohorte

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class CohorteCreationForm(forms.Form):
    PROGRAMME = ["nom", "structure", "date_debut", "date_fin", "droit_coaching", "droit_immersion"]
    MEMBERS = ["origine", "vivier", "filtre_structure", "categorie", "liste"]

    nom = forms.CharField(label="Nom du programme", max_length=200)
    structure = forms.ModelChoiceField(
        label="Structure organisatrice",
        queryset=Structure.objects.none(),
        help_text="Les membres sont choisis dans cette structure et ses sous-structures.",
    )
    date_debut = forms.DateField(label="Début", widget=DATE_WIDGET)
    date_fin = forms.DateField(
        label="Fin", widget=DATE_WIDGET, help_text="Un programme dure de 3 à 12 mois."
    )
    origine = forms.ChoiceField(
        label="Constituer la cohorte à partir de",
        choices=Cohorte.Origine.choices,
        widget=forms.RadioSelect,
        initial=Cohorte.Origine.VIVIER,
    )
    vivier = forms.ModelChoiceField(
        label="Vivier",
        queryset=Vivier.objects.filter(actif=True),
        required=False,
        help_text="Tous les cadres actifs du vivier dans la structure organisatrice.",
    )
    filtre_structure = forms.ModelChoiceField(
        label="Structure sélectionnée",
        queryset=Structure.objects.none(),
        required=False,
        help_text="Les cadres actifs de cette structure et de ses sous-structures.",
    )
    categorie = forms.ChoiceField(
        label="Catégorie",
        choices=[("", "Toutes")] + list(Cadre.Categorie.choices),
        required=False,
    )
    liste = forms.CharField(
        label="Liste de cadres",
        required=False,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text="Identifiants RH ou adresses électroniques, un par ligne.",
    )
    droit_coaching = forms.BooleanField(label="Ouvrir un droit à un coaching", required=False)
    droit_immersion = forms.BooleanField(
        label="Ouvrir un droit à une période d'immersion", required=False
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        structures = filter_for_user(Structure.objects.all(), user, "")
        self.fields["structure"].queryset = structures
        self.fields["filtre_structure"].queryset = structures
        today = timezone.localdate()
        self.fields["date_debut"].initial = today


class MoveForm(forms.Form):
    """Move one person of the composition to another group."""

    cadre = forms.TypedChoiceField(label="Personne", coerce=int)
    groupe = forms.TypedChoiceField(label="Vers le groupe", coerce=int)

    def __init__(self, *args, composition, names, **kwargs):
        super().__init__(*args, **kwargs)
        groups = composition.get("groups", [])
        self.fields["cadre"].choices = [
            (pk, names.get(pk, pk)) for group in groups for pk in sorted(group, key=names.get)
        ]
        self.fields["groupe"].choices = [(i, f"Groupe {i + 1}") for i in range(len(groups))]


class ConfirmGroupsForm(forms.Form):
    """The cycle's dates and an animateur per group of the composition."""

    date_debut = forms.DateField(label="Début du cycle", widget=DATE_WIDGET)
    date_fin = forms.DateField(label="Fin du cycle", widget=DATE_WIDGET)
    rythme_semaines = forms.IntegerField(
        label="Rythme (semaines entre deux séances)", min_value=1, max_value=12, initial=3
    )

    def __init__(self, *args, cohorte, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["date_debut"].initial = cohorte.date_debut
        self.fields["date_fin"].initial = cohorte.date_fin
        choices = animateurs()
        for number in range(1, len(cohorte.composition.get("groups", [])) + 1):
            self.fields[f"animateur_{number}"] = forms.ModelChoiceField(
                label=f"Animateur du groupe {number}", queryset=choices
            )

    def animateurs(self):
        names = sorted(
            (n for n in self.cleaned_data if n.startswith("animateur_")),
            key=lambda n: int(n.split("_")[1]),
        )
        return [self.cleaned_data[n] for n in names]

    def clean(self):
        cleaned = super().clean()
        debut, fin = cleaned.get("date_debut"), cleaned.get("date_fin")
        if debut and fin and fin <= debut:
            self.add_error("date_fin", "La fin du cycle doit suivre son début.")
        return cleaned
