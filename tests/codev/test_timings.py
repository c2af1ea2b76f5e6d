"""Phase timings (issue 14, point 1): default durations of a 2-hour séance, editable per
group in the facilitator space and in the admin, refused unless they fill the séance
exactly; the runner counts down the phase and the whole séance, warns of an overrun
(with a polite live region for screen readers) and can pause."""

import html
import re
from datetime import datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from cadres.models import Role
from cadres.services import grant_role
from codev import services
from codev.models import Groupe, Seance, phase_minutes_errors
from tests.factories import GroupeFactory, StructureFactory, UserFactory, make_cadre_user

pytestmark = pytest.mark.django_db

# The defaults, written apart from the code under test.
DEFAULTS = {
    "ouverture": 10,
    "expose": 10,
    "clarification": 15,
    "contrat": 5,
    "exploration": 40,
    "synthese": 20,
    "apprentissage": 20,
}
SHORT = {  # a 90-minute séance
    "ouverture": 5,
    "expose": 10,
    "clarification": 10,
    "contrat": 5,
    "exploration": 30,
    "synthese": 15,
    "apprentissage": 15,
}


@pytest.fixture(autouse=True)
def reminders(settings):
    settings.SESSION_REMINDERS = {"j7": timedelta(days=7), "j1": timedelta(days=1)}


def text(response):
    return html.unescape(response.content.decode())


def messages_of(response):
    return [str(m) for m in response.context["messages"]]


def make_animateur():
    user = UserFactory(first_name="Arnaud", last_name="Fabre")
    grant_role(user, Role.Kind.ANIMATEUR)
    return user


@pytest.fixture
def groupe():
    groupe = GroupeFactory(nom="Codev des sous-directeurs", animateur=make_animateur())
    for _ in range(3):
        services.add_member(groupe, make_cadre_user())
    services.generate_cycle(groupe)
    return groupe


def edit_data(groupe, minutes=None, **overrides):
    """The facilitator's edit form as the browser posts it."""
    data = {
        "nom": groupe.nom,
        "theme": groupe.theme,
        "structure": groupe.structure_id,
        "animation": groupe.animation,
        "mode": groupe.mode,
        "lieu": groupe.lieu,
        "lien_visio": groupe.lien_visio,
        "date_debut": groupe.date_debut.isoformat(),
        "date_fin": groupe.date_fin.isoformat(),
        "rythme_semaines": groupe.rythme_semaines,
        "nb_seances_cible": groupe.nb_seances_cible or "",
        "heure": groupe.heure.strftime("%H:%M"),
        "duree": groupe.duree,
        **{f"duree_{k}": v for k, v in (minutes or groupe.durees_phases).items()},
    }
    data.update(overrides)
    return data


def edit_url(groupe):
    return reverse("codev:groupe_edit", args=[groupe.pk])


def runner(seance):
    return reverse("codev:seance", args=[seance.pk])


# --- The rule --------------------------------------------------------------------


def test_a_new_group_gets_the_default_timings_of_a_two_hour_seance(settings):
    settings.CODEV_PHASE_MINUTES = dict(DEFAULTS)
    groupe = GroupeFactory()
    assert groupe.duree == 120
    assert groupe.phase_minutes() == DEFAULTS
    assert list(groupe.phase_minutes()) == list(DEFAULTS)  # in the order of the séance
    assert sum(groupe.phase_minutes().values()) == 120
    groupe.full_clean()


@pytest.mark.parametrize(
    ("minutes", "duree", "expected"),
    [
        (DEFAULTS, 120, []),
        (SHORT, 90, []),
        (
            DEFAULTS,
            90,
            [
                "Les durées des étapes font 120 minutes en tout, pour une séance de 90 minutes "
                ": ajustez-les (ou la durée de la séance) pour que leur somme soit égale à la "
                "durée de la séance."
            ],
        ),
        (
            {**DEFAULTS, "exploration": 39},
            120,
            [
                "Les durées des étapes font 119 minutes en tout, pour une séance de 120 minutes"
                " : ajustez-les (ou la durée de la séance) pour que leur somme soit égale à la "
                "durée de la séance."
            ],
        ),
        (
            {**DEFAULTS, "contrat": 0, "exploration": 45},
            120,
            [
                "Indiquez la durée de l'étape « 3. Contrat : la demande du client » (1 minute au "
                "moins)."
            ],
        ),
        (
            {k: v for k, v in DEFAULTS.items() if k != "synthese"},
            120,
            ["Indiquez la durée de l'étape « 5. Synthèse et plan d'action » (1 minute au moins)."],
        ),
    ],
)
def test_timings_must_fill_the_seance_exactly(minutes, duree, expected):
    assert phase_minutes_errors(minutes, duree) == expected


