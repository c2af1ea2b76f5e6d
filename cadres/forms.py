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


class PortalFormMixin(DsfrFormMixin):
    """A DSFR crispy form of the portal that posts to ``action``. Several forms of one
    class may sit on a page (one per session): give each its own ``auto_id``
    (``"id_report_12_%s"``) and the ids of its fields and button stay unique. Services'
    refusals go back on the form with ``add_service_error``."""

    small = False
    auto_id = "id_%s"

    def __init__(self, *args, action="", **kwargs):
        kwargs.setdefault("auto_id", type(self).auto_id)
        super().__init__(*args, **kwargs)
        self.action = action

    @property
    def helper(self):
        helper = super().helper
        helper.form_action = self.action
        prefix = self.auto_id if isinstance(self.auto_id, str) and "%s" in self.auto_id else "%s"
        for button in helper.inputs:
            button.id = prefix % button.name
            if self.small:
                button.field_classes += " fr-btn--sm fr-btn--secondary"
        if self.small:
            helper.form_class = "fr-mb-0"
        return helper

    def add_service_error(self, error):
        """A service's ValidationError: on its field when the form has one of that name,
        at the top of the form otherwise."""
        if hasattr(error, "error_dict"):
            for name, errors in error.error_dict.items():
                self.add_error(name if name in self.fields else None, errors)
        else:
            self.add_error(None, error)
