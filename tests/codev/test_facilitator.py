"""The facilitator space (/codev/): an animateur creates a group, composes it (8 members
at most), plans its cycle and adjusts it; members see their group, its calendar, when
they are client and their own action plans. Nobody reaches another group: 404."""

import html
from datetime import date, timedelta

import holidays
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from cadres.models import Role
from cadres.services import grant_role
from codev import services
from codev.models import MAX_MEMBRES, Groupe, Membre, PlanAction
from tests.factories import (
    CadreFactory,
    GroupeFactory,
    StructureFactory,
    UserFactory,
    make_cadre_user,
)

pytestmark = pytest.mark.django_db

LIST = reverse("codev:groupes")
CREATE = reverse("codev:groupe_create")
FR_HOLIDAYS = holidays.country_holidays("FR", years=range(2025, 2040))
# The default timings of a 2-hour séance.
DEFAULT_MINUTES = {
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


def page(client, url):
    response = client.get(url)
    assert response.status_code == 200, url
    return text(response)


def messages_of(response):
    return [str(m) for m in response.context["messages"]]


def make_animateur(**kwargs):
    user = UserFactory(**kwargs)
    grant_role(user, Role.Kind.ANIMATEUR)
    return user


def group_url(groupe, name="codev:groupe"):
    return reverse(name, args=[groupe.pk])


@pytest.fixture
def structures(db):
    ministere = StructureFactory(nom="Ministère de l'Intérieur", sigle="MIOM")
    direction = StructureFactory(
        nom="Direction des libertés publiques", sigle="DLPAJ", parent=ministere, type="direction"
    )
    service = StructureFactory(
        nom="Bureau des élections", sigle="BE", parent=direction, type="service"
    )
    return {"ministere": ministere, "direction": direction, "service": service}


@pytest.fixture
def animateur(db):
    return make_animateur(first_name="Arnaud", last_name="Fabre")


@pytest.fixture
def groupe(animateur, structures):
    return GroupeFactory(
        nom="Codev des sous-directeurs", animateur=animateur, structure=structures["ministere"]
    )


def with_members(groupe, count):
    """``count`` cadres with an account, added through the service."""
    return [services.add_member(groupe, make_cadre_user()) for _ in range(count)]


def form_data(structure, **overrides):
    start = timezone.localdate() + timedelta(days=10)
    data = {
        "nom": "Codev des nouveaux directeurs",
        "theme": "Prendre son poste",
        "structure": structure.pk,
        "animation": "interne",
        "mode": "presentiel",
        "lieu": "Place Beauvau, salle Lépine",
        "lien_visio": "",
        "date_debut": start.isoformat(),
        "date_fin": (start + timedelta(days=200)).isoformat(),
        "rythme_semaines": "3",
        "nb_seances_cible": "6",
        "heure": "09:30",
        "duree": "120",
        **{f"duree_{phase}": str(minutes) for phase, minutes in DEFAULT_MINUTES.items()},
    }
    data.update(overrides)
    return data


# --- Creating a group ----------------------------------------------------------


def test_an_animateur_creates_a_group_in_the_facilitator_space(client, animateur, structures):
    client.force_login(animateur)
    listing = page(client, LIST)
    assert "Créer un groupe" in listing and CREATE in listing

    form_page = client.get(CREATE)
    assert form_page.status_code == 200
    choices = {str(s.pk) for s in form_page.context["form"].fields["structure"].queryset}
    # Ministries and directions only: not the services below them.
    assert choices == {str(structures["ministere"].pk), str(structures["direction"].pk)}

    response = client.post(CREATE, form_data(structures["direction"]))
    groupe = Groupe.objects.get(nom="Codev des nouveaux directeurs")
    assert response.status_code == 302 and response.url == groupe.get_absolute_url()
    assert groupe.animateur == animateur
    assert groupe.structure == structures["direction"]
    assert groupe.heure.strftime("%H:%M") == "09:30"
    assert groupe.nb_seances_cible == 6 and groupe.rythme_semaines == 3

    detail = client.get(response.url)
    assert any("Ajoutez ses membres (8 au plus)" in m for m in messages_of(detail))
    assert "Codev des nouveaux directeurs" in page(client, LIST)


def test_the_create_form_gives_the_models_messages(client, animateur, structures):
    client.force_login(animateur)
    ministere = structures["ministere"]
    start = timezone.localdate() + timedelta(days=10)

    response = client.post(CREATE, form_data(ministere, date_fin=start.isoformat()))
    assert response.status_code == 200
    assert response.context["form"].errors["date_fin"] == ["La fin du cycle doit suivre son début."]

    response = client.post(CREATE, form_data(ministere, mode="distanciel", lieu=""))
    assert response.context["form"].errors["lien_visio"] == ["Indiquez le lien de visioconférence."]
    assert "Indiquez le lien de visioconférence." in text(response)

    # A service is below the directions: not a choice.
    response = client.post(CREATE, form_data(structures["service"]))
    assert "structure" in response.context["form"].errors

    response = client.post(CREATE, form_data(ministere, rythme_semaines="0", duree="30"))
    assert set(response.context["form"].errors) == {"rythme_semaines", "duree"}
    assert not Groupe.objects.exists()

    response = client.post(
        CREATE,
        form_data(ministere, mode="distanciel", lieu="", lien_visio="https://webconf.gouv.fr/x"),
    )
    assert response.status_code == 302
    assert Groupe.objects.get().lien_visio == "https://webconf.gouv.fr/x"


def test_only_animateurs_create_groups(client, structures):
    cadre = make_cadre_user()
    client.force_login(cadre.user)
    assert "Créer un groupe" not in page(client, LIST)
    assert client.get(CREATE).status_code == 403
    assert client.post(CREATE, form_data(structures["ministere"])).status_code == 403
    assert not Groupe.objects.exists()

    coach = UserFactory()
    grant_role(coach, Role.Kind.COACH)
    client.force_login(coach)
    assert client.post(CREATE, form_data(structures["ministere"])).status_code == 403


def test_anonymous_users_are_sent_to_sign_in(client, groupe):
    for url in (LIST, CREATE, group_url(groupe)):
        response = client.get(url)
        assert response.status_code == 302 and "/compte/login/" in response.url


# --- Members -------------------------------------------------------------------


def test_the_animateur_adds_members_by_email(client, groupe):
    client.force_login(groupe.animateur)
    cadre = CadreFactory(email="claire.martin@interieur.gouv.fr", prenom="Claire", nom="Martin")
    url = group_url(groupe, "codev:membre_add")

    response = client.post(url, {"email": "  Claire.Martin@Interieur.gouv.fr "})
    assert response.status_code == 302
    assert response.url == group_url(groupe) + "#membres"
    membre = Membre.objects.get(groupe=groupe)
    assert membre.cadre == cadre and membre.date_entree == timezone.localdate()
    detail = client.get(group_url(groupe))
    assert messages_of(detail) == ["Claire MARTIN a rejoint le groupe."]
    body = text(detail)
    assert "Claire MARTIN" in body and "Membres (1 sur 8 au plus)" in body

    response = client.post(url, {"email": "claire.martin@interieur.gouv.fr"})
    assert response.status_code == 200
    assert "Claire MARTIN est déjà membre du groupe « Codev des sous-directeurs »." in text(
        response
    )
    assert Membre.objects.filter(groupe=groupe).count() == 1


def test_an_unknown_email_is_refused_on_the_field(client, groupe):
    client.force_login(groupe.animateur)
    response = client.post(group_url(groupe, "codev:membre_add"), {"email": "personne@gouv.fr"})
    assert response.status_code == 200
    form = response.context["add_form"]
    assert form.errors["email"] == ["Aucun cadre n'a cette adresse électronique."]
    body = text(response)
    assert "Aucun cadre n'a cette adresse électronique." in body
    # Tied to its field.
    assert 'aria-describedby="id_ajout_email_helptext id_ajout_email-desc-error"' in body
    assert '<p class="fr-error-text" id="id_ajout_email-desc-error">' in body
    assert not Membre.objects.exists()

    response = client.post(group_url(groupe, "codev:membre_add"), {"email": "pas-une-adresse"})
    assert "email" in response.context["add_form"].errors


def test_the_ninth_member_is_refused_through_the_page(client, groupe):
    with_members(groupe, MAX_MEMBRES)
    client.force_login(groupe.animateur)
    body = page(client, group_url(groupe))
    assert "Membres (8 sur 8 au plus)" in body
    assert "Le groupe est complet" in body  # the form is not offered any more
    assert 'name="email"' not in body

    ninth = CadreFactory()
    response = client.post(group_url(groupe, "codev:membre_add"), {"email": ninth.email})
    assert response.status_code == 200
    assert (
        "Le groupe « Codev des sous-directeurs » compte déjà 8 membres : un groupe de "
        "codéveloppement en réunit au plus 8, l'animateur en plus."
    ) in text(response)
    assert groupe.membres.count() == MAX_MEMBRES

    # A member who leaves frees a seat.
    leaving = groupe.membres.first()
    response = client.post(reverse("codev:membre_remove", args=[leaving.pk]))
    assert response.status_code == 302
    client.post(group_url(groupe, "codev:membre_add"), {"email": ninth.email})
    assert groupe.membres.filter(date_sortie__isnull=True).count() == MAX_MEMBRES
    assert groupe.membres.filter(cadre=ninth).exists()


def test_removing_a_member_keeps_their_history(client, groupe):
    a, b, c = with_members(groupe, 3)
    services.generate_cycle(groupe)
    client.force_login(groupe.animateur)
    response = client.post(reverse("codev:membre_remove", args=[b.pk]))
    assert response.status_code == 302 and response.url.endswith("#membres")
    b.refresh_from_db()
    assert b.date_sortie == timezone.localdate()
    # Future séances no longer have them as client.
    assert not groupe.seances.filter(client=b).exists()
    assert groupe.seances.filter(client__isnull=True).count() == 0
    body = page(client, group_url(groupe))
    assert "Membres (2 sur 8 au plus)" in body
    assert f'Retirer<span class="fr-sr-only"> {b.cadre} du groupe' not in body
    # Already left: nothing to remove.
    assert client.post(reverse("codev:membre_remove", args=[b.pk])).status_code == 404


# --- The cycle -----------------------------------------------------------------


def test_planning_the_cycle_on_working_days_with_clients(client, animateur, structures):
    # A start on a public holiday (Christmas) that falls on a weekday in 2030.
    groupe = GroupeFactory(
        animateur=animateur,
        structure=structures["ministere"],
        date_debut=date(2030, 12, 25),
        date_fin=date(2031, 8, 31),
        rythme_semaines=3,
        nb_seances_cible=8,
    )
    membres = with_members(groupe, 4)
    client.force_login(animateur)

    body = page(client, group_url(groupe))
    assert "Le cycle comptera 8 séances" in body
    assert "26 décembre 2030" in body  # Christmas moves to the next working day

    response = client.post(group_url(groupe, "codev:cycle_generate"))
    assert response.status_code == 302 and response.url.endswith("#seances")
    seances = list(groupe.seances.order_by("numero"))
    assert [s.numero for s in seances] == list(range(1, 9))
    for seance in seances:
        day = timezone.localtime(seance.debut)
        assert day.weekday() < 5 and day.date() not in FR_HOLIDAYS
        assert day.strftime("%H:%M") == "14:00"
        assert seance.duree == 120 and seance.client_id is not None
    counts = [sum(1 for s in seances if s.client_id == m.pk) for m in membres]
    assert counts == [2, 2, 2, 2]  # each once before anyone twice
    assert [s.client_id for s in seances[:4]] == [m.pk for m in membres]

    detail = client.get(group_url(groupe))
    assert messages_of(detail)[0].startswith("8 séance(s) planifiée(s), du 26/12/2030")
    body = text(detail)
    assert "Planifier le cycle" not in body
    assert body.count("Animer la séance") == 8
    for seance in seances:
        assert reverse("codev:seance", args=[seance.pk]) in body

    response = client.post(group_url(groupe, "codev:cycle_generate"))
    assert messages_of(client.get(response.url)) == [
        "Le cycle n'est pas planifié : Le cycle de ce groupe est déjà planifié."
    ]
    assert groupe.seances.count() == 8


def test_the_cycle_needs_two_members(client, groupe):
    with_members(groupe, 1)
    client.force_login(groupe.animateur)
    response = client.post(group_url(groupe, "codev:cycle_generate"), follow=True)
    assert messages_of(response) == [
        "Le cycle n'est pas planifié : Ajoutez au moins deux membres avant de planifier le cycle."
    ]
    assert not groupe.seances.exists()


def test_the_animateur_swaps_a_client_and_moves_a_seance(client, groupe):
    a, b, c = with_members(groupe, 3)
    services.generate_cycle(groupe)
    first = groupe.seances.get(numero=1)
    assert first.client == a
    client.force_login(groupe.animateur)
    body = page(client, group_url(groupe))
    assert f'id="id_client_{first.pk}_membre"' in body
    assert f'id="id_date_{first.pk}_debut"' in body

    response = client.post(reverse("codev:seance_client", args=[first.pk]), {"membre": c.pk})
    assert response.status_code == 302 and response.url.endswith(f"#seance-{first.pk}")
    first.refresh_from_db()
    assert first.client == c
    assert messages_of(client.get(response.url)) == [f"{c.cadre} sera client de la séance n° 1."]

    # Someone from another group is not a choice.
    outsider = services.add_member(GroupeFactory(), CadreFactory())
    response = client.post(reverse("codev:seance_client", args=[first.pk]), {"membre": outsider.pk})
    assert response.status_code == 200
    assert "membre" in response.context["rows"][0]["client_form"].errors
    first.refresh_from_db()
    assert first.client == c

    new_start = timezone.localtime(first.debut + timedelta(days=2)).replace(hour=10, minute=0)
    response = client.post(
        reverse("codev:seance_reschedule", args=[first.pk]),
        {"debut": new_start.strftime("%Y-%m-%dT%H:%M")},
    )
    assert response.status_code == 302
    first.refresh_from_db()
    assert first.debut == new_start
    assert (
        "Les rappels et les agendas des participants suivent."
        in messages_of(client.get(response.url))[0]
    )

    past = timezone.localtime() - timedelta(days=1)
    response = client.post(
        reverse("codev:seance_reschedule", args=[first.pk]),
        {"debut": past.strftime("%Y-%m-%dT%H:%M")},
    )
    assert response.status_code == 200
    assert "La nouvelle date doit être dans le futur." in text(response)
    first.refresh_from_db()
    assert first.debut == new_start


def test_a_started_seance_keeps_its_client_and_date(client, groupe):
    a, b = with_members(groupe, 2)
    services.generate_cycle(groupe)
    first = groupe.seances.get(numero=1)
    services.next_phase(first)
    client.force_login(groupe.animateur)

    row = next(r for r in client.get(group_url(groupe)).context["rows"] if r["seance"] == first)
    assert "client_form" not in row and "reschedule_form" not in row and row["en_cours"]

    response = client.post(reverse("codev:seance_client", args=[first.pk]), {"membre": b.pk})
    assert "Le client d'une séance commencée ou passée ne change plus." in text(response)
    later = timezone.localtime(first.debut + timedelta(days=3))
    response = client.post(
        reverse("codev:seance_reschedule", args=[first.pk]),
        {"debut": later.strftime("%Y-%m-%dT%H:%M")},
    )
    assert "Une séance commencée, close ou annulée ne se déplace plus." in text(response)
    first.refresh_from_db()
    assert first.client == a and first.debut != later


# --- Who sees what -------------------------------------------------------------


def test_another_animateur_gets_404_on_the_group_its_runner_and_every_post(client, groupe):
    a, b = with_members(groupe, 2)
    services.generate_cycle(groupe)
    seance = groupe.seances.get(numero=1)
    other = make_animateur()
    client.force_login(other)

    assert client.get(group_url(groupe)).status_code == 404
    assert client.get(reverse("codev:seance", args=[seance.pk])).status_code == 404
    assert "Codev des sous-directeurs" not in page(client, LIST)
    posts = [
        (group_url(groupe, "codev:membre_add"), {"email": CadreFactory().email}),
        (group_url(groupe, "codev:cycle_generate"), {}),
        (reverse("codev:membre_remove", args=[a.pk]), {}),
        (reverse("codev:seance_client", args=[seance.pk]), {"membre": b.pk}),
        (reverse("codev:seance_reschedule", args=[seance.pk]), {"debut": "2040-01-10T10:00"}),
        (reverse("codev:seance_phase", args=[seance.pk]), {"depuis": ""}),
        (reverse("codev:seance_presences", args=[seance.pk]), {"presents": [a.pk]}),
        (reverse("codev:seance_probleme", args=[seance.pk]), {"probleme": "x"}),
        (reverse("codev:seance_contrat", args=[seance.pk]), {"consultation": "idees"}),
        (reverse("codev:seance_plan", args=[seance.pk]), {"actions": "x"}),
        (reverse("codev:seance_suivi", args=[seance.pk]), {"suivi": "x"}),
        (reverse("codev:seance_apprentissages", args=[seance.pk]), {f"membre_{a.pk}": "x"}),
        (reverse("codev:seance_regulation", args=[seance.pk]), {"note_regulation": "4"}),
    ]
    for url, data in posts:
        assert client.post(url, data).status_code == 404, url
    # A member of the group is no animateur either.
    client.force_login(a.cadre.user)
    assert client.get(reverse("codev:seance", args=[seance.pk])).status_code == 404
    for url, data in posts:
        assert client.post(url, data).status_code == 404, url

    seance.refresh_from_db()
    assert seance.phase == "" and seance.client == a
    assert groupe.membres.filter(date_sortie__isnull=True).count() == 2
    assert not seance.presences.exists()
    assert groupe.seances.count() == 8


def test_a_member_sees_their_group_and_not_another(client, groupe, animateur):
    a, b, c = with_members(groupe, 3)
    services.generate_cycle(groupe)
    other = GroupeFactory(nom="Codev des préfets", animateur=animateur)
    with_members(other, 2)
    services.generate_cycle(other)
    client.force_login(b.cadre.user)

    listing = page(client, LIST)
    assert "Codev des sous-directeurs" in listing and "Codev des préfets" not in listing
    assert "Créer un groupe" not in listing

    body = page(client, group_url(groupe))
    assert "Vous êtes membre de ce groupe" in body
    assert "Calendrier des séances" in body and "Mes plans d'action" in body
    for m in (a, b, c):
        assert str(m.cadre) in body
    assert body.count(">Vous</span>") == groupe.seances.filter(client=b).count() == 3
    # Nothing of the animateur's tools.
    assert "Animer la séance" not in body and "Ajouter un membre" not in body
    assert "Retirer" not in body and 'name="membre"' not in body

    assert client.get(group_url(other)).status_code == 404
    # A member who left sees the group no more.
    services.remove_member(b)
    assert client.get(group_url(groupe)).status_code == 404


def test_a_member_reads_their_own_action_plans_only(client, groupe):
    a, b = with_members(groupe, 2)
    services.generate_cycle(groupe)
    s1, s2 = groupe.seances.order_by("numero")[:2]
    services.record_plan(s1, "Rencontrer chaque chef de bureau avant fin janvier.")
    services.record_plan(s2, "Déléguer la préparation du budget.")
    PlanAction.objects.filter(seance=s1).update(suivi="Quatre rencontres sur six.")

    client.force_login(a.cadre.user)
    body = page(client, group_url(groupe))
    assert "Rencontrer chaque chef de bureau avant fin janvier." in body
    assert "Quatre rencontres sur six." in body
    assert "Déléguer la préparation du budget." not in body

    client.force_login(b.cadre.user)
    body = page(client, group_url(groupe))
    assert "Déléguer la préparation du budget." in body
    assert "Rencontrer chaque chef de bureau" not in body

    # The group's content never shows on the animateur's group page either.
    client.force_login(groupe.animateur)
    body = page(client, group_url(groupe))
    assert "Déléguer la préparation du budget." not in body


def test_the_group_shows_on_the_members_home(client, groupe):
    a, b = with_members(groupe, 2)
    client.force_login(a.cadre.user)
    body = page(client, reverse("portal:home"))
    assert "Groupe « Codev des sous-directeurs »" in body
    assert group_url(groupe) in body


# --- Queries -------------------------------------------------------------------


def count_queries(client, url):
    client.get(url)  # warm caches (content types, session)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_the_group_page_makes_as_many_queries_for_2_as_for_8_members(client, animateur, structures):
    counts = {}
    for size in (2, MAX_MEMBRES):
        groupe = GroupeFactory(animateur=animateur, structure=structures["ministere"])
        membres = with_members(groupe, size)
        services.generate_cycle(groupe)
        first = groupe.seances.get(numero=1)
        services.record_attendance(first, {m.pk for m in membres})
        services.record_plan(first, "Une action.")
        client.force_login(animateur)
        as_animateur = count_queries(client, group_url(groupe))
        client.force_login(membres[0].cadre.user)
        as_member = count_queries(client, group_url(groupe))
        counts[size] = (as_animateur, as_member)
    assert counts[2] == counts[MAX_MEMBRES], counts
    assert max(counts[2]) <= 8, counts


def test_the_list_makes_as_many_queries_for_1_as_for_6_groups(client, animateur, structures):
    client.force_login(animateur)
    groupe = GroupeFactory(animateur=animateur, structure=structures["ministere"])
    with_members(groupe, 2)
    one = count_queries(client, LIST)
    for _ in range(5):
        groupe = GroupeFactory(animateur=animateur, structure=structures["ministere"])
        with_members(groupe, 3)
        services.generate_cycle(groupe)
    assert count_queries(client, LIST) == one
    body = page(client, LIST)
    assert body.count("Cycle à planifier") == 1 and body.count("0 réalisée(s) sur 8") == 5