def test_the_model_refuses_timings_that_do_not_sum_to_the_duration():
    groupe = GroupeFactory()
    groupe.durees_phases = dict(SHORT)  # 90 minutes for a 2-hour séance
    with pytest.raises(Exception) as excinfo:
        groupe.full_clean()
    assert "90 minutes en tout, pour une séance de 120 minutes" in str(excinfo.value)
    groupe.duree = 90
    groupe.full_clean()


# --- Editing them: facilitator space -----------------------------------------------------


def test_the_animateur_edits_the_timings_and_the_seances_to_come_follow(client, groupe):
    client.force_login(groupe.animateur)
    body = text(client.get(reverse("codev:groupe", args=[groupe.pk])))
    assert "4. Exploration : idées et suggestions des consultants : 40 min" in body
    assert edit_url(groupe) in body
    form_page = client.get(edit_url(groupe))
    assert form_page.status_code == 200
    assert form_page.context["form"]["duree_exploration"].value() == 40

    seance = groupe.seances.order_by("numero").first()
    sequence = seance.sequence
    response = client.post(edit_url(groupe), edit_data(groupe, SHORT, duree=90))
    assert response.status_code == 302 and response.url == groupe.get_absolute_url()
    groupe.refresh_from_db()
    assert groupe.duree == 90 and groupe.phase_minutes() == SHORT
    # The séances to come take the new length; their calendars get a new version.
    assert set(groupe.seances.values_list("duree", flat=True)) == {90}
    seance.refresh_from_db()
    assert seance.sequence == sequence + 1


def test_timings_not_summing_to_the_duration_are_refused_and_nothing_changes(client, groupe):
    client.force_login(groupe.animateur)
    response = client.post(edit_url(groupe), edit_data(groupe, SHORT))  # 90 for 120
    assert response.status_code == 200
    assert response.context["form"].errors["duree"] == [
        "Les durées des étapes font 90 minutes en tout, pour une séance de 120 minutes : "
        "ajustez-les (ou la durée de la séance) pour que leur somme soit égale à la durée "
        "de la séance."
    ]
    assert "ajustez-les (ou la durée de la séance)" in text(response)
    response = client.post(edit_url(groupe), edit_data(groupe, {**DEFAULTS, "contrat": "0"}))
    assert "duree_contrat" in response.context["form"].errors
    groupe.refresh_from_db()
    assert groupe.phase_minutes() == DEFAULTS and groupe.duree == 120
    assert set(groupe.seances.values_list("duree", flat=True)) == {120}


def test_a_group_is_created_with_its_own_timings(client):
    animateur = make_animateur()
    structure = StructureFactory()
    client.force_login(animateur)
    start = timezone.localdate() + timedelta(days=10)
    data = {
        "nom": "Codev court",
        "structure": structure.pk,
        "animation": "interne",
        "mode": "presentiel",
        "date_debut": start.isoformat(),
        "date_fin": (start + timedelta(days=250)).isoformat(),
        "rythme_semaines": "3",
        "heure": "09:30",
        "duree": "90",
        **{f"duree_{k}": v for k, v in DEFAULTS.items()},
    }
    response = client.post(reverse("codev:groupe_create"), data)
    assert response.status_code == 200
    assert "120 minutes en tout, pour une séance de 90 minutes" in " ".join(
        response.context["form"].errors["duree"]
    )
    assert not Groupe.objects.exists()
    data.update({f"duree_{k}": v for k, v in SHORT.items()})
    assert client.post(reverse("codev:groupe_create"), data).status_code == 302
    assert Groupe.objects.get().phase_minutes() == SHORT


def test_only_the_groups_animateur_edits_it(client, groupe):
    other = make_animateur()
    client.force_login(other)
    assert client.get(edit_url(groupe)).status_code == 404
    assert client.post(edit_url(groupe), edit_data(groupe, SHORT, duree=90)).status_code == 404
    member = groupe.membres.first().cadre.user
    client.force_login(member)
    assert client.get(edit_url(groupe)).status_code == 404
    groupe.refresh_from_db()
    assert groupe.duree == 120


# --- Editing them: admin ---------------------------------------------------------------


def admin_data(groupe, minutes, **overrides):
    seances = groupe.seances.count()
    data = {
        **edit_data(groupe, minutes),
        "animateur": groupe.animateur_id,
        "membres-TOTAL_FORMS": 0,
        "membres-INITIAL_FORMS": 0,
        "membres-MIN_NUM_FORMS": 0,
        "membres-MAX_NUM_FORMS": 1000,
        "seances-TOTAL_FORMS": seances,
        "seances-INITIAL_FORMS": seances,
        "seances-MIN_NUM_FORMS": 0,
        "seances-MAX_NUM_FORMS": 1000,
        "_save": "Enregistrer",
    }
    data.update(overrides)
    return data


