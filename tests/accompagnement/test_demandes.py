"""Requests for a scheme (Demande): the portal, the workflow, the mails, the admin queue
and the one-month deadline."""

import calendar
import html
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accompagnement.models import Demande, Notification
from accompagnement.services import outbox
from accompagnement.services.demandes import decide
from tests.factories import (
    CadreFactory,
    StructureFactory,
    UserFactory,
    make_cadre_user,
    make_delegue,
)
from tests.fakescheme.models import FakeProgramme

pytestmark = pytest.mark.django_db

PARIS = ZoneInfo("Europe/Paris")
CREATE = reverse("portal:demande_create")
LIST = reverse("portal:demande_list")
CHANGELIST = reverse("admin:accompagnement_demande_changelist")
ADD = reverse("admin:accompagnement_demande_add")
DEADLINE_KINDS = {"demande_echeance_proche", "demande_en_retard"}


def detail_url(demande):
    return reverse("portal:demande_detail", args=[demande.pk])


def change_url(demande):
    return reverse("admin:accompagnement_demande_change", args=[demande.pk])


def one_month_after(day):
    """Same day next month, or the month's last day: written apart from the code under test."""
    year, month = (day.year + 1, 1) if day.month == 12 else (day.year, day.month + 1)
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def rows(demande, **filters):
    return Notification.objects.filter(
        object_type=ContentType.objects.get_for_model(Demande), object_id=demande.pk, **filters
    )


def pending_kinds(demande):
    return set(rows(demande, statut="en_attente").values_list("kind", flat=True))


def valid_post(**overrides):
    today = timezone.localdate()
    data = {
        "dispositif": "coaching",
        "contexte": "prise_de_poste",
        "motivation": "Je prends la direction d'un service de 120 agents en pleine réorganisation.",
        "date_debut_souhaitee": (today + timedelta(days=30)).isoformat(),
        "date_fin_souhaitee": (today + timedelta(days=200)).isoformat(),
    }
    data.update(overrides)
    return data


def mails_to(address, subject_contains=""):
    return [
        message
        for message in mail.outbox
        if address in message.to and subject_contains in message.subject
    ]


# --- Portal: asking ---------------------------------------------------------------


def test_request_form_is_in_dsfr_markup(client, cadre_a):
    client.force_login(cadre_a.user)
    response = client.get(CREATE)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Demander un accompagnement" in page
    assert "fr-input-group" in page and 'class="fr-label' in page
    assert "Envoyer ma demande" in page


def test_cadre_submits_a_request_in_the_portal(client, m, cadre_a):
    client.force_login(cadre_a.user)
    response = client.post(CREATE, valid_post())
    demande = Demande.objects.get(cadre=cadre_a)
    assert response.status_code == 302
    assert response.url == detail_url(demande)

    assert demande.statut == Demande.Statut.SOUMISE
    assert demande.origine == Demande.Origine.CADRE
    assert demande.dispositif == "coaching"
    assert demande.cree_par == cadre_a.user
    assert demande.delegue == m["delegue_a"]  # the perimeter covering the cadre's service
    received = timezone.localtime(demande.recue_le).date()
    assert received == timezone.localdate()
    assert demande.echeance == one_month_after(received)

    to_delegue = rows(demande, recipient=m["delegue_a"])
    assert set(to_delegue.values_list("kind", flat=True)) == {"demande_recue", *DEADLINE_KINDS}
    assert not rows(demande).exclude(recipient=m["delegue_a"]).exists()

    page = client.get(response.url).content.decode()
    assert "Votre demande est enregistrée" in page
    assert f"{demande.echeance:%d/%m/%Y}" in page
    assert "Soumise" in page
    assert "réorganisation" in page


def test_nearest_delegue_takes_the_request(m, cadre_a, submit_demande):
    """A délégué of the direction is closer to the cadre than the ministry's one."""
    closer = make_delegue(m["a_dir"])
    assert submit_demande(cadre_a).delegue == closer


