"""Co-development in the admin, as a délégué uses it: the groups of their perimeter,
members added through the service (8 at most, French message, nothing saved when
refused), séances held against planned, attendance rates, the export of counts, and
the content of the séances that no admin page ever shows."""

import html
from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib import admin
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from cadres.models import Role
from cadres.services import grant_role
from codev import services
from codev.models import MAX_MEMBRES, Apprentissage, Groupe, Membre, PlanAction, Presence, Seance
from tests.exports import csv_text
from tests.factories import (
    CadreFactory,
    GroupeFactory,
    SeanceFactory,
    UserFactory,
    make_cadre_user,
)

pytestmark = pytest.mark.django_db

S = Seance.Statut
LIST = reverse("admin:codev_groupe_changelist")
ADD = reverse("admin:codev_groupe_add")
EXPORT = reverse("admin:codev_groupe_export_csv")


def change_url(groupe):
    return reverse("admin:codev_groupe_change", args=[groupe.pk])


def text_of(response):
    return html.unescape(response.content.decode())


def animateur(**kwargs):
    user = UserFactory(**kwargs)
    grant_role(user, Role.Kind.ANIMATEUR)
    return user


def add_members(groupe, count, structure, on=None):
    return [
        services.add_member(groupe, CadreFactory(structure=structure), on=on) for _ in range(count)
    ]


def form_data(groupe, new_members=(), **overrides):
    """The change form as the browser posts it: the group, its members (existing rows
    keep their cadre, a disabled field), new rows, and the read-only séances."""
    membres = list(groupe.membres.order_by("date_entree", "pk")) if groupe.pk else []
    seances = groupe.seances.count() if groupe.pk else 0
    data = {
        "nom": groupe.nom,
        "theme": groupe.theme,
        "structure": groupe.structure_id,
        "animateur": groupe.animateur_id,
        "animation": groupe.animation,
        "mode": groupe.mode,
        "lieu": groupe.lieu,
        "lien_visio": groupe.lien_visio,
        "date_debut": groupe.date_debut.isoformat(),
        "date_fin": groupe.date_fin.isoformat(),
        "rythme_semaines": groupe.rythme_semaines,
        "nb_seances_cible": groupe.nb_seances_cible or "",
        "heure": groupe.heure.strftime("%H:%M") if groupe.heure else "14:00",
        "duree": groupe.duree,
        **{f"duree_{phase}": minutes for phase, minutes in groupe.durees_phases.items()},
        "membres-TOTAL_FORMS": len(membres) + len(new_members),
        "membres-INITIAL_FORMS": len(membres),
        "membres-MIN_NUM_FORMS": 0,
        "membres-MAX_NUM_FORMS": 1000,
        "seances-TOTAL_FORMS": seances,
        "seances-INITIAL_FORMS": seances,
        "seances-MIN_NUM_FORMS": 0,
        "seances-MAX_NUM_FORMS": 1000,
        "_save": "Enregistrer",
    }
    for i, membre in enumerate(membres):
        data[f"membres-{i}-id"] = membre.pk
        data[f"membres-{i}-groupe"] = groupe.pk
        data[f"membres-{i}-date_entree"] = membre.date_entree.isoformat()
        data[f"membres-{i}-date_sortie"] = (
            membre.date_sortie.isoformat() if membre.date_sortie else ""
        )
    for j, cadre in enumerate(new_members, start=len(membres)):
        data[f"membres-{j}-cadre"] = cadre.pk
        data[f"membres-{j}-date_entree"] = timezone.localdate().isoformat()
        data[f"membres-{j}-date_sortie"] = ""
    data.update(overrides)
    return data


def errors_of(response):
    """The form's and the inlines' errors, as the page shows them."""
    found = list(response.context["adminform"].form.non_field_errors())
    for field_errors in response.context["adminform"].form.errors.values():
        found += field_errors
    for inline in response.context["inline_admin_formsets"]:
        found += list(inline.formset.non_form_errors())
        for form_errors in inline.formset.errors:
            for field_errors in form_errors.values():
                found += field_errors
    return found


@pytest.fixture
def m(two_ministries):
    return two_ministries


@pytest.fixture
def groupe_a(m):
    return GroupeFactory(nom="Groupe Alpha", structure=m["a_dir"], animateur=animateur())


@pytest.fixture
def groupe_b(m):
    return GroupeFactory(nom="Groupe Bravo", structure=m["b"], animateur=animateur())