def test_the_delegue_edits_the_timings_in_the_admin_with_the_same_rule(client, two_ministries):
    m = two_ministries
    groupe = GroupeFactory(structure=m["a_dir"], animateur=make_animateur())
    url = reverse("admin:codev_groupe_change", args=[groupe.pk])
    client.force_login(m["delegue_a"])
    body = text(client.get(url))
    assert "Déroulé d'une séance" in body and 'name="duree_exploration"' in body

    response = client.post(url, admin_data(groupe, SHORT))
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors["duree"]
    assert errors == [
        "Les durées des étapes font 90 minutes en tout, pour une séance de 120 minutes : "
        "ajustez-les (ou la durée de la séance) pour que leur somme soit égale à la durée "
        "de la séance."
    ]
    groupe.refresh_from_db()
    assert groupe.phase_minutes() == DEFAULTS

    response = client.post(url, admin_data(groupe, SHORT, duree=90))
    assert response.status_code == 302
    groupe.refresh_from_db()
    assert groupe.duree == 90 and groupe.phase_minutes() == SHORT


# --- The runner ---------------------------------------------------------------------


def test_the_runner_uses_the_groups_timings_and_keeps_them_once_started(client, groupe):
    groupe.durees_phases = dict(SHORT)
    groupe.duree = 90
    groupe.save()
    seance = groupe.seances.order_by("numero").first()
    client.force_login(groupe.animateur)
    body = text(client.get(runner(seance)))
    assert "90 minutes en tout" in body
    assert "4. Exploration : idées et suggestions des consultants <span" in body
    assert "(30 min)" in body

    services.next_phase(seance)
    # A later change of the group's timings does not rewrite a séance under way.
    Groupe.objects.filter(pk=groupe.pk).update(durees_phases=DEFAULTS, duree=120)
    seance.refresh_from_db()
    assert seance.phase_minutes() == SHORT
    assert seance.phase_fin() == seance.phase_debut + timedelta(minutes=5)
    assert seance.fin_prevue() == seance.commencee_le + timedelta(minutes=90)
    body = text(client.get(runner(seance)))
    assert "Temps restant pour cette phase (5 min)" in body
    assert "Temps restant pour la séance (90 min)" in body


def test_the_runner_shows_time_left_in_the_phase_and_overall(client, groupe):
    seance = groupe.seances.order_by("numero").first()
    client.force_login(groupe.animateur)
    services.next_phase(seance)
    services.next_phase(seance)  # exposé, 10 min
    started = timezone.now() - timedelta(minutes=25)
    Seance.objects.filter(pk=seance.pk).update(
        commencee_le=started, phase_debut=timezone.now() - timedelta(minutes=4)
    )
    body = text(client.get(runner(seance)))
    phase_left = re.search(r"data-countdown>([^<]+)<", body).group(1)
    overall_left = re.search(r"data-countdown-seance>([^<]+)<", body).group(1)
    assert phase_left in {"06:00", "05:59", "05:58"}
    assert overall_left in {"1:35:00", "1:34:59", "1:34:58"}
    end = re.search(r'data-seance-end="([^"]+)"', body).group(1)
    assert abs(datetime.fromisoformat(end) - (started + timedelta(minutes=120))) < timedelta(
        milliseconds=1
    )
    # No overrun yet: the warning is there for the script, hidden.
    assert re.search(r"<div [^>]*data-overrun-alert hidden>", body)
    # Announcements go to a polite live region; the timers themselves stay silent.
    assert re.search(r'<p class="fr-sr-only" aria-live="polite" data-announce></p>', body)


def test_the_runner_warns_when_a_phase_overruns(client, groupe):
    seance = groupe.seances.order_by("numero").first()
    client.force_login(groupe.animateur)
    services.next_phase(seance)  # ouverture, 10 min
    Seance.objects.filter(pk=seance.pk).update(phase_debut=timezone.now() - timedelta(minutes=13))
    body = text(client.get(runner(seance)))
    assert re.search(r"data-countdown>Temps écoulé \(\+03:0[0-2]\)<", body)
    assert re.search(r"<div [^>]*data-overrun-alert>", body)
    assert (
        "La phase « Tour d'ouverture : suivi du dernier plan d'action » dépasse le temps "
        "prévu : concluez-la ou passez à la suite." in body
    )
    # The whole séance has not overrun.
    assert "Temps écoulé" not in re.search(r"data-countdown-seance>([^<]+)<", body).group(1)