def test_request_without_delegue_in_charge_writes_no_reminder(submit_demande):
    cadre = make_cadre_user(structure=StructureFactory(nom="Opérateur sans délégué"))
    demande = submit_demande(cadre)
    assert demande.delegue is None
    assert not rows(demande).exists()


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"motivation": ""}, "Ce champ est obligatoire."),
        ({"motivation": "   "}, "Ce champ est obligatoire."),
        (
            {"date_debut_souhaitee": "2020-01-06", "date_fin_souhaitee": ""},
            "La date de début souhaitée ne peut pas être passée.",
        ),
        (
            {
                "date_debut_souhaitee": (date.today() + timedelta(days=60)).isoformat(),
                "date_fin_souhaitee": (date.today() + timedelta(days=40)).isoformat(),
            },
            "La fin souhaitée précède le début souhaité.",
        ),
        ({"dispositif": "yoga"}, "Sélectionnez un choix valide"),
        ({"contexte": ""}, "Ce champ est obligatoire."),
    ],
)
def test_bad_request_is_refused_with_a_french_message(client, cadre_a, overrides, message):
    client.force_login(cadre_a.user)
    response = client.post(CREATE, valid_post(**overrides))
    assert response.status_code == 200
    page = html.unescape(response.content.decode())
    assert message in page
    assert "fr-error-text" in page or "--error" in page
    assert not Demande.objects.exists()
    assert not Notification.objects.exists()


# --- Portal: who sees what ----------------------------------------------------------


def test_cadre_sees_only_their_own_requests(client, m, cadre_a, submit_demande):
    mine = submit_demande(cadre_a, motivation="Ma propre demande")
    other_cadre = make_cadre_user(structure=m["a_srv"], nom="Voisin")
    theirs = submit_demande(other_cadre, "mentorat", motivation="La demande du voisin")
    client.force_login(cadre_a.user)

    assert client.get(detail_url(theirs)).status_code == 404
    assert client.get(detail_url(mine)).status_code == 200

    response = client.get(LIST)
    assert response.status_code == 200
    assert list(response.context["demandes"]) == [mine]
    page = response.content.decode()
    assert detail_url(mine) in page
    assert detail_url(theirs) not in page


def test_empty_list_says_so(client, cadre_a):
    client.force_login(cadre_a.user)
    assert "Vous n'avez fait aucune demande." in html.unescape(client.get(LIST).content.decode())


def test_account_without_cadre_profile_gets_404(client, cadre_a, submit_demande):
    demande = submit_demande(cadre_a)
    client.force_login(UserFactory())
    for url in (LIST, CREATE, detail_url(demande)):
        assert client.get(url).status_code == 404
    assert client.post(CREATE, valid_post()).status_code == 404
    assert Demande.objects.count() == 1


def test_anonymous_is_sent_to_sign_in(client, cadre_a, submit_demande):
    demande = submit_demande(cadre_a)
    for url in (LIST, CREATE, detail_url(demande)):
        response = client.get(url)
        assert response.status_code == 302
        assert response.url == f"{reverse('account_login')}?next={url}"
    assert client.post(CREATE, valid_post()).status_code == 302
    assert Demande.objects.count() == 1


# --- Workflow (service) -------------------------------------------------------------


def test_instruction_then_acceptance_creates_the_programme(m, cadre_a, submit_demande):
    delegue = m["delegue_a"]
    demande = submit_demande(cadre_a)

    demande = decide(demande, Demande.Statut.EN_INSTRUCTION, by=delegue)
    assert demande.statut == Demande.Statut.EN_INSTRUCTION
    assert demande.decidee_le is None and demande.decidee_par is None
    assert pending_kinds(demande) >= DEADLINE_KINDS
    assert not rows(demande, kind="demande_decision").exists()

    demande = decide(demande, Demande.Statut.ACCEPTEE, by=delegue)
    demande.refresh_from_db()
    programme = FakeProgramme.objects.get(demande_id=demande.pk)
    assert programme.cadre == cadre_a
    assert demande.programme == programme
    assert demande.statut == Demande.Statut.ACCEPTEE
    assert demande.decidee_par == delegue
    assert timezone.now() - demande.decidee_le < timedelta(minutes=1)
    assert not pending_kinds(demande) & DEADLINE_KINDS
    assert set(rows(demande, kind__in=DEADLINE_KINDS).values_list("statut", flat=True)) == {
        "annulee"
    }
    decision = rows(demande, kind="demande_decision").get()
    assert decision.recipient == cadre_a.user
    assert decision.email == cadre_a.email
    assert decision.context["statut"] == "Acceptée"


