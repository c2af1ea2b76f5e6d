"""A délégué sees and edits only the cadres of their perimeter, in every admin path."""

import pytest
from django.urls import reverse

from cadres.models import Cadre
from tests.exports import csv_text
from tests.factories import CadreFactory

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:cadres_cadre_changelist")


def change_url(cadre):
    return reverse("admin:cadres_cadre_change", args=[cadre.pk])


def test_delegue_lists_only_cadres_of_their_subtree(client, two_ministries):
    m = two_ministries
    client.force_login(m["delegue_a"])
    response = client.get(CHANGELIST)
    assert response.status_code == 200
    listed = list(response.context["cl"].result_list)
    assert m["cadre_a"] in listed  # two levels below the perimeter's root
    assert m["cadre_b"] not in listed
    assert "Bravo" not in response.content.decode()


def test_delegue_cannot_open_change_or_delete_a_cadre_outside(client, two_ministries):
    m = two_ministries
    client.force_login(m["delegue_a"])
    outside = m["cadre_b"]
    assert client.get(change_url(outside)).status_code == 404
    response = client.post(change_url(outside), {"nom": "Piraté"})
    assert response.status_code == 404
    delete_url = reverse("admin:cadres_cadre_delete", args=[outside.pk])
    assert client.post(delete_url, {"post": "yes"}).status_code in (403, 404)
    history_url = reverse("admin:cadres_cadre_history", args=[outside.pk])
    assert client.get(history_url).status_code == 404
    outside.refresh_from_db()
    assert outside.nom == "Bravo"


def test_delegue_opens_a_cadre_inside(client, two_ministries):
    m = two_ministries
    client.force_login(m["delegue_a"])
    assert client.get(change_url(m["cadre_a"])).status_code == 200


def test_delegue_cannot_move_a_cadre_out_of_their_perimeter(client, two_ministries):
    m = two_ministries
    client.force_login(m["delegue_a"])
    cadre = m["cadre_a"]
    data = {
        "civilite": cadre.civilite,
        "nom": cadre.nom,
        "prenom": cadre.prenom,
        "email": cadre.email,
        "categorie": cadre.categorie,
        "structure": m["b"].pk,
        "actif": "on",
    }
    response = client.post(change_url(cadre), data)
    assert response.status_code == 200  # the form comes back with an error
    assert "Sélectionnez un choix valide" in response.content.decode()
    cadre.refresh_from_db()
    assert cadre.structure == m["a_srv"]


def test_delegue_export_contains_only_their_perimeter(client, two_ministries):
    m = two_ministries
    client.force_login(m["delegue_a"])
    response = client.get(reverse("admin:cadres_cadre_export_csv"))
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    body = csv_text(response)
    assert m["cadre_a"].email in body
    assert m["cadre_b"].email not in body


def test_delegue_cannot_export_outside_through_the_query_string(client, two_ministries):
    m = two_ministries
    client.force_login(m["delegue_a"])
    response = client.get(
        reverse("admin:cadres_cadre_export_csv"), {"structure__id__exact": m["b"].pk}
    )
    assert m["cadre_b"].email not in csv_text(response)


def test_admin_sees_everything(client, two_ministries):
    m = two_ministries
    client.force_login(m["admin"])
    response = client.get(CHANGELIST)
    listed = list(response.context["cl"].result_list)
    assert {m["cadre_a"], m["cadre_b"]} <= set(listed)
    assert client.get(change_url(m["cadre_b"])).status_code == 200


def test_structure_pickers_are_limited_to_the_perimeter(client, two_ministries):
    m = two_ministries
    client.force_login(m["delegue_a"])
    response = client.get(
        reverse("admin:autocomplete"),
        {"app_label": "cadres", "model_name": "cadre", "field_name": "structure", "term": "Minist"},
    )
    assert response.status_code == 200
    names = [r["text"] for r in response.json()["results"]]
    assert any("Ministère A" in n for n in names)
    assert not any("Ministère B" in n for n in names)


def test_structures_outside_are_invisible(client, two_ministries):
    m = two_ministries
    client.force_login(m["delegue_a"])
    url = reverse("admin:cadres_structure_change", args=[m["b"].pk])
    assert client.get(url).status_code == 404


def test_delegue_cannot_manage_roles_or_accounts(client, two_ministries):
    client.force_login(two_ministries["delegue_a"])
    assert client.get(reverse("admin:cadres_role_changelist")).status_code == 403
    assert client.get(reverse("admin:cadres_user_changelist")).status_code == 403


def test_user_without_role_has_no_admin(client, two_ministries):
    from tests.factories import UserFactory

    client.force_login(UserFactory())
    response = client.get(CHANGELIST)
    assert response.status_code == 302
    assert client.get(response.url).status_code == 403


def test_changelist_queries_do_not_grow_with_rows(
    client, two_ministries, django_assert_max_num_queries
):
    m = two_ministries
    client.force_login(m["delegue_a"])
    CadreFactory.create_batch(40, structure=m["a_dir"])
    with django_assert_max_num_queries(16):
        response = client.get(CHANGELIST)
    assert response.status_code == 200
    assert Cadre.objects.visible_to(m["delegue_a"]).count() == 41


def test_structure_filter_offers_the_top_of_the_perimeter_and_keeps_to_it(client, two_ministries):
    m = two_ministries
    deeper = CadreFactory(structure=m["a_dir"], nom="Delta")
    client.force_login(m["delegue_a"])
    page = client.get(CHANGELIST).content.decode()
    # The délégué's ministry and the level below it; not the other ministry.
    assert f"?structure={m['a'].pk}" in page and f"?structure={m['a_dir'].pk}" in page
    assert f"?structure={m['b'].pk}" not in page
    assert f"?structure={m['a_srv'].pk}" not in page  # two levels down: the search finds it

    listed = client.get(CHANGELIST, {"structure": m["a_dir"].pk}).context["cl"].result_list
    assert set(listed) == {m["cadre_a"], deeper}  # the direction and its service
    # Another ministry's structure in the address shows nothing of it.
    listed = client.get(CHANGELIST, {"structure": m["b"].pk}).context["cl"].result_list
    assert m["cadre_b"] not in set(listed)

    client.force_login(m["admin"])
    page = client.get(CHANGELIST).content.decode()
    assert f"?structure={m['a'].pk}" in page and f"?structure={m['b'].pk}" in page
    assert f"?structure={m['a_dir'].pk}" not in page  # the ministries only
    listed = client.get(CHANGELIST, {"structure": m["b"].pk}).context["cl"].result_list
    assert set(listed) == {m["cadre_b"]}
