"""Portal forms of coaching: the coach schedules and records sessions and keeps
private notes; the cadre asks to move a session. Rules stay in ``services``."""

from django import forms

from accompagnement.models import Mode
from cadres.forms import PortalFormMixin

from .models import SeanceCoaching

DATETIME_WIDGET = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class ScheduleForm(PortalFormMixin, forms.Form):
    """The coach plans the next session of an engagement."""

    submit_label = "Planifier la séance"

    debut = forms.DateTimeField(
        label="Date et heure",
        widget=DATETIME_WIDGET,
        help_text="Heure de Paris. Exemple : 14/01/2027 à 09:30.",
    )
    duree = forms.IntegerField(label="Durée (minutes)", initial=60, min_value=15, max_value=12 * 60)
    mode = forms.ChoiceField(label="Modalité", choices=Mode.choices, initial=Mode.PRESENTIEL)
    lieu = forms.CharField(
        label="Lieu",
        required=False,
        max_length=255,
        help_text="Pour une séance en présentiel : adresse, bâtiment, salle.",
    )
    lien_visio = forms.URLField(
        label="Lien de visioconférence",
        required=False,
        assume_scheme="https",
        help_text="Pour une séance à distance : adresse complète (https://…).",
    )


class PostponeRequestForm(PortalFormMixin, forms.Form):
    """The cadre asks the coach to move a session."""

    submit_label = "Demander un report"
    small = True

    motif = forms.CharField(
        label="Motif du report",
        max_length=255,
        help_text="Votre coach en est informé par courriel et vous propose une autre date.",
    )


class MarkForm(PortalFormMixin, forms.Form):
    """What the coach records about a session: held, cancelled or postponed to ``debut``."""

    submit_label = "Reporter"
    small = True

    CHOICES = [
        (SeanceCoaching.Statut.REALISEE, "Réalisée"),
        (SeanceCoaching.Statut.ANNULEE, "Annulée"),
        (SeanceCoaching.Statut.REPORTEE, "Reportée"),
    ]

    statut = forms.ChoiceField(
        choices=CHOICES, initial=SeanceCoaching.Statut.REPORTEE, widget=forms.HiddenInput
    )
    debut = forms.DateTimeField(
        label="Nouvelle date et heure", required=False, widget=DATETIME_WIDGET
    )

    def clean(self):
        data = super().clean()
        if data.get("statut") == SeanceCoaching.Statut.REPORTEE and not data.get("debut"):
            self.add_error("debut", "Indiquez la nouvelle date et l'heure de la séance.")
        return data


class NoteForm(PortalFormMixin, forms.Form):
    """A private note of the coach: only its author ever reads it."""

    submit_label = "Ajouter la note"

    texte = forms.CharField(
        label="Nouvelle note",
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=10_000,
        help_text="Visible de vous seul : ni le cadre ni l'administration n'y ont accès.",
    )


class BookMeetingForm(ScheduleForm):
    """The cadre books a discovery meeting with a shortlisted coach (30 minutes)."""

    submit_label = "Réserver l'entretien"
    duree = None  # always EntretienDecouverte.DUREE


class ChoiceForm(PortalFormMixin, forms.Form):
    """The cadre states which shortlisted coach fits, and why."""

    submit_label = "Transmettre mon choix"
    auto_id = "id_choix_%s"

    coach = forms.TypedChoiceField(
        label="Le coach que je choisis", coerce=int, widget=forms.RadioSelect
    )
    motif = forms.CharField(
        label="Pourquoi ce coach ?",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Transmis à votre délégué, qui confirme le choix.",
    )

    def __init__(self, *args, propositions=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["coach"].choices = [(p.coach_id, str(p.coach)) for p in propositions]


class NewShortlistForm(PortalFormMixin, forms.Form):
    """The cadre declines the whole shortlist."""

    submit_label = "Demander une autre présélection"
    auto_id = "id_autre_%s"

    motif = forms.CharField(
        label="Pourquoi aucun de ces coachs ne vous convient-il ?",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Les coachs proposés sont libérés et votre délégué vous en propose d'autres.",
    )