def test_pause_stops_the_countdowns_and_resume_shifts_them(client, groupe):
    seance = groupe.seances.order_by("numero").first()
    client.force_login(groupe.animateur)
    pause_url = reverse("codev:seance_pause", args=[seance.pk])
    # Not started: nothing to pause.
    response = client.post(pause_url, follow=True)
    assert messages_of(response) == ["Seule une séance en cours se met en pause."]

    services.next_phase(seance)
    services.next_phase(seance)  # exposé
    seance.refresh_from_db()
    response = client.post(pause_url, follow=True)
    assert messages_of(response) == ["Séance en pause : le compte à rebours est arrêté."]
    seance.refresh_from_db()
    assert seance.en_pause_depuis is not None
    body = text(response)
    assert "data-paused" in body and ">Reprendre</button>" in body
    assert "Séance en pause : les comptes à rebours sont arrêtés." in body

    # Four minutes into the phase, then six minutes of pause.
    now = timezone.now()
    Seance.objects.filter(pk=seance.pk).update(
        commencee_le=now - timedelta(minutes=20),
        phase_debut=now - timedelta(minutes=10),
        en_pause_depuis=now - timedelta(minutes=6),
    )
    body = text(client.get(runner(seance)))
    # Frozen where the pause began: six minutes left, not zero.
    assert re.search(r"data-countdown>(06:00|05:59|05:58)<", body)
    assert re.search(r"data-countdown-seance>(1:46:00|1:45:59|1:45:58)<", body)
    response = client.post(pause_url, {"reprendre": "1"}, follow=True)
    assert messages_of(response) == ["La séance reprend : le compte à rebours repart."]
    seance.refresh_from_db()
    assert seance.en_pause_depuis is None
    shift = seance.phase_debut - (now - timedelta(minutes=10))
    assert timedelta(minutes=6) <= shift < timedelta(minutes=6, seconds=5)
    assert seance.commencee_le - (now - timedelta(minutes=20)) == shift
    assert seance.phase == "expose"
    assert ">Mettre en pause</button>" in text(response)


def test_moving_on_during_a_pause_ends_it(groupe):
    seance = groupe.seances.order_by("numero").first()
    services.next_phase(seance)
    services.pause(seance)
    Seance.objects.filter(pk=seance.pk).update(
        en_pause_depuis=timezone.now() - timedelta(minutes=3)
    )
    commencee_le = Seance.objects.get(pk=seance.pk).commencee_le
    seance = services.next_phase(seance)
    reloaded = Seance.objects.get(pk=seance.pk)
    assert reloaded.phase == "expose" and reloaded.en_pause_depuis is None
    assert reloaded.commencee_le - commencee_le >= timedelta(minutes=3)


def test_pause_belongs_to_the_groups_animateur(client, groupe):
    seance = groupe.seances.order_by("numero").first()
    services.next_phase(seance)
    url = reverse("codev:seance_pause", args=[seance.pk])
    for user in (make_animateur(), groupe.membres.first().cadre.user):
        client.force_login(user)
        assert client.post(url).status_code == 404
    seance.refresh_from_db()
    assert seance.en_pause_depuis is None


def test_the_runner_script_stays_a_file_with_a_live_region(client, groupe):
    seance = groupe.seances.order_by("numero").first()
    services.next_phase(seance)
    client.force_login(groupe.animateur)
    response = client.get(runner(seance))
    body = text(response)
    assert '<script src="/static/js/codev-runner.js" defer></script>' in body
    assert not re.search(r"\son[a-z]+=", body)  # no inline handler anywhere
    with open("static/js/codev-runner.js", encoding="utf-8") as file:
        script = file.read()
    assert "[data-announce]" in script and "data-paused" in script
    # The pause button is a plain form post: no script needed.
    assert re.search(r'<form method="post" action="[^"]+/pause/"', body)


def test_changing_the_duration_in_the_admin_moves_the_calendars_of_the_seances_to_come(
    client, two_ministries, groupe
):
    Groupe.objects.filter(pk=groupe.pk).update(structure=two_ministries["a"])
    groupe.refresh_from_db()
    held = groupe.seances.order_by("numero").first()
    services.next_phase(held)  # started: keeps its length
    url = reverse("admin:codev_groupe_change", args=[groupe.pk])
    client.force_login(two_ministries["delegue_a"])
    data = admin_data(groupe, SHORT, duree=90)
    membres = list(groupe.membres.order_by("date_entree", "pk"))
    data.update(
        {
            "membres-TOTAL_FORMS": len(membres),
            "membres-INITIAL_FORMS": len(membres),
            **{f"membres-{i}-id": mb.pk for i, mb in enumerate(membres)},
            **{f"membres-{i}-groupe": groupe.pk for i in range(len(membres))},
            **{
                f"membres-{i}-date_entree": mb.date_entree.isoformat()
                for i, mb in enumerate(membres)
            },
            **{f"membres-{i}-date_sortie": "" for i in range(len(membres))},
        }
    )
    response = client.post(url, data)
    assert response.status_code == 302
    durations = dict(groupe.seances.values_list("numero", "duree"))
    assert durations[1] == 120
    assert {d for n, d in durations.items() if n > 1} == {90}
