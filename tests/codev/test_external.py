"""External facilitators "sur devis" (issue 14, point 4): a group run by an external
provider's animateur, on a quote (amount, purchase order), remotely or in person; its
cost feeds the délégués' view of external spending (tested with coaching's in
tests/coaching/test_budget.py)."""

import html
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from accompagnement.registry import get as scheme_of
from cadres.models import Role
from cadres.services import grant_role
from codev.models import Animation, Groupe
from tests.factories import GroupeFactory, StructureFactory, UserFactory

pytestmark = pytest.mark.django_db

MINUTES = {
    "ouverture": 10,
    "expose": 10,
    "clarification": 15,
    "contrat": 5,
    "exploration": 40,
    "synthese": 20,
    "apprentissage": 20,
}


def text(response):
    return html.unescape(response.content.decode())


def test_an_external_group_needs_its_provider_and_quote():
    groupe = GroupeFactory.build(
        structure=StructureFactory(), animateur=UserFactory(), animation=Animation.EXTERNE
    )
    with pytest.raises(ValidationError) as excinfo:
        groupe.full_clean()
    assert excinfo.value.message_dict["prestataire"] == [
        "Indiquez l'organisme prestataire de l'animation externe."
    ]
    assert excinfo.value.message_dict["montant_devis"] == [
        "Indiquez le montant du devis de l'animation externe."
    ]
    groupe.prestataire = "Cabinet Codev & Co"
    groupe.montant_devis = Decimal("-1")
    with pytest.raises(ValidationError) as excinfo:
        groupe.full_clean()
    assert set(excinfo.value.message_dict) == {"montant_devis"}
    groupe.montant_devis = Decimal("4800.00")
    groupe.full_clean()  # the purchase order may come later


def test_an_internal_group_has_no_quote():
    groupe = GroupeFactory.build(
        structure=StructureFactory(), animateur=UserFactory(), montant_devis=Decimal("100")
    )
    with pytest.raises(ValidationError) as excinfo:
        groupe.full_clean()
    assert excinfo.value.message_dict["animation"] == [
        "Un prestataire, un devis ou un bon de commande ne concernent qu'une animation "
        "externe : choisissez-la, ou videz ces champs."
    ]


def test_an_external_animateur_runs_a_remote_group_created_in_the_facilitator_space(client):
    animateur = UserFactory(first_name="Eva", last_name="Prestataire")
    grant_role(animateur, Role.Kind.ANIMATEUR)
    client.force_login(animateur)
    start = timezone.localdate() + timedelta(days=10)
    data = {
        "nom": "Codev à distance",
        "structure": StructureFactory().pk,
        "animation": "externe",
        "prestataire": "Cabinet Codev & Co",
        "montant_devis": "",
        "bon_de_commande": "BC-2025-0042",
        "mode": "distanciel",
        "lien_visio": "",
        "date_debut": start.isoformat(),
        "date_fin": (start + timedelta(days=240)).isoformat(),
        "rythme_semaines": "3",
        "heure": "09:30",
        "duree": "120",
        **{f"duree_{k}": v for k, v in MINUTES.items()},
    }
    create = reverse("codev:groupe_create")
    response = client.post(create, data)
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert errors["montant_devis"] == ["Indiquez le montant du devis de l'animation externe."]
    assert errors["lien_visio"] == ["Indiquez le lien de visioconférence."]
    assert not Groupe.objects.exists()

    data.update(montant_devis="4800", lien_visio="https://webconf.numerique.gouv.fr/codev")
    assert client.post(create, data).status_code == 302
    groupe = Groupe.objects.get()
    assert groupe.animation == Animation.EXTERNE and groupe.montant_devis == Decimal("4800.00")
    assert groupe.bon_de_commande == "BC-2025-0042" and groupe.mode == "distanciel"
    body = text(client.get(groupe.get_absolute_url()))
    assert "(Cabinet Codev & Co)" in body
    assert "4800" not in body and "BC-2025-0042" not in body  # the cost is for HR


def test_the_delegue_sees_the_quote_in_the_admin(client, two_ministries):
    m = two_ministries
    groupe = GroupeFactory(
        structure=m["a_dir"],
        animation=Animation.EXTERNE,
        prestataire="Cabinet Codev & Co",
        montant_devis=Decimal("4800.00"),
        bon_de_commande="BC-2025-0042",
    )
    client.force_login(m["delegue_a"])
    page = text(client.get(reverse("admin:codev_groupe_change", args=[groupe.pk])))
    assert 'name="montant_devis"' in page and 'value="BC-2025-0042"' in page
    listing = client.get(reverse("admin:codev_groupe_changelist"), {"animation": "externe"})
    assert [g.pk for g in listing.context["cl"].result_list] == [groupe.pk]
    client.force_login(m["delegue_b"])
    response = client.get(reverse("admin:codev_groupe_change", args=[groupe.pk]))
    assert response.status_code == 404


def test_the_scheme_gives_its_spending_within_the_perimeter(two_ministries):
    m = two_ministries
    GroupeFactory(
        structure=m["a_dir"],
        animation=Animation.EXTERNE,
        prestataire="Cabinet",
        montant_devis=Decimal("4800.00"),
        date_debut=timezone.localdate().replace(month=3, day=2),
    )
    spending = scheme_of("codev").external_spending
    year = timezone.localdate().year
    assert spending(m["delegue_a"], year) == [(m["a_dir"].chemin, Decimal("4800.00"), None)]
    assert spending(m["delegue_b"], year) == []
    assert spending(UserFactory(), year) == []