def export(client, **params):
    """The groups' list as exported (CSV), with the list's filters in ``params``."""
    response = client.get(EXPORT, params)
    assert response.status_code == 200
    return csv_text(response)


# --- Perimeter --------------------------------------------------------------------


def test_delegue_lists_only_the_groups_of_their_perimeter(client, m, groupe_a, groupe_b):
    client.force_login(m["delegue_a"])
    response = client.get(LIST)
    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [groupe_a]
    assert "Groupe Bravo" not in text_of(response)
    # The structure filter offers the structures of their groups only.
    assert "Ministère B" not in text_of(response)


def test_administrator_lists_every_group(client, m, groupe_a, groupe_b):
    client.force_login(m["admin"])
    response = client.get(LIST)
    assert set(response.context["cl"].result_list) == {groupe_a, groupe_b}


def test_group_outside_the_perimeter_answers_404(client, m, groupe_a, groupe_b):
    cadre_b = CadreFactory(structure=m["b"])
    client.force_login(m["delegue_a"])
    assert client.get(change_url(groupe_b)).status_code == 404
    response = client.post(
        change_url(groupe_b), form_data(groupe_b, new_members=[cadre_b], nom="Renommé")
    )
    assert response.status_code == 404
    groupe_b.refresh_from_db()
    assert groupe_b.nom == "Groupe Bravo"
    assert not groupe_b.membres.exists()
    assert client.get(change_url(groupe_a)).status_code == 200


def test_export_is_limited_to_the_perimeter(client, m, groupe_a, groupe_b):
    client.force_login(m["delegue_a"])
    response = client.get(EXPORT)
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    body = csv_text(response)
    assert "Groupe Alpha" in body
    assert "Groupe Bravo" not in body


def test_export_filtered_on_a_structure_outside_the_perimeter_stays_inside(
    client, m, groupe_a, groupe_b
):
    client.force_login(m["delegue_a"])
    body = export(client, structure__id__exact=m["b"].pk)
    assert "Groupe Bravo" not in body


def test_cadre_picker_of_the_members_is_limited_to_the_perimeter(client, m):
    client.force_login(m["delegue_a"])
    response = client.get(
        reverse("admin:autocomplete"),
        {"app_label": "codev", "model_name": "membre", "field_name": "cadre", "term": ""},
    )
    assert response.status_code == 200
    ids = {int(r["id"]) for r in response.json()["results"]}
    assert m["cadre_a"].pk in ids and m["cadre_b"].pk not in ids


def test_delegue_cannot_add_a_cadre_outside_their_perimeter(client, m, groupe_a):
    client.force_login(m["delegue_a"])
    response = client.post(change_url(groupe_a), form_data(groupe_a, new_members=[m["cadre_b"]]))
    assert response.status_code == 200
    assert any("Sélectionnez un choix valide" in e for e in errors_of(response))
    assert not groupe_a.membres.exists()


def test_animateur_select_offers_animateurs_only(client, m, groupe_a):
    other = animateur(email="autre.animatrice@example.gouv.fr")
    not_one = UserFactory(email="pas.animateur@example.gouv.fr")
    client.force_login(m["delegue_a"])
    response = client.get(change_url(groupe_a))
    choices = set(response.context["adminform"].form.fields["animateur"].queryset)
    assert {groupe_a.animateur, other} <= choices
    assert not_one not in choices and m["delegue_a"] not in choices
    response = client.post(change_url(groupe_a), form_data(groupe_a, animateur=not_one.pk))
    assert response.status_code == 200
    assert "animateur" in response.context["adminform"].form.errors


# --- Composing a group ------------------------------------------------------------


def test_delegue_creates_a_group_with_its_members(client, m):
    lead = animateur()
    cadres = [CadreFactory(structure=m["a_srv"]) for _ in range(3)]
    draft = Groupe(
        nom="Codev des directeurs de projet",
        theme="Piloter sans autorité hiérarchique",
        structure=m["a"],
        animateur=lead,
        lieu="Ségur, salle 3",
        date_debut=timezone.localdate() + timedelta(days=14),
        date_fin=timezone.localdate() + timedelta(days=250),
    )
    client.force_login(m["delegue_a"])
    response = client.post(ADD, form_data(draft, new_members=cadres))
    assert response.status_code == 302, errors_of(response)
    groupe = Groupe.objects.get()
    assert groupe.animateur == lead and groupe.structure == m["a"]
    assert {mb.cadre for mb in groupe.membres.actifs()} == set(cadres)


