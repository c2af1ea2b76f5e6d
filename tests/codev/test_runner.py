"""The séance runner (/codev/seances/<pk>/): the animateur walks the opening round and
the six phases in order, with a per-phase countdown; the state lives on the server, so
a reload resumes the same phase. Attendance, the client's problem and contract, the
action plan (followed up at the next séance), learnings and the group's rating."""

import html
import re
from datetime import datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from cadres.models import Role
from cadres.services import grant_role
from codev import services
from codev.models import MAX_MEMBRES, Apprentissage, PlanAction, Presence, Seance
from tests.factories import GroupeFactory, UserFactory, make_cadre_user

pytestmark = pytest.mark.django_db

# The order of the issue, written apart from the code under test.
STEPS = [
    ("ouverture", "Tour d'ouverture : suivi du dernier plan d'action"),
    ("expose", "1. Exposé de la situation par le client"),
    ("clarification", "2. Clarification : questions des consultants"),
    ("contrat", "3. Contrat : la demande du client"),
    ("exploration", "4. Exploration : idées et suggestions des consultants"),
    ("synthese", "5. Synthèse et plan d'action"),
    ("apprentissage", "6. Apprentissages et régulation"),
]
MINUTES = {
    "ouverture": 10,
    "expose": 10,
    "clarification": 15,
    "contrat": 5,
    "exploration": 40,
    "synthese": 20,
    "apprentissage": 20,
}


@pytest.fixture(autouse=True)
def phase_minutes(settings):
    settings.CODEV_PHASE_MINUTES = dict(MINUTES)


def text(response):
    return html.unescape(response.content.decode())


def messages_of(response):
    return [str(m) for m in response.context["messages"]]


def runner(seance):
    return reverse("codev:seance", args=[seance.pk])


def action(seance, name):
    return reverse(f"codev:seance_{name}", args=[seance.pk])


def make_group(size=3, **kwargs):
    animateur = UserFactory(first_name="Arnaud", last_name="Fabre")
    grant_role(animateur, Role.Kind.ANIMATEUR)
    groupe = GroupeFactory(animateur=animateur, **kwargs)
    membres = [services.add_member(groupe, make_cadre_user()) for _ in range(size)]
    services.generate_cycle(groupe)
    return groupe, membres


@pytest.fixture
def setup(client):
    groupe, membres = make_group(3, nom="Codev des sous-directeurs")
    client.force_login(groupe.animateur)
    return groupe, membres, groupe.seances.get(numero=1)


def go_next(client, seance):
    """Click the main button from the page as it is now."""
    seance.refresh_from_db()
    response = client.post(action(seance, "phase"), {"depuis": seance.phase})
    assert response.status_code == 302 and response.url == runner(seance)
    seance.refresh_from_db()
    return seance


def current_step(body):
    found = re.findall(r'<li[^>]*aria-current="step"[^>]*>\s*([^<]+?)\s*<span', body)
    return found


# --- Walking the phases ----------------------------------------------------------


def test_the_runner_walks_the_seven_steps_in_order(client, setup):
    groupe, (a, b, c), seance = setup
    body = text(client.get(runner(seance)))
    assert "La séance n'a pas commencé" in body
    assert "Commencer la séance" in body and current_step(body) == []
    assert "120 minutes en tout" in body  # the default durations make the 2 hours
    assert f'<span id="client">{a.cadre}</span>' in body
    consultants = body[body.index('id="consultants"') :]
    assert str(b.cadre) in consultants and str(c.cadre) in consultants
    assert str(a.cadre) not in consultants.split("</ul>")[0]

    for number, (value, label) in enumerate(STEPS, start=1):
        seance = go_next(client, seance)
        assert seance.phase == value
        assert seance.statut == Seance.Statut.PLANIFIEE and seance.terminee_le is None
        body = text(client.get(runner(seance)))
        assert current_step(body) == [label]
        assert f"Étape {number} sur 7" in body
        expected = "Clore la séance" if number == 7 else "Phase suivante"
        assert f">{expected}</button>" in body
        assert f"Temps restant pour cette phase ({MINUTES[value]} min)" in body

    seance = go_next(client, seance)
    assert seance.statut == Seance.Statut.REALISEE and seance.terminee_le is not None
    response = client.get(runner(seance))
    assert messages_of(response)[0].startswith("Séance n° 1 close.")
    body = text(response)
    assert "Séance close le" in body and 'id="bouton-phase"' not in body
    assert "data-phase-end" not in body and current_step(body) == []
    # No eighth step: a closed séance stays closed.
    response = client.post(action(seance, "phase"), {"depuis": ""}, follow=True)
    seance.refresh_from_db()
    assert seance.statut == Seance.Statut.REALISEE and seance.phase == "apprentissage"