def test_deciding_twice_the_same_way_changes_nothing(m, cadre_a, submit_demande):
    demande = decide(submit_demande(cadre_a), "acceptee", by=m["delegue_a"])
    again = decide(demande, "acceptee", by=m["delegue_a"])
    assert again.statut == "acceptee"
    assert FakeProgramme.objects.count() == 1
    assert rows(demande, kind="demande_decision").count() == 1


@pytest.mark.parametrize("statut", [Demande.Statut.REFUSEE, Demande.Statut.REPORTEE])
@pytest.mark.parametrize("motif", ["", "   \n"])
def test_refusal_or_postponement_needs_a_reason(m, cadre_a, submit_demande, statut, motif):
    demande = submit_demande(cadre_a)
    with pytest.raises(ValidationError) as error:
        decide(demande, statut, motif, by=m["delegue_a"])
    assert error.value.message_dict["motif_decision"] == [
        "Indiquez le motif du refus ou du report : il est communiqué au cadre."
    ]
    demande.refresh_from_db()
    assert demande.statut == Demande.Statut.SOUMISE
    assert demande.decidee_le is None and demande.decidee_par is None
    assert pending_kinds(demande) >= DEADLINE_KINDS
    assert not rows(demande, kind="demande_decision").exists()


def test_refused_request_cannot_be_accepted_later(m, cadre_a, submit_demande):
    demande = decide(submit_demande(cadre_a), "refusee", "Budget épuisé.", by=m["delegue_a"])
    with pytest.raises(ValidationError) as error:
        decide(demande, Demande.Statut.ACCEPTEE, by=m["delegue_a"])
    assert error.value.message_dict["statut"] == [
        "Une demande « refusée » ne peut pas passer au statut « acceptée »."
    ]
    demande.refresh_from_db()
    assert demande.statut == Demande.Statut.REFUSEE
    assert demande.motif_decision == "Budget épuisé."
    assert not FakeProgramme.objects.exists()


def test_accepted_request_cannot_go_back_to_instruction(m, cadre_a, submit_demande):
    demande = decide(submit_demande(cadre_a), "acceptee", by=m["delegue_a"])
    with pytest.raises(ValidationError, match="ne peut pas passer"):
        decide(demande, Demande.Statut.EN_INSTRUCTION)


def test_postponed_request_is_taken_up_again(m, cadre_a, submit_demande):
    demande = submit_demande(cadre_a)
    demande = decide(demande, "reportee", "À revoir après la réorganisation.", by=m["delegue_a"])
    assert demande.statut == "reportee"
    assert not pending_kinds(demande) & DEADLINE_KINDS

    demande = decide(demande, Demande.Statut.EN_INSTRUCTION, by=m["delegue_a"])
    demande.refresh_from_db()
    assert demande.statut == Demande.Statut.EN_INSTRUCTION
    assert demande.is_open
    # Open again: the deadline reminders are back.
    assert pending_kinds(demande) >= DEADLINE_KINDS


def test_scheme_without_module_cannot_be_accepted(m, cadre_a, submit_demande, monkeypatch):
    # Every scheme of the project has its app: take one out, as a fifth would be.
    from accompagnement import registry

    monkeypatch.delitem(registry._schemes, "mentorat")
    demande = submit_demande(cadre_a, "mentorat")
    with pytest.raises(ValidationError) as error:
        decide(demande, Demande.Statut.ACCEPTEE, by=m["delegue_a"])
    assert "aucun module" in error.value.message_dict["statut"][0]
    demande.refresh_from_db()
    assert demande.statut == Demande.Statut.SOUMISE
    assert demande.programme_id is None and demande.decidee_le is None
    assert not FakeProgramme.objects.exists()
    assert not rows(demande, kind="demande_decision").exists()


# --- The decision mail and the portal ---------------------------------------------------


