"""Forms of the immersion: the agent's request (portal), the feedback (agent and
tutor). The décret's rules stay in ``rules`` / ``services``; here, only the parsing of
the list of days, one a line."""

from datetime import datetime

from django import forms
from django.core.exceptions import ValidationError

from cadres.forms import PortalFormMixin

from .models import Immersion, Retour

DAYS_HELP = (
    "Un jour par ligne, au format jj/mm/aaaa (par exemple 14/06/2027). Les jours peuvent "
    "être consécutifs ou non ; seuls les jours ouvrés comptent (ni week-end, ni jour férié)."
)


def parse_days(text):
    """The dates of ``text``, one a line (jj/mm/aaaa); every bad line is reported."""
    days, errors = [], []
    for number, line in enumerate((text or "").splitlines(), start=1):
        value = line.strip()
        if not value:
            continue
        try:
            day = datetime.strptime(value, "%d/%m/%Y").date()
        except ValueError:
            errors.append(f"Ligne {number} : « {value} » n'est pas une date au format jj/mm/aaaa.")
            continue
        if day in days:
            errors.append(f"Ligne {number} : le {value} figure déjà dans la liste.")
            continue
        days.append(day)
    if errors:
        raise ValidationError(errors)
    if not days:
        raise ValidationError("Indiquez les jours de l'immersion, un par ligne (jj/mm/aaaa).")
    return sorted(days)


def format_days(days):
    return "\n".join(f"{d:%d/%m/%Y}" for d in sorted(days))


class DaysField(forms.CharField):
    widget = forms.Textarea(attrs={"rows": 6, "placeholder": "14/06/2027\n15/06/2027"})

    def __init__(self, **kwargs):
        kwargs.setdefault("label", "Jours d'immersion")
        kwargs.setdefault("help_text", DAYS_HELP)
        super().__init__(**kwargs)

    def prepare_value(self, value):
        if isinstance(value, list | tuple):
            return format_days(value)
        return value

    def clean(self, value):
        value = super().clean(value)
        return parse_days(value)


# Fields of the request, as the service's ``submit`` takes them.
REQUEST_FIELDS = [
    "motivation",
    "projet_professionnel",
    "structure_accueil",
    "lieu",
    "fonctions_observees",
    "tuteur_nom",
    "tuteur_fonction",
    "tuteur_email",
    "tuteur_telephone",
    "accueil_representant_nom",
    "accueil_representant_email",
    "employeur_representant_nom",
    "employeur_representant_email",
    "deplacement",
]


class ImmersionRequestForm(PortalFormMixin, forms.Form):
    """The agent asks for an immersion."""

    submit_label = "Envoyer ma demande"

    motivation = forms.CharField(
        label="Motivation",
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Pourquoi cette immersion, pourquoi maintenant.",
    )
    projet_professionnel = forms.CharField(
        label="Projet professionnel",
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Le projet que l'immersion doit éclairer ou confirmer.",
    )
    structure_accueil = forms.CharField(
        label="Structure d'accueil souhaitée",
        max_length=255,
        help_text="Tout employeur public, même absent de nos référentiels : saisie libre.",
    )
    lieu = forms.CharField(label="Lieu de l'immersion", max_length=255)
    fonctions_observees = forms.CharField(
        label="Fonctions observées", widget=forms.Textarea(attrs={"rows": 3})
    )
    tuteur_nom = forms.CharField(label="Nom du tuteur ou de la tutrice", max_length=150)
    tuteur_fonction = forms.CharField(
        label="Fonction du tuteur ou de la tutrice", max_length=150, required=False
    )
    tuteur_email = forms.EmailField(label="Courriel du tuteur ou de la tutrice")
    tuteur_telephone = forms.CharField(
        label="Téléphone du tuteur ou de la tutrice", max_length=30, required=False
    )
    accueil_representant_nom = forms.CharField(
        label="Représentant de la structure d'accueil (signataire)", max_length=150
    )
    accueil_representant_email = forms.EmailField(
        label="Courriel du représentant de la structure d'accueil"
    )
    employeur_representant_nom = forms.CharField(
        label="Représentant de votre administration (signataire)",
        max_length=150,
        help_text="Par défaut, le délégué à l'encadrement supérieur qui suit votre dossier.",
    )
    employeur_representant_email = forms.EmailField(
        label="Courriel du représentant de votre administration"
    )
    deplacement = forms.BooleanField(
        label="L'immersion implique un déplacement hors de ma résidence administrative",
        required=False,
        help_text="Vous êtes alors en mission : un ordre de mission doit être établi avant le "
        "premier jour, pour la prise en charge de vos frais de déplacement.",
    )
    jours = DaysField()

    def request_data(self):
        return {name: self.cleaned_data[name] for name in REQUEST_FIELDS}


class FeedbackForm(PortalFormMixin, forms.Form):
    """End-of-immersion feedback, the agent's or the tutor's. The first one also says
    whether the immersion was done, and which days were missed (the rules on the
    answer are the service's)."""

    submit_label = "Envoyer mon retour"

    realisation = forms.ChoiceField(
        label="L'immersion a-t-elle eu lieu ?",
        choices=Immersion.Realisation.choices,
        widget=forms.RadioSelect,
    )
    jours_manques = forms.TypedMultipleChoiceField(
        label="Jours manqués",
        required=False,
        coerce=lambda value: datetime.strptime(value, "%Y-%m-%d").date(),
        widget=forms.CheckboxSelectMultiple,
        help_text="Si l'immersion a été effectuée en partie : cochez les jours manqués.",
    )
    confirme_projet = forms.ChoiceField(
        label="L'immersion a-t-elle confirmé le projet professionnel ?",
        choices=Retour.Confirmation.choices,
        widget=forms.RadioSelect,
    )
    suite = forms.CharField(
        label="Et maintenant ? Suite envisagée",
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )

    def __init__(self, *args, immersion, **kwargs):
        super().__init__(*args, **kwargs)
        if immersion.realisation:
            # Told once, by the first feedback in.
            del self.fields["realisation"], self.fields["jours_manques"]
        else:
            self.fields["jours_manques"].choices = [
                (day.isoformat(), f"{day:%d/%m/%Y}") for day in sorted(immersion.dates)
            ]

    def feedback_data(self):
        data = self.cleaned_data
        return {
            "confirme_projet": data["confirme_projet"],
            "suite": data.get("suite", ""),
            "realisation": data.get("realisation", ""),
            "jours_manques": data.get("jours_manques", []),
        }