def test_the_phase_and_its_timer_survive_a_reload(client, setup):
    groupe, membres, seance = setup
    go_next(client, seance)
    seance = go_next(client, seance)  # exposé
    # Three minutes and a half into the phase, as if the page were reloaded later.
    started = timezone.now() - timedelta(minutes=3, seconds=30)
    Seance.objects.filter(pk=seance.pk).update(phase_debut=started)

    for _ in range(2):  # two reloads, same state
        response = client.get(runner(seance))
        body = text(response)
        assert current_step(body) == ["1. Exposé de la situation par le client"]
        end = re.search(r'data-phase-end="([^"]+)"', body).group(1)
        gap = datetime.fromisoformat(end) - (started + timedelta(minutes=10))
        assert abs(gap) < timedelta(milliseconds=1)
        assert re.search(r'data-now="([^"]+)"', body)
        countdown = re.search(r"data-countdown>([^<]+)<", body).group(1)
        assert countdown in {"06:30", "06:29", "06:28"}
    seance.refresh_from_db()
    assert seance.phase == "expose"

    # Beyond its time the phase says so, and waits for the animateur.
    Seance.objects.filter(pk=seance.pk).update(phase_debut=timezone.now() - timedelta(minutes=12))
    body = text(client.get(runner(seance)))
    assert re.search(r"data-countdown>Temps écoulé \(\+02:0[0-2]\)<", body)
    assert "fr-text-default--error" in body
    seance.refresh_from_db()
    assert seance.phase == "expose"


def test_a_stale_page_does_not_skip_a_phase(client, setup):
    groupe, membres, seance = setup
    go_next(client, seance)
    # Two screens show "ouverture"; the first moves on, then the second clicks.
    client.post(action(seance, "phase"), {"depuis": "ouverture"})
    response = client.post(action(seance, "phase"), {"depuis": "ouverture"}, follow=True)
    seance.refresh_from_db()
    assert seance.phase == "expose"
    assert messages_of(response) == [
        "La séance avait déjà changé de phase (ouverte sur un autre écran ?) : elle est à la "
        "phase « 1. Exposé de la situation par le client »."
    ]


def test_a_cancelled_seance_is_not_run(client, setup):
    groupe, membres, seance = setup
    seance.statut = Seance.Statut.ANNULEE
    seance.save()
    body = text(client.get(runner(seance)))
    assert "Séance annulée" in body and 'id="bouton-phase"' not in body
    response = client.post(action(seance, "phase"), {"depuis": ""}, follow=True)
    assert messages_of(response) == ["Cette séance est annulée."]
    seance.refresh_from_db()
    assert seance.phase == "" and seance.statut == Seance.Statut.ANNULEE


def test_the_page_loads_the_countdown_script_under_the_csp(client, setup):
    groupe, membres, seance = setup
    response = client.get(runner(seance))
    body = text(response)
    assert '<script src="/static/js/codev-runner.js" defer></script>' in body
    assert "data-phase-end" not in body  # no timer before the start
    go_next(client, seance)
    response = client.get(runner(seance))
    body = text(response)
    assert 'data-phase-end="' in body and 'role="timer"' in body
    csp = response.headers["Content-Security-Policy"]
    script_src = re.search(r"script-src ([^;]+)", csp).group(1)
    assert "'self'" in script_src and "unsafe-inline" not in script_src
    # Every script is a file of ours (or would carry the request's nonce): nothing inline.
    nonce = re.search(r"'nonce-([^']+)'", script_src)
    for attributes, content in re.findall(r"<script\b([^>]*)>(.*?)</script>", body, re.S):
        if content.strip():
            assert nonce and f'nonce="{nonce.group(1)}"' in attributes, attributes
        else:
            assert 'src="/static/' in attributes, attributes


# --- What the runner records -------------------------------------------------------