def test_cadre_is_mailed_the_decision_and_its_reason(client, m, cadre_a, submit_demande):
    motif = "Le budget de formation 2026 est épuisé ; renouvelez votre demande en janvier."
    demande = decide(submit_demande(cadre_a), "refusee", motif, by=m["delegue_a"])
    outbox.send_due()

    [message] = mails_to(cadre_a.email)
    assert message.subject == "[Accompagnement des cadres] Votre demande de coaching : refusée"
    assert "est refusée" in message.body
    assert f"Motif : {motif}" in message.body
    assert f"http://testserver{detail_url(demande)}" in message.body
    body_html, mimetype = message.alternatives[0]
    assert mimetype == "text/html"
    assert "<strong>refusée</strong>" in body_html
    assert motif in html.unescape(body_html)
    # The délégué had been told of the request when it arrived.
    assert len(mails_to(m["delegue_a"].email)) == 1

    client.force_login(cadre_a.user)
    page = html.unescape(client.get(detail_url(demande)).content.decode())
    assert "Refusée" in page and "fr-badge--error" in page
    assert motif in page


def test_acceptance_mail_has_no_reason_line(m, cadre_a, submit_demande):
    decide(submit_demande(cadre_a), "acceptee", by=m["delegue_a"])
    outbox.send_due()
    [message] = mails_to(cadre_a.email)
    assert message.subject.endswith("Votre demande de coaching : acceptée")
    assert "Motif" not in message.body


# --- Deadline and overdue reminders -------------------------------------------------------


def test_deadline_is_one_month_later_in_paris_time(cadre_a, submit_demande):
    # 31 March, 00:30 in Paris is still 30 March in UTC: the deadline is 30 April.
    received = datetime(2026, 3, 30, 22, 30, tzinfo=UTC)
    assert submit_demande(cadre_a, recue_le=received).echeance == date(2026, 4, 30)
    received = datetime(2026, 3, 31, 0, 30, tzinfo=PARIS)
    assert submit_demande(cadre_a, recue_le=received).echeance == date(2026, 4, 30)
    received = datetime(2027, 1, 31, 10, 0, tzinfo=PARIS)
    assert submit_demande(cadre_a, recue_le=received).echeance == date(2027, 2, 28)
    received = datetime(2026, 12, 15, 10, 0, tzinfo=PARIS)
    assert submit_demande(cadre_a, recue_le=received).echeance == date(2027, 1, 15)


def test_overdue_reminder_goes_out_once_on_the_deadline_morning(m, cadre_a, submit_demande):
    demande = submit_demande(cadre_a)
    late = rows(demande, kind="demande_en_retard").get()
    assert late.recipient == m["delegue_a"]
    eight = datetime.combine(demande.echeance, time(8, 0), tzinfo=PARIS)
    assert late.due_at == eight
    near = rows(demande, kind="demande_echeance_proche").get()
    assert near.due_at == eight - timedelta(days=7)

    # The evening before, nothing about the deadline is due yet.
    outbox.send_due(now=eight - timedelta(hours=12))
    assert not mails_to(m["delegue_a"].email, "Délai dépassé")

    outbox.send_due(now=eight + timedelta(minutes=1))
    outbox.send_due(now=eight + timedelta(minutes=2))
    [message] = mails_to(m["delegue_a"].email, "Délai dépassé")
    assert str(cadre_a) in message.subject
    assert "expire aujourd'hui" in message.body
    assert f"http://testserver{change_url(demande)}" in message.body
    assert len(mails_to(m["delegue_a"].email, "Échéance proche")) == 1
    late.refresh_from_db()
    assert late.statut == Notification.Statut.ENVOYEE


def test_decision_cancels_the_deadline_reminders(m, cadre_a, submit_demande):
    demande = submit_demande(cadre_a)
    decide(demande, "acceptee", by=m["delegue_a"])
    eight = datetime.combine(demande.echeance, time(8, 0), tzinfo=PARIS)
    outbox.send_due(now=eight + timedelta(minutes=1))
    assert not mails_to(m["delegue_a"].email, "Délai dépassé")
    assert not mails_to(m["delegue_a"].email, "Échéance proche")
    assert mails_to(cadre_a.email, "acceptée")


# --- Admin: the délégué's queue ---------------------------------------------------------


