from django import forms
from django.contrib.auth import forms as auth_forms

from .models import User


class UserAddForm(forms.ModelForm):
    """Adding an account asks for no password: the invitation lets the person set it."""

    class Meta:
        model = User
        fields = ["email", "first_name", "last_name"]


class UserChangeForm(auth_forms.UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


class DsfrFormMixin:
    """Give every form a crispy helper that renders DSFR markup (pack ``crispy_dsfr``)."""

    submit_label = "Enregistrer"

    @property
    def helper(self):
        from crispy_forms.helper import FormHelper
        from crispy_forms.layout import Submit

        helper = FormHelper(self)
        helper.add_input(Submit("submit", self.submit_label))
        return helper