def test_delegue_adds_members_up_to_eight(client, m, groupe_a):
    add_members(groupe_a, MAX_MEMBRES - 2, m["a_srv"])
    newcomers = [CadreFactory(structure=m["a_srv"]) for _ in range(2)]
    client.force_login(m["delegue_a"])
    response = client.post(change_url(groupe_a), form_data(groupe_a, new_members=newcomers))
    assert response.status_code == 302, errors_of(response)
    assert groupe_a.membres.actifs().count() == MAX_MEMBRES


def test_a_ninth_member_is_refused_and_nothing_is_saved(client, m, groupe_a):
    add_members(groupe_a, MAX_MEMBRES, m["a_srv"])
    ninth = CadreFactory(structure=m["a_srv"], nom="Neuvième")
    client.force_login(m["delegue_a"])
    response = client.post(
        change_url(groupe_a), form_data(groupe_a, new_members=[ninth], nom="Nom changé")
    )
    assert response.status_code == 200
    errors = " ".join(errors_of(response))
    assert f"au plus {MAX_MEMBRES} membres" in errors
    assert f"au plus {MAX_MEMBRES} membres" in text_of(response)
    groupe_a.refresh_from_db()
    assert groupe_a.nom == "Groupe Alpha"
    assert groupe_a.membres.count() == MAX_MEMBRES
    assert not Membre.objects.filter(cadre=ninth).exists()


def test_two_newcomers_beyond_eight_are_refused_together(client, m, groupe_a):
    add_members(groupe_a, MAX_MEMBRES - 1, m["a_srv"])
    newcomers = [CadreFactory(structure=m["a_srv"]) for _ in range(2)]
    client.force_login(m["delegue_a"])
    response = client.post(change_url(groupe_a), form_data(groupe_a, new_members=newcomers))
    assert response.status_code == 200
    assert "avec cette modification, il en compterait 9" in " ".join(errors_of(response))
    assert groupe_a.membres.count() == MAX_MEMBRES - 1


def test_a_member_leaving_makes_room_for_a_newcomer(client, m, groupe_a):
    add_members(groupe_a, MAX_MEMBRES, m["a_srv"])
    leaving = groupe_a.membres.order_by("pk").first()
    newcomer = CadreFactory(structure=m["a_srv"])
    client.force_login(m["delegue_a"])
    data = form_data(groupe_a, new_members=[newcomer])
    index = next(k for k, v in data.items() if k.endswith("-id") and v == leaving.pk)
    data[index.replace("-id", "-date_sortie")] = timezone.localdate().isoformat()
    response = client.post(change_url(groupe_a), data)
    assert response.status_code == 302, errors_of(response)
    leaving.refresh_from_db()
    assert leaving.date_sortie == timezone.localdate()
    assert groupe_a.membres.actifs().count() == MAX_MEMBRES
    assert groupe_a.membres.actifs().filter(cadre=newcomer).exists()


def test_a_refusal_by_the_service_saves_nothing(client, m, groupe_a, monkeypatch):
    """The formset's count passed, but the service (under its lock) refuses, as when
    the facilitator filled the last seat meanwhile: the whole change is rolled back."""
    add_members(groupe_a, 2, m["a_srv"])
    newcomer = CadreFactory(structure=m["a_srv"])

    def full(groupe, cadre, on=None):
        from django.core.exceptions import ValidationError

        raise ValidationError("Le groupe compte déjà 8 membres.")

    monkeypatch.setattr(services, "add_member", full)
    client.force_login(m["delegue_a"])
    response = client.post(
        change_url(groupe_a), form_data(groupe_a, new_members=[newcomer], nom="Nom changé")
    )
    assert response.status_code == 302
    assert response.url == change_url(groupe_a)
    page = text_of(client.get(response.url))
    assert "Rien n'a été enregistré : Le groupe compte déjà 8 membres." in page
    assert "modifié avec succès" not in page
    groupe_a.refresh_from_db()
    assert groupe_a.nom == "Groupe Alpha"
    assert groupe_a.membres.count() == 2


def test_a_new_member_gets_the_reminders_of_the_seances_to_come(client, m, groupe_a):
    from accompagnement.models import Notification

    add_members(groupe_a, 2, m["a_srv"])
    services.generate_cycle(groupe_a)
    newcomer = make_cadre_user(structure=m["a_srv"])
    client.force_login(m["delegue_a"])
    response = client.post(change_url(groupe_a), form_data(groupe_a, new_members=[newcomer]))
    assert response.status_code == 302, errors_of(response)
    first = groupe_a.seances.order_by("numero").first()
    recipients = set(
        Notification.objects.filter(
            object_id=first.pk, kind__startswith="session_rappel_", statut="en_attente"
        ).values_list("recipient", flat=True)
    )
    assert newcomer.user_id in recipients