@pytest.fixture
def queue(m, cadre_a, submit_demande):
    """Inside A: one fresh, one overdue, one overdue but decided. Outside: one in B."""
    forty_days_ago = timezone.now() - timedelta(days=40)
    fresh = submit_demande(cadre_a)
    overdue = submit_demande(
        make_cadre_user(structure=m["a_dir"], nom="Retardataire"),
        "mentorat",
        recue_le=forty_days_ago,
    )
    decided = submit_demande(
        make_cadre_user(structure=m["a"], nom="Decidee"), recue_le=forty_days_ago
    )
    decide(decided, "refusee", "Hors critères.", by=m["delegue_a"])
    outside = submit_demande(m["cadre_b"], by=m["delegue_b"])
    return {"fresh": fresh, "overdue": overdue, "decided": decided, "outside": outside}


def test_delegue_lists_only_their_perimeter(client, m, queue):
    client.force_login(m["delegue_a"])
    response = client.get(CHANGELIST)
    assert response.status_code == 200
    listed = set(response.context["cl"].result_list)
    assert listed == {queue["fresh"], queue["overdue"], queue["decided"]}
    page = response.content.decode()
    assert "BRAVO" not in page
    assert "en retard" in page


def test_overdue_filter_lists_open_requests_past_their_deadline(client, m, queue):
    client.force_login(m["delegue_a"])
    response = client.get(CHANGELIST, {"echeance": "depassee"})
    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [queue["overdue"]]
    page = response.content.decode()
    assert "– en retard" in page
    assert "RETARDATAIRE" in page


def test_overdue_filter_for_the_administrator_spans_perimeters(client, m, queue, submit_demande):
    late_b = submit_demande(
        m["cadre_b"], by=m["delegue_b"], recue_le=timezone.now() - timedelta(days=35)
    )
    client.force_login(m["admin"])
    response = client.get(CHANGELIST, {"echeance": "depassee"})
    assert set(response.context["cl"].result_list) == {queue["overdue"], late_b}


def test_request_outside_the_perimeter_answers_404(client, m, queue):
    client.force_login(m["delegue_a"])
    assert client.get(change_url(queue["outside"])).status_code == 404
    response = client.post(change_url(queue["outside"]), admin_data(queue["outside"]))
    assert response.status_code == 404
    assert client.get(change_url(queue["fresh"])).status_code == 200


def admin_data(demande, **overrides):
    received = timezone.localtime(demande.recue_le)
    data = {
        "cadre": demande.cadre_id,
        "dispositif": demande.dispositif,
        "contexte": demande.contexte,
        "origine": demande.origine,
        "motivation": demande.motivation,
        "date_debut_souhaitee": "",
        "date_fin_souhaitee": "",
        "recue_le_0": received.strftime("%d/%m/%Y"),
        "recue_le_1": received.strftime("%H:%M:%S"),
        "delegue": demande.delegue_id or "",
        "statut": demande.statut,
        "motif_decision": demande.motif_decision,
        "_save": "Enregistrer",
    }
    data.update(overrides)
    return data


def test_refusing_in_the_admin_without_reason_shows_the_error(client, m, queue):
    demande = queue["fresh"]
    client.force_login(m["delegue_a"])
    response = client.post(change_url(demande), admin_data(demande, statut="refusee"))
    assert response.status_code == 200
    page = html.unescape(response.content.decode())
    assert "Indiquez le motif du refus ou du report" in page
    demande.refresh_from_db()
    assert demande.statut == Demande.Statut.SOUMISE
    assert not rows(demande, kind="demande_decision").exists()


def test_forbidden_transition_in_the_admin_shows_the_error(client, m, queue):
    demande = queue["decided"]
    client.force_login(m["delegue_a"])
    response = client.post(change_url(demande), admin_data(demande, statut="acceptee"))
    assert response.status_code == 200
    assert "ne peut pas passer" in html.unescape(response.content.decode())
    demande.refresh_from_db()
    assert demande.statut == Demande.Statut.REFUSEE
    assert not FakeProgramme.objects.exists()


def test_refusing_in_the_admin_with_a_reason(client, m, queue):
    demande = queue["fresh"]
    client.force_login(m["delegue_a"])
    motif = "Un coaching vous a déjà été accordé cette année."
    response = client.post(
        change_url(demande), admin_data(demande, statut="refusee", motif_decision=motif)
    )
    assert response.status_code == 302
    demande.refresh_from_db()
    assert demande.statut == Demande.Statut.REFUSEE
    assert demande.motif_decision == motif
    assert demande.decidee_par == m["delegue_a"]
    assert demande.decidee_le is not None
    assert not pending_kinds(demande) & DEADLINE_KINDS
    decision = rows(demande, kind="demande_decision").get()
    assert decision.email == demande.cadre.email
    assert decision.context == {"statut": "Refusée", "motif": motif}
    page = html.unescape(client.get(response.url).content.decode())
    assert "La décision a été enregistrée et notifiée au cadre." in page


