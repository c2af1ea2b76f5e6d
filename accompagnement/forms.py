from django import forms
from django.utils import timezone

from cadres.forms import DsfrFormMixin

from .models import Demande, Evaluation


class DemandeForm(DsfrFormMixin, forms.ModelForm):
    submit_label = "Envoyer ma demande"

    class Meta:
        model = Demande
        fields = [
            "dispositif",
            "contexte",
            "motivation",
            "date_debut_souhaitee",
            "date_fin_souhaitee",
        ]
        widgets = {
            "date_debut_souhaitee": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "date_fin_souhaitee": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "motivation": forms.Textarea(attrs={"rows": 6}),
        }
        help_texts = {
            "motivation": (
                "Ce que vous attendez de l'accompagnement, votre situation, vos objectifs."
            ),
        }

    def clean_date_debut_souhaitee(self):
        debut = self.cleaned_data.get("date_debut_souhaitee")
        if debut and debut < timezone.localdate():
            raise forms.ValidationError("La date de début souhaitée ne peut pas être passée.")
        return debut

    def clean(self):
        data = super().clean()
        debut, fin = data.get("date_debut_souhaitee"), data.get("date_fin_souhaitee")
        if debut and fin and fin < debut:
            self.add_error("date_fin_souhaitee", "La fin souhaitée précède le début souhaité.")
        return data


class EvaluationForm(DsfrFormMixin, forms.ModelForm):
    submit_label = "Envoyer mon évaluation"
    satisfaction = forms.TypedChoiceField(
        label="Votre satisfaction globale (1 : pas du tout satisfait, 5 : très satisfait)",
        choices=[(i, str(i)) for i in range(1, 6)],
        coerce=int,
        widget=forms.RadioSelect,
    )

    class Meta:
        model = Evaluation
        fields = ["satisfaction", "objectifs_atteints", "commentaire"]
        widgets = {
            "objectifs_atteints": forms.RadioSelect,
            "commentaire": forms.Textarea(attrs={"rows": 4}),
        }
        labels = {"objectifs_atteints": "Les objectifs fixés ont-ils été atteints ?"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["objectifs_atteints"].required = True
        self.fields["objectifs_atteints"].choices = Evaluation.Objectifs.choices
