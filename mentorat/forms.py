"""Portal forms of mentoring: answering a proposal, logging meetings, private notes,
the mentee's needs and wishes. Rules stay in ``services``."""

from django import forms

from accompagnement.models import Mode, Session
from cadres.forms import PortalFormMixin

from .models import Mentor, Mentore, PointEtape

DATETIME_WIDGET = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class AcceptForm(PortalFormMixin, forms.Form):
    submit_label = "Accepter la proposition"

    charte = forms.BooleanField(
        label="J'ai lu la charte du mentorat et je m'engage à la respecter.",
        error_messages={"required": "Acceptez la charte du mentorat pour accepter."},
    )


class DeclineForm(PortalFormMixin, forms.Form):
    submit_label = "Décliner la proposition"
    small = True

    motif = forms.CharField(
        label="Motif",
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Transmis au délégué, qui en tiendra compte pour une autre proposition.",
        error_messages={"required": "Indiquez pourquoi vous déclinez cette proposition."},
    )


class MeetingForm(PortalFormMixin, forms.Form):
    """A meeting held (a past date) or planned (a future date: reminders follow)."""

    submit_label = "Enregistrer la rencontre"

    debut = forms.DateTimeField(
        label="Date et heure",
        widget=DATETIME_WIDGET,
        help_text="Heure de Paris. Une date passée enregistre une rencontre tenue ; une date "
        "future la planifie, avec rappels et agenda.",
    )
    duree = forms.IntegerField(label="Durée (minutes)", initial=60, min_value=15, max_value=480)
    mode = forms.ChoiceField(label="Modalité", choices=Mode.choices, initial=Mode.PRESENTIEL)
    lieu = forms.CharField(label="Lieu", required=False, max_length=255)
    lien_visio = forms.URLField(
        label="Lien de visioconférence", required=False, assume_scheme="https"
    )
    note = forms.CharField(
        label="Note privée",
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Vous seul la lirez : ni l'autre membre du binôme, ni le délégué.",
    )


class MarkMeetingForm(forms.Form):
    statut = forms.ChoiceField(
        choices=[(Session.Statut.REALISEE, "Réalisée"), (Session.Statut.ANNULEE, "Annulée")]
    )


class NoteForm(PortalFormMixin, forms.Form):
    submit_label = "Enregistrer ma note"
    small = True

    texte = forms.CharField(
        label="Ma note privée",
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Laissez vide pour supprimer la note.",
    )


class BesoinsForm(PortalFormMixin, forms.ModelForm):
    """The mentee states needs and wishes while waiting for a mentor."""

    submit_label = "Enregistrer mes souhaits"

    class Meta:
        model = Mentore
        fields = [
            "besoins",
            "objectifs",
            "annees_experience",
            "ville",
            "mode_souhaite",
            "mentors_souhaites",
            "mentors_exclus",
        ]
        widgets = {
            "besoins": forms.CheckboxSelectMultiple,
            "objectifs": forms.Textarea(attrs={"rows": 4}),
            "mentors_souhaites": forms.CheckboxSelectMultiple,
            "mentors_exclus": forms.CheckboxSelectMultiple,
        }
        help_texts = {
            "ville": "Ville où vous travaillez : pour des rencontres en présentiel.",
            "mentors_exclus": "Des personnes que vous ne souhaitez pas avoir pour mentor "
            "(proximité professionnelle, par exemple).",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        mentors = Mentor.objects.filter(actif=True).order_by("nom", "prenom")
        self.fields["mentors_souhaites"].queryset = mentors
        self.fields["mentors_exclus"].queryset = mentors

    def clean(self):
        data = super().clean()
        both = set(data.get("mentors_souhaites") or ()) & set(data.get("mentors_exclus") or ())
        if both:
            names = ", ".join(str(m) for m in both)
            raise forms.ValidationError(
                f"Un mentor ne peut être à la fois souhaité et écarté : {names}."
            )
        return data


class PointEtapeForm(PortalFormMixin, forms.Form):
    """The two questions of a health check, 1 to 5, and an optional comment."""

    submit_label = "Envoyer mes réponses"

    utilite = forms.TypedChoiceField(
        label="Ce mentorat vous est-il utile ?",
        choices=PointEtape.NOTES,
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={"required": "Choisissez une note de 1 à 5."},
    )
    rythme = forms.TypedChoiceField(
        label="Vous rencontrez-vous comme prévu ?",
        choices=PointEtape.NOTES,
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={"required": "Choisissez une note de 1 à 5."},
    )
    commentaire = forms.CharField(
        label="Commentaire (facultatif)",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Lu par le délégué à l'encadrement supérieur seulement.",
    )