def test_attendance_is_recorded(client, setup):
    groupe, (a, b, c), seance = setup
    body = text(client.get(runner(seance)))
    assert "La présence n'est pas encore relevée." in body
    # Everyone is ticked until attendance is taken.
    assert body.count('name="presents"') == 3 and body.count("checked") == 3

    response = client.post(action(seance, "presences"), {"presents": [a.pk, c.pk]})
    assert response.status_code == 302 and response.url.endswith("#presence")
    assert dict(Presence.objects.filter(seance=seance).values_list("membre_id", "present")) == {
        a.pk: True,
        b.pk: False,
        c.pk: True,
    }
    response = client.get(response.url)
    assert messages_of(response) == ["Présence enregistrée : 2 présent(s) sur 3."]
    body = text(response)
    assert "Présence relevée : 2 présent(s) sur 3." in body
    assert f'{b.cadre} <span class="fr-badge fr-badge--sm">absent(e)</span>' in body

    # Someone from outside the group cannot be ticked.
    outsider = services.add_member(GroupeFactory(), make_cadre_user())
    response = client.post(action(seance, "presences"), {"presents": [outsider.pk]})
    assert response.status_code == 200
    assert "presents" in response.context["attendance_form"].errors
    assert not Presence.objects.filter(membre=outsider).exists()

    # The group page shows the count.
    groupe_page = client.get(reverse("codev:groupe", args=[groupe.pk]))
    row = next(r for r in groupe_page.context["rows"] if r["seance"] == seance)
    assert row["seance"].nb_presents == 2


def test_problem_and_contract_are_recorded_at_their_phase_only(client, setup):
    groupe, membres, seance = setup
    response = client.post(action(seance, "probleme"), {"probleme": "Trop tôt"}, follow=True)
    assert messages_of(response) == [
        "La séance n'est pas à la phase « 1. Exposé de la situation par le client » : rien n'a "
        "été enregistré."
    ]
    go_next(client, seance)
    go_next(client, seance)  # exposé
    body = text(client.get(runner(seance)))
    assert 'name="probleme"' in body and 'name="contrat"' not in body

    response = client.post(action(seance, "probleme"), {"probleme": ""})
    assert response.status_code == 200 and "probleme" in response.context["probleme_form"].errors
    response = client.post(
        action(seance, "probleme"),
        {"probleme": "Mon équipe résiste au nouveau logiciel de gestion des congés."},
    )
    assert response.status_code == 302
    seance.refresh_from_db()
    assert seance.probleme == "Mon équipe résiste au nouveau logiciel de gestion des congés."

    go_next(client, seance)  # clarification: the problem is shown, no form
    body = text(client.get(runner(seance)))
    assert 'name="probleme"' not in body
    assert "Mon équipe résiste au nouveau logiciel" in body

    seance = go_next(client, seance)  # contrat
    sequence = seance.sequence
    response = client.post(action(seance, "contrat"), {"consultation": "nimporte", "contrat": ""})
    assert set(response.context["contrat_form"].errors) == {"consultation", "contrat"}
    response = client.post(
        action(seance, "contrat"),
        {"consultation": "idees", "contrat": "Comment embarquer les plus réticents ?"},
    )
    assert response.status_code == 302
    seance.refresh_from_db()
    assert seance.consultation == Seance.Consultation.IDEES
    assert seance.contrat == "Comment embarquer les plus réticents ?"
    # Content is no change of date: the calendar event's sequence is not bumped by it.
    assert seance.sequence == sequence

    go_next(client, seance)  # exploration: both shown
    body = text(client.get(runner(seance)))
    assert "Des idées et des pistes d'action" in body
    assert "Comment embarquer les plus réticents ?" in body