def test_a_new_animateur_gets_the_reminders_of_the_seances_to_come(client, m, groupe_a):
    from accompagnement.models import Notification

    add_members(groupe_a, 2, m["a_srv"])
    services.generate_cycle(groupe_a)
    before, after = groupe_a.animateur, animateur()
    client.force_login(m["delegue_a"])
    response = client.post(change_url(groupe_a), form_data(groupe_a, animateur=after.pk))
    assert response.status_code == 302, errors_of(response)
    pending = Notification.objects.filter(
        object_id__in=groupe_a.seances.values("pk"),
        kind__startswith="session_rappel_",
        statut="en_attente",
    )
    per_seance = len(settings.SESSION_REMINDERS)
    assert pending.filter(recipient=after).count() == per_seance * groupe_a.seances.count()
    assert not pending.filter(recipient=before).exists()


# --- Figures ----------------------------------------------------------------------


def attendance(seance, membres, present):
    for membre in membres:
        Presence.objects.create(seance=seance, membre=membre, present=membre in present)


def test_attendance_rate_and_seances_held_against_planned(client, m, groupe_a, groupe_b):
    membres = add_members(groupe_a, 5, m["a_srv"])
    services.remove_member(membres[4])  # left: not counted as active
    four = membres[:4]
    held = [
        SeanceFactory(groupe=groupe_a, numero=n, debut=timezone.now() - timedelta(days=40 - n))
        for n in (1, 2)
    ]
    Seance.objects.filter(pk__in=[s.pk for s in held]).update(statut=S.REALISEE)
    SeanceFactory(groupe=groupe_a, numero=3)  # planned
    cancelled = SeanceFactory(groupe=groupe_a, numero=4)
    Seance.objects.filter(pk=cancelled.pk).update(statut=S.ANNULEE)
    attendance(held[0], four, present=four[:3])  # 3 / 4
    attendance(held[1], four, present=four[1:])  # 3 / 4
    SeanceFactory(groupe=groupe_b, numero=1)  # no attendance taken yet
    client.force_login(m["admin"])

    response = client.get(LIST)
    rows = {g.pk: g for g in response.context["cl"].result_list}
    a, b = rows[groupe_a.pk], rows[groupe_b.pk]
    assert (a.membres_actifs, a.seances_realisees, a.seances_prevues) == (4, 2, 3)
    assert (a.presents, a.presences_notees, a.taux_presence) == (6, 8, 75.0)
    assert (b.membres_actifs, b.seances_realisees, b.seances_prevues) == (0, 0, 1)
    assert b.taux_presence is None
    page = text_of(response)
    assert "Séances réalisées / prévues" in page and "Taux de présence" in page
    assert "2 / 3" in page and "75 %" in page and "0 / 1" in page
    cells = response.context["cl"].model_admin
    assert cells.taux(b) == "—"

    page = text_of(client.get(change_url(groupe_a)))
    assert "75 % (6 présences sur 8 relevées)" in page
    assert "3 / 4" in page  # the séances inline: present / recorded

    body = export(client)
    lines = {line.split(";")[0]: line for line in body.splitlines()}
    assert lines["Groupe Alpha"].endswith(";4;3;2;75 %")
    assert lines["Groupe Bravo"].endswith(";0;1;0;—")
    assert body.splitlines()[0] == (
        "Groupe;Structure organisatrice;Animateur;Modalité;Début du cycle;Fin du cycle;Membres;"
        "Séances prévues;Séances réalisées;Taux de présence"
    )
    start = groupe_a.date_debut.strftime("%d/%m/%Y")
    assert f";{start};" in lines["Groupe Alpha"]  # dates as French spreadsheets read them


def test_list_filters_by_mode_and_cycle(client, m, groupe_a):
    today = timezone.localdate()
    over = GroupeFactory(
        structure=m["a"],
        date_debut=today - timedelta(days=300),
        date_fin=today - timedelta(days=10),
        mode="distanciel",
        lien_visio="https://webconf.numerique.gouv.fr/codev",
    )
    client.force_login(m["delegue_a"])
    assert list(client.get(LIST, {"cycle": "termine"}).context["cl"].result_list) == [over]
    assert list(client.get(LIST, {"cycle": "a_venir"}).context["cl"].result_list) == [groupe_a]
    response = client.get(LIST, {"mode__exact": "distanciel"})
    assert list(response.context["cl"].result_list) == [over]
    response = client.get(LIST, {"q": groupe_a.animateur.email})
    assert list(response.context["cl"].result_list) == [groupe_a]


