"""Forms of the mentoring admin.

Status changes of a relation go through ``services.change_status``: the form runs it
once as a dry run (a savepoint always rolled back) so that its French errors land on
the fields, and ``MentoratAdmin.save_model`` applies it for real.
"""

from django import forms
from django.contrib import admin
from django.contrib.admin.widgets import AutocompleteSelect
from django.core.exceptions import ValidationError
from django.db import transaction

from . import services
from .models import Mentor, Mentorat, Proposition


class _DryRun(Exception):
    """Raised to roll back the savepoint of a dry run."""


def add_service_errors(form, error):
    """A service's ValidationError on the form's fields (or the whole form)."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error.messages)
        return
    for field, errors in error.message_dict.items():
        form.add_error(field if field in form.fields else None, errors)


class MentoratAdminForm(forms.ModelForm):
    class Meta:
        model = Mentorat
        fields = ["contexte", "objectifs", "date_debut", "date_fin_prevue", "statut", "motif_fin"]
        help_texts = {
            "statut": "Accepté : quand mentor et mentoré ont accepté la charte (espace "
            "personnel). Décliné : depuis l'espace personnel. Ici : démarrer, terminer ou "
            "interrompre (avec son motif).",
        }

    def clean(self):
        data = super().clean()
        # ``self.instance`` still holds the stored values here (the form's are copied
        # onto it after ``clean``).
        stored = self.instance
        if {"date_debut", "date_fin_prevue"} & set(self.changed_data):
            debut, fin = data.get("date_debut"), data.get("date_fin_prevue")
            if debut and fin:
                try:
                    services.check_dates(debut, fin)
                except ValidationError as error:
                    add_service_errors(self, error)
        statut = data.get("statut")
        if stored.pk and statut and statut != stored.statut:
            try:
                with transaction.atomic():
                    services.change_status(stored, statut, motif=data.get("motif_fin") or "")
                    raise _DryRun
            except _DryRun:
                pass
            except ValidationError as error:
                add_service_errors(self, error)
        return data


class SwapForm(forms.Form):
    """The review page's "Changer de mentor": active mentors the user may see (the
    service checks the hard rules and the places). The picker asks MentorAdmin through
    the admin's autocomplete view: a page of proposals never lists the whole pool."""

    mentor = forms.ModelChoiceField(
        label="Nouveau mentor",
        queryset=Mentor.objects.none(),
        widget=AutocompleteSelect(Proposition._meta.get_field("mentor"), admin.site),
        error_messages={
            "required": "Choisissez le nouveau mentor.",
            "invalid_choice": "Ce mentor n'est pas proposable : choisissez un mentor actif "
            "de votre périmètre ou du vivier commun.",
        },
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["mentor"].queryset = Mentor.objects.visible_to(user).filter(actif=True)


class OffreConfirmForm(forms.Form):
    """Confirming an offer of the queue: the relation starts today, for this long."""

    duree_mois = forms.TypedChoiceField(
        label="Durée du mentorat",
        choices=[(n, f"{n} mois") for n in range(services.MIN_MONTHS, services.MAX_MONTHS + 1)],
        coerce=int,
        initial=services.QUEUE_MONTHS,
        error_messages={"invalid_choice": "Un mentorat dure de 6 à 12 mois."},
    )


class OffreSkipForm(forms.Form):
    motif = forms.CharField(
        label="Motif (facultatif)",
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 60}),
        help_text="Ce mentoré ne sera plus proposé à ce mentor par la file d'attente.",
    )
