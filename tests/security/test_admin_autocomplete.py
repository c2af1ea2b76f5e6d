"""A bad value in an admin autocomplete field is a form error, not a server error
(found by the fuzz test: Django's widget looked the raw value up in the database)."""

import pytest
from django.urls import reverse

from accompagnement.models import Demande


@pytest.mark.parametrize("value", ["abc", "1e309", "99999999999999999999999", "-1"])
def test_a_bad_cadre_in_the_request_form_is_refused_with_a_message(client, two_ministries, value):
    client.force_login(two_ministries["delegue_a"])
    response = client.post(
        reverse("admin:accompagnement_demande_add"),
        {"cadre": value, "dispositif": "coaching", "contexte": "prise_de_poste", "motivation": "x"},
    )
    assert response.status_code == 200
    assert "Sélectionnez un choix valide" in response.content.decode()
    assert not Demande.objects.exists()


def test_a_valid_cadre_is_still_shown_when_another_field_is_wrong(client, two_ministries):
    cadre = two_ministries["cadre_a"]
    client.force_login(two_ministries["delegue_a"])
    response = client.post(reverse("admin:accompagnement_demande_add"), {"cadre": cadre.pk})
    assert response.status_code == 200
    assert f'<option value="{cadre.pk}" selected>' in response.content.decode()