def test_the_action_plan_reaches_the_client_and_the_next_opening_round(client, setup):
    groupe, (a, b, c), seance = setup
    for _ in range(6):
        go_next(client, seance)
    assert seance.phase == "synthese"
    body = text(client.get(runner(seance)))
    assert 'name="actions"' in body
    response = client.post(action(seance, "plan"), {"actions": "   "})
    assert response.status_code == 200
    assert "Ce champ est obligatoire." in text(response)
    response = client.post(
        action(seance, "plan"),
        {"actions": "Réunir les chefs de bureau lundi.\nProposer un binôme de référents."},
    )
    assert response.status_code == 302
    plan = PlanAction.objects.get(seance=seance)
    assert plan.membre == a
    go_next(client, seance)
    go_next(client, seance)  # closed
    body = text(client.get(runner(seance)))
    assert "Réunir les chefs de bureau lundi." in body  # kept visible once closed

    # The client reads it on their group page.
    client.force_login(a.cadre.user)
    body = text(client.get(reverse("codev:groupe", args=[groupe.pk])))
    plans = body[body.index("Mes plans d'action") :]
    assert "Réunir les chefs de bureau lundi.<br>Proposer un binôme de référents." in plans

    # At the next séance, the opening round shows it and records its follow-up.
    client.force_login(groupe.animateur)
    second = groupe.seances.get(numero=2)
    assert second.client == b
    body = text(client.get(runner(second)))
    assert "Réunir les chefs de bureau lundi." not in body  # before the start
    go_next(client, second)
    body = text(client.get(runner(second)))
    assert f"Plan d'action de {a.cadre} (séance n° 1)" in body
    assert "Réunir les chefs de bureau lundi." in body
    response = client.post(
        action(second, "suivi"), {"suivi": "Réunion tenue ; binôme en place depuis mars."}
    )
    assert response.status_code == 302
    plan.refresh_from_db()
    assert plan.suivi == "Réunion tenue ; binôme en place depuis mars."
    go_next(client, second)
    assert client.post(action(second, "suivi"), {"suivi": "trop tard"}).status_code == 302
    plan.refresh_from_db()
    assert plan.suivi == "Réunion tenue ; binôme en place depuis mars."

    client.force_login(a.cadre.user)
    body = text(client.get(reverse("codev:groupe", args=[groupe.pk])))
    assert "Réunion tenue ; binôme en place depuis mars." in body


def test_learnings_per_present_member_and_the_groups_rating(client, setup):
    groupe, (a, b, c), seance = setup
    services.record_attendance(seance, {a.pk, c.pk})
    for _ in range(7):
        go_next(client, seance)
    assert seance.phase == "apprentissage"
    body = text(client.get(runner(seance)))
    assert f"Apprentissages de {a.cadre}" in body and f"Apprentissages de {c.cadre}" in body
    assert f"Apprentissages de {b.cadre}" not in body  # absent

    response = client.post(
        action(seance, "apprentissages"),
        {
            f"membre_{a.pk}": "Dire ce que je ne sais pas.",
            f"membre_{c.pk}": "",
            f"membre_{b.pk}": "Absent : ignoré",
        },
    )
    assert response.status_code == 302
    assert list(Apprentissage.objects.values_list("membre_id", "texte")) == [
        (a.pk, "Dire ce que je ne sais pas.")
    ]

    response = client.post(action(seance, "regulation"), {"note_regulation": "6"})
    assert "note_regulation" in response.context["regulation_form"].errors
    response = client.post(action(seance, "regulation"), {"note_regulation": "4"})
    assert response.status_code == 302
    seance.refresh_from_db()
    assert seance.note_regulation == 4

    go_next(client, seance)
    body = text(client.get(runner(seance)))
    assert "Dire ce que je ne sais pas." in body and "4 sur 5" in body
    assert 'name="note_regulation"' not in body
    # Closed: nothing more is recorded.
    client.post(action(seance, "regulation"), {"note_regulation": "2"})
    seance.refresh_from_db()
    assert seance.note_regulation == 4


# --- Queries -----------------------------------------------------------------------


def count_queries(client, url):
    client.get(url)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_the_runner_makes_as_many_queries_for_2_as_for_8_members(client):
    counts = {}
    for size in (2, MAX_MEMBRES):
        groupe, membres = make_group(size)
        client.force_login(groupe.animateur)
        first, second = groupe.seances.order_by("numero")[:2]
        services.record_plan(first, "Une action.")
        services.record_attendance(second, {m.pk for m in membres})
        for m in membres:
            services.record_learning(second, m, "Appris.")
        per_phase = [count_queries(client, runner(second))]
        for _ in range(8):
            services.next_phase(second)
            per_phase.append(count_queries(client, runner(second)))
        counts[size] = per_phase
    assert counts[2] == counts[MAX_MEMBRES], counts
    assert max(counts[2]) <= 8, counts
