"""DSFR rendering: allauth pages in the site frame, the crispy pack, the legal pages."""

import re

import pytest
from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.template import Context, Template
from django.urls import reverse

from tests.factories import UserFactory


@pytest.mark.django_db
def test_login_page_is_dsfr_with_accessibility_mention_and_no_signup(client):
    response = client.get("/compte/login/")

    assert response.status_code == 200
    content = response.content.decode()
    assert "fr-input-group" in content
    assert "fr-btn" in content
    mention = r'<a[^>]*href="/accessibilite/"[^>]*>\s*Accessibilité : partiellement conforme'
    assert re.search(mention, content)
    assert "S'inscrire" not in content
    assert "Inscription" not in content
    assert reverse("account_signup") not in content
    # The fields are labelled, inside the centred grid column of the allauth layout.
    assert '<label class="fr-label" for="id_login">' in content
    assert "fr-col-lg-6" in content


@pytest.mark.django_db
def test_wrong_password_shows_a_french_dsfr_error(client):
    UserFactory(email="agent@example.org")

    response = client.post(
        "/compte/login/", {"login": "agent@example.org", "password": "pas-le-bon"}
    )

    assert response.status_code == 200
    content = response.content.decode()
    assert "fr-alert--error" in content or "fr-error-text" in content
    assert "mot de passe sont incorrects" in content


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/accessibilite/", "/mentions-legales/", "/donnees-personnelles/"])
def test_legal_pages_are_public(client, url):
    response = client.get(url)

    assert response.status_code == 200
    assert "Accessibilité : partiellement conforme" in response.content.decode()


class ThrowawayForm(forms.Form):
    nom = forms.CharField(label="Nom", help_text="Tel qu'il figure à l'état civil")
    accord = forms.BooleanField(label="J'accepte la charte", required=False)
    mode = forms.ChoiceField(
        label="Mode",
        choices=[("presentiel", "Présentiel"), ("distanciel", "Distanciel")],
        widget=forms.RadioSelect,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.add_input(Submit("submit", "Envoyer"))


def test_crispy_pack_renders_dsfr_markup_with_tied_errors():
    form = ThrowawayForm(data={})
    html = Template("{% load crispy_forms_tags %}{% crispy form %}").render(Context({"form": form}))

    for expected in (
        "fr-input-group--error",
        "fr-error-text",
        "aria-describedby",
        "fr-checkbox-group",
        "fr-radio-group",
        "fr-btn",
    ):
        assert expected in html, expected
    # The label names the input, and the error is tied to it.
    assert '<label class="fr-label" for="id_nom">' in html
    input_tag = re.search(r"<input[^>]*name=\"nom\"[^>]*>", html).group(0)
    assert 'id="id_nom"' in input_tag
    assert "id_nom-desc-error" in input_tag
    assert '<p class="fr-error-text" id="id_nom-desc-error">' in html
    assert '<button type="submit" name="submit" value="Envoyer"' in html
    assert "novalidate" not in html