def test_accepting_in_the_admin_creates_the_programme(client, m, queue):
    demande = queue["fresh"]
    client.force_login(m["delegue_a"])
    response = client.post(change_url(demande), admin_data(demande, statut="acceptee"))
    assert response.status_code == 302
    demande.refresh_from_db()
    assert demande.statut == Demande.Statut.ACCEPTEE
    assert demande.programme == FakeProgramme.objects.get(demande_id=demande.pk)
    page = client.get(change_url(demande)).content.decode()
    assert f"Programme de {demande.cadre}" in page


def test_editing_without_decision_keeps_the_status(client, m, queue):
    demande = queue["fresh"]
    client.force_login(m["delegue_a"])
    response = client.post(
        change_url(demande), admin_data(demande, motivation="Motivation précisée au téléphone.")
    )
    assert response.status_code == 302
    demande.refresh_from_db()
    assert demande.motivation == "Motivation précisée au téléphone."
    assert demande.statut == Demande.Statut.SOUMISE
    assert not rows(demande, kind="demande_decision").exists()


def test_correcting_the_reception_date_moves_deadline_and_reminders(client, m, queue):
    demande = queue["fresh"]
    client.force_login(m["delegue_a"])
    earlier = timezone.localtime(demande.recue_le) - timedelta(days=10)
    response = client.post(
        change_url(demande),
        admin_data(
            demande,
            recue_le_0=earlier.strftime("%d/%m/%Y"),
            recue_le_1=earlier.strftime("%H:%M:%S"),
        ),
    )
    assert response.status_code == 302
    demande.refresh_from_db()
    assert demande.echeance == one_month_after(earlier.date())
    late = rows(demande, kind="demande_en_retard", statut="en_attente").get()
    assert late.due_at == datetime.combine(demande.echeance, time(8, 0), tzinfo=PARIS)
    assert rows(demande, kind="demande_echeance_proche", statut="en_attente").count() == 1