# --- Confidentiality -------------------------------------------------------------------

SECRETS = [
    "PROBLEME-SECRET",
    "CONTRAT-SECRET",
    "PLAN-SECRET",
    "APPRENTISSAGE-SECRET",
]


@pytest.fixture
def confided(m, groupe_a):
    membres = add_members(groupe_a, 3, m["a_srv"])
    seance = SeanceFactory(groupe=groupe_a, numero=1, debut=timezone.now() - timedelta(days=3))
    Seance.objects.filter(pk=seance.pk).update(
        client=membres[0],
        statut=S.REALISEE,
        probleme="PROBLEME-SECRET : mon directeur me retire un dossier.",
        contrat="CONTRAT-SECRET : des pistes pour en parler.",
        consultation=Seance.Consultation.TEMOIGNAGES,
        note_regulation=2,
    )
    PlanAction.objects.create(
        seance=seance, membre=membres[0], actions="PLAN-SECRET : demander un entretien."
    )
    Apprentissage.objects.create(
        seance=seance, membre=membres[1], texte="APPRENTISSAGE-SECRET : écouter d'abord."
    )
    attendance(seance, membres, present=membres)
    seance.refresh_from_db()
    return seance


def test_no_admin_page_shows_what_is_said_in_a_group(client, m, groupe_a, confided):
    for staff in (m["delegue_a"], m["admin"]):
        client.force_login(staff)
        pages = [
            LIST,
            change_url(groupe_a),
            reverse("admin:codev_groupe_history", args=[groupe_a.pk]),
            reverse("admin:index"),
            reverse("admin:app_list", args=["codev"]),
        ]
        for url in pages:
            response = client.get(url)
            assert response.status_code == 200, url
            page = text_of(response)
            for secret in SECRETS:
                assert secret not in page, (staff, url, secret)
            assert "Des témoignages d'expériences" not in page, url
        body = export(client)
        assert "Groupe Alpha" in body
        for secret in SECRETS:
            assert secret not in body
    # The change page shows the séance's date, status, client and attendance only.
    page = text_of(client.get(change_url(groupe_a)))
    assert "Réalisée" in page and str(confided.client) in page and "3 / 3" in page
    for name in ("probleme", "contrat", "consultation", "note_regulation"):
        assert f"seances-0-{name}" not in page
        assert f'class="field-{name}"' not in page


def test_a_forged_post_does_not_touch_a_seance(client, m, groupe_a, confided):
    client.force_login(m["delegue_a"])
    data = form_data(
        groupe_a,
        **{
            "seances-0-id": confided.pk,
            "seances-0-statut": S.ANNULEE,
            "seances-0-probleme": "réécrit",
        },
    )
    response = client.post(change_url(groupe_a), data)
    assert response.status_code == 302, errors_of(response)
    confided.refresh_from_db()
    assert confided.statut == S.REALISEE
    assert confided.probleme.startswith("PROBLEME-SECRET")


def test_action_plans_and_learnings_have_no_admin_page():
    assert not admin.site.is_registered(PlanAction)
    assert not admin.site.is_registered(Apprentissage)
    for model in ("planaction", "apprentissage"):
        for name in ("changelist", "add"):
            with pytest.raises(NoReverseMatch):
                reverse(f"admin:codev_{model}_{name}")


# --- Constant queries ----------------------------------------------------------------


def count_queries(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


def make_groups(n, structure, lead):
    for _ in range(n):
        groupe = GroupeFactory(structure=structure, animateur=lead)
        membres = add_members(groupe, 3, structure)
        seance = SeanceFactory(groupe=groupe, numero=1)
        attendance(seance, membres, present=membres[:2])


def test_group_list_queries_do_not_grow_with_rows(client, m):
    leads = [animateur(), animateur()]
    client.force_login(m["delegue_a"])
    make_groups(3, m["a_srv"], leads[0])
    few = count_queries(client, LIST)
    make_groups(27, m["a_dir"], leads[1])
    many = count_queries(client, LIST)
    response = client.get(LIST)
    assert len(response.context["cl"].result_list) == 30
    assert few == many