def test_delegue_adds_a_request_for_a_cadre(client, m, cadre_a):
    client.force_login(m["delegue_a"])
    assert client.get(ADD).status_code == 200
    now = timezone.localtime()
    response = client.post(
        ADD,
        {
            "cadre": cadre_a.pk,
            "dispositif": "coaching",
            "contexte": "transformation",
            "origine": "administration",
            "motivation": "Accompagner la fusion de deux directions.",
            "date_debut_souhaitee": "",
            "date_fin_souhaitee": "",
            "recue_le_0": now.strftime("%d/%m/%Y"),
            "recue_le_1": now.strftime("%H:%M:%S"),
            "delegue": m["delegue_a"].pk,
            "statut": "soumise",
            "motif_decision": "",
            "_save": "Enregistrer",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    demande = Demande.objects.get()
    assert demande.cadre == cadre_a
    assert demande.origine == Demande.Origine.ADMINISTRATION
    assert demande.cree_par == m["delegue_a"]
    assert demande.delegue == m["delegue_a"]
    assert demande.statut == Demande.Statut.SOUMISE
    assert demande.echeance == one_month_after(now.date())
    assert set(rows(demande).values_list("kind", flat=True)) == {"demande_recue", *DEADLINE_KINDS}
    assert Demande.objects.filter(pk=demande.pk).count() == 1


def add_data(m, cadre, **overrides):
    now = timezone.localtime()
    data = {
        "cadre": cadre.pk,
        "dispositif": "coaching",
        "contexte": "difficulte",
        "origine": "administration",
        "motivation": "Situation d'équipe difficile.",
        "date_debut_souhaitee": "",
        "date_fin_souhaitee": "",
        "recue_le_0": now.strftime("%d/%m/%Y"),
        "recue_le_1": now.strftime("%H:%M:%S"),
        "delegue": m["delegue_a"].pk,
        "statut": "soumise",
        "motif_decision": "",
        "_save": "Enregistrer",
    }
    data.update(overrides)
    return data


def test_delegue_cannot_add_a_request_for_a_cadre_outside(client, m):
    client.force_login(m["delegue_a"])
    response = client.post(ADD, add_data(m, m["cadre_b"]))
    assert response.status_code == 200
    assert "Sélectionnez un choix valide" in html.unescape(response.content.decode())
    assert not Demande.objects.exists()


def test_adding_a_refused_request_without_reason_shows_the_error(client, m, cadre_a):
    client.force_login(m["delegue_a"])
    response = client.post(ADD, add_data(m, cadre_a, statut="refusee"))
    assert response.status_code == 200
    assert "Indiquez le motif du refus ou du report" in html.unescape(response.content.decode())
    assert not Demande.objects.exists()
    assert not Notification.objects.exists()


def test_adding_an_already_decided_request(client, m, cadre_a):
    client.force_login(m["delegue_a"])
    response = client.post(
        ADD, add_data(m, cadre_a, statut="reportee", motif_decision="Après l'été.")
    )
    assert response.status_code == 302
    demande = Demande.objects.get()
    assert demande.statut == Demande.Statut.REPORTEE
    assert demande.decidee_par == m["delegue_a"]
    assert "demande_decision" in set(rows(demande).values_list("kind", flat=True))
    assert not pending_kinds(demande) & DEADLINE_KINDS


def test_changelist_query_count_does_not_grow_with_the_requests(client, m, submit_demande):
    def add_requests(count):
        for i in range(count):
            cadre = CadreFactory(structure=m["a_srv"] if i % 2 else m["a_dir"])
            submit_demande(cadre, by=m["delegue_a"], recue_le=timezone.now() - timedelta(days=i))

    def count_queries():
        with CaptureQueriesContext(connection) as queries:
            response = client.get(CHANGELIST)
        assert response.status_code == 200
        return len(queries), len(response.context["cl"].result_list)

    client.force_login(m["delegue_a"])
    add_requests(3)
    client.get(CHANGELIST)  # warm caches (content types, session)
    few, listed = count_queries()
    assert listed == 3
    add_requests(27)
    many, listed = count_queries()
    assert listed == 30
    assert many == few
    assert many <= 15


def test_handing_over_to_another_delegue_moves_the_reminders(client, m, queue):
    demande = queue["fresh"]
    colleague = make_delegue(m["a_dir"])
    client.force_login(m["delegue_a"])
    response = client.post(change_url(demande), admin_data(demande, delegue=colleague.pk))
    assert response.status_code == 302
    pending = rows(demande, kind__in=DEADLINE_KINDS, statut="en_attente")
    assert set(pending.values_list("recipient", flat=True)) == {colleague.pk}
    assert pending.count() == 2


def test_near_deadline_filter(client, m, queue, submit_demande):
    soon = submit_demande(
        make_cadre_user(structure=m["a_srv"], nom="Bientot"),
        recue_le=timezone.now() - timedelta(days=26),
    )
    client.force_login(m["delegue_a"])
    response = client.get(CHANGELIST, {"echeance": "proche"})
    assert list(response.context["cl"].result_list) == [soon]


def test_outbox_is_for_administrators_only(client, m, queue):
    url = reverse("admin:accompagnement_notification_changelist")
    client.force_login(m["delegue_a"])
    assert client.get(url).status_code == 403
    client.force_login(m["admin"])
    response = client.get(url, {"kind": "demande_recue"})
    assert response.status_code == 200
    assert {row.email for row in response.context["cl"].result_list} == {
        m["delegue_a"].email,
        m["delegue_b"].email,
    }


def test_delegue_picker_offers_only_delegues_of_the_perimeter(client, m):
    client.force_login(m["delegue_a"])
    response = client.get(reverse("admin:accompagnement_demande_add"))
    choices = {user.pk for user in response.context["adminform"].form.fields["delegue"].queryset}
    assert m["delegue_a"].pk in choices
    assert m["delegue_b"].pk not in choices
    client.force_login(m["admin"])
    response = client.get(reverse("admin:accompagnement_demande_add"))
    choices = {user.pk for user in response.context["adminform"].form.fields["delegue"].queryset}
    assert {m["delegue_a"].pk, m["delegue_b"].pk} <= choices
