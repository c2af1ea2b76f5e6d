"""Coaching in the admin, as a délégué uses it: the coach pool with its load, the
engagements of their perimeter, assignments and transitions through the services
(French errors on the form), the suggestions, read-only sessions, the private notes
that no admin page shows, and constant queries on the lists."""

import html
from datetime import date, timedelta

import pytest
from django.contrib import admin
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from accompagnement.models import Evaluation, Notification
from coaching import services
from coaching.models import (
    Certification,
    Coach,
    Coaching,
    NoteCoach,
    SeanceCoaching,
    Specialite,
    SupervisionAnnuelle,
)
from tests.exports import csv_text
from tests.factories import (
    CadreFactory,
    CoachFactory,
    CoachingFactory,
    SeanceCoachingFactory,
    StructureFactory,
    UserFactory,
    make_cadre_user,
)

pytestmark = pytest.mark.django_db

S = Coaching.Statut
COACH_LIST = reverse("admin:coaching_coach_changelist")
COACHING_LIST = reverse("admin:coaching_coaching_changelist")
COACHING_ADD = reverse("admin:coaching_coaching_add")


def change_url(coaching):
    return reverse("admin:coaching_coaching_change", args=[coaching.pk])


def text_of(response):
    return html.unescape(response.content.decode())


def form_data(coaching, **overrides):
    """The change form as the browser posts it (the sessions inline is read-only)."""
    seances = coaching.seances.count()
    data = {
        "origine": coaching.origine,
        "motif": coaching.motif,
        "objectifs": coaching.objectifs,
        "reunion_tripartite_le": "",
        "nb_seances_prevues": coaching.nb_seances_prevues,
        "coach": coaching.coach_id or "",
        "date_debut": coaching.date_debut.isoformat() if coaching.date_debut else "",
        "date_fin": "",
        "statut": coaching.statut,
        "reunion_cloture_le": "",
        "montant_devis": coaching.montant_devis or "",
        "bon_de_commande": coaching.bon_de_commande,
        "seances-TOTAL_FORMS": seances,
        "seances-INITIAL_FORMS": seances,
        "seances-MIN_NUM_FORMS": 0,
        "seances-MAX_NUM_FORMS": 1000,
        "_save": "Enregistrer",
    }
    data.update(overrides)
    return data


@pytest.fixture
def m(two_ministries):
    return two_ministries


@pytest.fixture
def prise_de_poste(db):
    return Specialite.objects.get_or_create(
        code="prise_de_poste", defaults={"libelle": "Prise de poste"}
    )[0]


@pytest.fixture
def coaching_a(m):
    return CoachingFactory(cadre=m["cadre_a"], objectifs="Installer l'équipe de direction.")


@pytest.fixture
def coaching_b(m):
    return CoachingFactory(cadre=m["cadre_b"])


def fill(coach, n, statut=S.EN_COURS):
    """Give ``coach`` ``n`` engagements of other cadres, under way."""
    return [CoachingFactory(coach=coach, statut=statut) for _ in range(n)]


# --- Perimeter --------------------------------------------------------------------


def test_delegue_lists_only_the_coachings_of_their_perimeter(client, m, coaching_a, coaching_b):
    client.force_login(m["delegue_a"])
    response = client.get(COACHING_LIST)
    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [coaching_a]
    assert "Bravo" not in text_of(response)


def test_administrator_lists_every_coaching(client, m, coaching_a, coaching_b):
    client.force_login(m["admin"])
    response = client.get(COACHING_LIST)
    assert set(response.context["cl"].result_list) == {coaching_a, coaching_b}


def test_coaching_outside_the_perimeter_answers_404(client, m, coaching_a, coaching_b):
    coach = CoachFactory()
    client.force_login(m["delegue_a"])
    assert client.get(change_url(coaching_b)).status_code == 404
    response = client.post(change_url(coaching_b), form_data(coaching_b, coach=coach.pk))
    assert response.status_code == 404
    coaching_b.refresh_from_db()
    assert coaching_b.coach is None and coaching_b.statut == S.A_AFFECTER
    assert client.get(change_url(coaching_a)).status_code == 200


def test_cadre_picker_is_limited_to_the_perimeter(client, m):
    client.force_login(m["delegue_a"])
    response = client.get(
        reverse("admin:autocomplete"),
        {"app_label": "coaching", "model_name": "coaching", "field_name": "cadre", "term": ""},
    )
    assert response.status_code == 200
    ids = {int(r["id"]) for r in response.json()["results"]}
    assert m["cadre_a"].pk in ids and m["cadre_b"].pk not in ids


def test_delegue_cannot_create_a_coaching_for_a_cadre_outside(client, m):
    client.force_login(m["delegue_a"])
    response = client.post(
        COACHING_ADD,
        {
            "cadre": m["cadre_b"].pk,
            "origine": "administration",
            "motif": "prise_de_poste",
            "nb_seances_prevues": 6,
            "statut": S.A_AFFECTER,
            "_save": "Enregistrer",
        },
    )
    assert response.status_code == 200
    assert "Sélectionnez un choix valide" in text_of(response)
    assert not Coaching.objects.exists()


def test_engagements_export_is_limited_to_the_perimeter(client, m, coaching_a, coaching_b):
    client.force_login(m["delegue_a"])
    response = client.get(reverse("admin:coaching_coaching_export_csv"))
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    body = csv_text(response)
    assert m["cadre_a"].email in body
    assert m["cadre_b"].email not in body
    assert "Installer l'équipe" not in body  # objectives are not a column of the list


# --- Coach pool -------------------------------------------------------------------


def test_coach_list_shows_load_against_capacity(client, m, prise_de_poste):
    busy = CoachFactory(nom="Occupé", capacite=3)
    busy.specialites.add(prise_de_poste)
    fill(busy, 1, S.CONTRACTUALISE)
    fill(busy, 1, S.EN_COURS)
    fill(busy, 1, S.TERMINE)  # over: not a load any more
    fill(busy, 1, S.INTERROMPU)
    full = CoachFactory(nom="Complet", capacite=1)
    fill(full, 1)
    client.force_login(m["delegue_a"])
    response = client.get(COACH_LIST)
    assert response.status_code == 200
    rows = {c.pk: c for c in response.context["cl"].result_list}
    assert rows[busy.pk].charge == 2 and rows[full.pk].charge == 1
    page = text_of(response)
    assert "Charge / capacité" in page
    assert "2 / 3" in page
    assert "1 / 1 (complet)" in page
    assert "Prise de poste" in page


def test_coach_pool_is_shared_by_every_delegue(client, m):
    coach = CoachFactory(nom="Partagé")
    for delegue in (m["delegue_a"], m["delegue_b"]):
        client.force_login(delegue)
        response = client.get(COACH_LIST)
        assert coach in response.context["cl"].result_list
        change = reverse("admin:coaching_coach_change", args=[coach.pk])
        assert client.get(change).status_code == 200
    assert client.get(reverse("admin:coaching_coach_add")).status_code == 200


def test_delegue_adds_an_external_coach_with_a_certification(client, m, prise_de_poste):
    client.force_login(m["delegue_a"])
    response = client.post(
        reverse("admin:coaching_coach_add"),
        {
            "type": Coach.Type.EXTERNE,
            "civilite": "mme",
            "nom": "Durand",
            "prenom": "Corinne",
            "email": "Corinne.Durand@Cabinet.example.fr",
            "telephone": "",
            "structure": "",
            "organisme": "Cabinet Trajectoires",
            "contact_organisme": "",
            "tarif_seance": "450.00",
            "specialites": [prise_de_poste.pk],
            "langues": "français, anglais",
            "biographie": "",
            "capacite": 4,
            "actif": "on",
            "certifications-TOTAL_FORMS": 1,
            "certifications-INITIAL_FORMS": 0,
            "certifications-MIN_NUM_FORMS": 0,
            "certifications-MAX_NUM_FORMS": 1000,
            "certifications-0-organisme": "icf",
            "certifications-0-niveau": "PCC",
            "certifications-0-obtenue_le": "2021-06-01",
            "certifications-0-expire_le": "",
            "supervisions-TOTAL_FORMS": 1,
            "supervisions-INITIAL_FORMS": 0,
            "supervisions-MIN_NUM_FORMS": 0,
            "supervisions-MAX_NUM_FORMS": 1000,
            "supervisions-0-annee": "2026",
            "supervisions-0-heures": "12.5",
            "charte_signee_le": "2026-01-15",
            "_save": "Enregistrer",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    coach = Coach.objects.get()
    assert coach.email == "corinne.durand@cabinet.example.fr"
    assert list(coach.specialites.all()) == [prise_de_poste]
    assert coach.certifications.get().niveau == "PCC"
    assert str(coach.supervisions.get(annee=2026).heures) == "12.5"
    assert str(coach.charte_signee_le) == "2026-01-15"
    assert coach.user is None  # délégués do not link accounts


def test_external_coach_without_organisme_is_refused(client, m):
    client.force_login(m["delegue_a"])
    response = client.post(
        reverse("admin:coaching_coach_add"),
        {
            "type": Coach.Type.EXTERNE,
            "civilite": "m",
            "nom": "Sans",
            "prenom": "Cabinet",
            "email": "sans.cabinet@example.fr",
            "langues": "français",
            "capacite": 2,
            "actif": "on",
            "certifications-TOTAL_FORMS": 0,
            "certifications-INITIAL_FORMS": 0,
            "_save": "Enregistrer",
        },
    )
    assert response.status_code == 200
    assert "Indiquez l'organisme du coach externe." in text_of(response)
    assert not Coach.objects.exists()


def test_coach_picker_offers_active_coaches_only(client, m):
    active = CoachFactory(nom="Actif")
    inactive = CoachFactory(nom="Retraité", actif=False)
    barred = [CoachFactory(charte_signee_le=None), CoachFactory(accreditation=False)]
    client.force_login(m["delegue_a"])
    response = client.get(
        reverse("admin:autocomplete"),
        {"app_label": "coaching", "model_name": "coaching", "field_name": "coach", "term": ""},
    )
    ids = {int(r["id"]) for r in response.json()["results"]}
    assert active.pk in ids and inactive.pk not in ids
    assert not ids & {c.pk for c in barred}  # the register bars them too
    # The pool's own list still shows them all.
    response = client.get(COACH_LIST, {"actif__exact": "0"})
    assert list(response.context["cl"].result_list) == [inactive]


# --- Assignment and transitions through the change form -----------------------------


def test_assigning_a_coach_at_capacity_is_refused(client, m, coaching_a):
    full = CoachFactory(nom="Plein", prenom="Paul", capacite=2, user=UserFactory())
    fill(full, 2)
    client.force_login(m["delegue_a"])
    response = client.post(change_url(coaching_a), form_data(coaching_a, coach=full.pk))
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    message = "Paul PLEIN accompagne déjà 2 cadre(s) pour une capacité de 2 : affectation refusée."
    assert errors["coach"] == [message]
    assert message in text_of(response)
    coaching_a.refresh_from_db()
    assert coaching_a.coach is None and coaching_a.statut == S.A_AFFECTER
    assert not Notification.objects.filter(kind="coaching_affecte").exists()


def test_a_valid_assignment_contracts_the_coaching_and_tells_the_coach(client, m, coaching_a):
    coach = CoachFactory(nom="Libre", user=UserFactory(email="libre@cabinet.example.fr"))
    fill(coach, 2)  # capacity 3: one slot left
    client.force_login(m["delegue_a"])
    response = client.post(
        change_url(coaching_a),
        form_data(coaching_a, coach=coach.pk, montant_devis="2700.00", bon_de_commande="BC-1"),
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    coaching_a.refresh_from_db()
    assert coaching_a.coach == coach
    assert coaching_a.statut == S.CONTRACTUALISE
    assert str(coaching_a.montant_devis) == "2700.00" and coaching_a.bon_de_commande == "BC-1"
    row = Notification.objects.get(kind="coaching_affecte")
    assert row.recipient == coach.user
    assert row.target == coaching_a


def test_an_inactive_coach_is_refused(client, m, coaching_a):
    coach = CoachFactory(nom="Parti", prenom="Jean", actif=False)
    client.force_login(m["delegue_a"])
    response = client.post(change_url(coaching_a), form_data(coaching_a, coach=coach.pk))
    assert response.status_code == 200
    assert "Jean PARTI est inactif : ce coach ne peut pas être affecté." in text_of(response)
    coaching_a.refresh_from_db()
    assert coaching_a.coach is None


def test_an_internal_coach_of_the_cadre_s_line_is_refused(client, m, coaching_a):
    coach = CoachFactory(type=Coach.Type.INTERNE, organisme="", structure=m["a_dir"])
    client.force_login(m["delegue_a"])
    response = client.post(change_url(coaching_a), form_data(coaching_a, coach=coach.pk))
    assert response.status_code == 200
    assert "dans la ligne hiérarchique" in text_of(response)
    coaching_a.refresh_from_db()
    assert coaching_a.coach is None


def test_a_refused_transition_shows_the_french_error(client, m, coaching_a):
    client.force_login(m["delegue_a"])
    response = client.post(
        change_url(coaching_a),
        form_data(coaching_a, statut=S.TERMINE, reunion_cloture_le="2026-01-15"),
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert errors["statut"] == [
        "Un coaching « à affecter » ne peut pas passer au statut « terminé »."
    ]
    coaching_a.refresh_from_db()
    assert coaching_a.statut == S.A_AFFECTER and coaching_a.reunion_cloture_le is None


def test_contracting_without_a_coach_is_refused(client, m, coaching_a):
    client.force_login(m["delegue_a"])
    response = client.post(change_url(coaching_a), form_data(coaching_a, statut=S.CONTRACTUALISE))
    assert response.status_code == 200
    assert "Affectez un coach avant de contractualiser." in text_of(response)


@pytest.fixture
def running(m):
    cadre = make_cadre_user(structure=m["a_srv"], nom="Durand")
    coach = CoachFactory(user=UserFactory())
    coaching = services.assign(CoachingFactory(cadre=cadre), coach)
    return services.change_status(coaching, S.EN_COURS)


def test_terminating_without_the_closing_meeting_is_refused(client, m, running):
    client.force_login(m["delegue_a"])
    response = client.post(change_url(running), form_data(running, statut=S.TERMINE))
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert errors["reunion_cloture_le"] == [
        "Un coaching se termine par une réunion tripartite de clôture : indiquez sa date."
    ]
    running.refresh_from_db()
    assert running.statut == S.EN_COURS
    assert not Evaluation.objects.exists()


def test_terminating_with_the_closing_meeting_asks_for_evaluations(client, m, running):
    client.force_login(m["delegue_a"])
    closing = timezone.localdate() - timedelta(days=1)
    response = client.post(
        change_url(running),
        form_data(running, statut=S.TERMINE, reunion_cloture_le=closing.isoformat()),
        follow=True,
    )
    assert response.status_code == 200
    assert "l'évaluation de fin de parcours est demandée" in text_of(response)
    running.refresh_from_db()
    assert running.statut == S.TERMINE
    assert running.reunion_cloture_le == closing
    assert running.date_fin == timezone.localdate()
    participants = set(Evaluation.objects.values_list("participant", flat=True))
    assert participants == {running.cadre.user_id, running.coach.user_id}


def test_the_coach_of_a_running_coaching_cannot_be_changed(client, m, running):
    other = CoachFactory()
    client.force_login(m["delegue_a"])
    response = client.get(change_url(running))
    assert "coach" not in response.context["adminform"].form.fields
    response = client.post(change_url(running), form_data(running, coach=other.pk))
    assert response.status_code == 302
    running.refresh_from_db()
    assert running.coach != other


def test_delegue_creates_a_coaching_and_assigns_a_coach_at_once(client, m):
    coach = CoachFactory(user=UserFactory())
    client.force_login(m["delegue_a"])
    response = client.post(
        COACHING_ADD,
        {
            "cadre": m["cadre_a"].pk,
            "origine": "administration",
            "motif": "transformation",
            "objectifs": "",
            "nb_seances_prevues": 8,
            "coach": coach.pk,
            "statut": S.A_AFFECTER,
            "date_debut": "2026-03-02",
            "montant_devis": "3600",
            "bon_de_commande": "BC-2026-014",
            "_save": "Enregistrer",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    coaching = Coaching.objects.get()
    assert coaching.cadre == m["cadre_a"] and coaching.coach == coach
    assert coaching.statut == S.CONTRACTUALISE
    assert Notification.objects.filter(kind="coaching_affecte", recipient=coach.user).exists()


def test_nb_seances_is_bounded(client, m, coaching_a):
    client.force_login(m["delegue_a"])
    response = client.post(change_url(coaching_a), form_data(coaching_a, nb_seances_prevues=50))
    assert response.status_code == 200
    assert "nb_seances_prevues" in response.context["adminform"].form.errors


# --- Suggestions ------------------------------------------------------------------


def test_change_page_suggests_coaches_with_their_reasons(client, m, coaching_a, prise_de_poste):
    best = CoachFactory(nom="Meilleur", prenom="Anne", organisme="Cabinet Cap", accreditation=False)
    best.specialites.add(prise_de_poste)
    Certification.objects.create(coach=best, organisme="emcc", niveau="Senior Practitioner")
    CoachFactory(nom="Second", prenom="Bruno")
    fill(CoachFactory(nom="Plein", capacite=1), 1)
    CoachFactory(nom="Sanscharte", charte_signee_le=None)  # barred by the register
    client.force_login(m["delegue_a"])
    response = client.get(change_url(coaching_a))
    page = text_of(response)
    assert "Coachs suggérés" in page
    start = page.index('<ol class="coaching-suggestions">')
    panel = page[start : page.index("</ol>", start)]
    assert panel.index("Anne MEILLEUR") < panel.index("Bruno SECOND")
    assert "PLEIN" not in panel and "SANSCHARTE" not in panel
    assert "score 6" in panel
    assert "spécialité « prise de poste » (+3)" in panel
    assert "3 place(s) libre(s) sur 3 (+3)" in panel
    assert "accrédité EMCC Senior Practitioner" in panel


def test_add_page_has_no_suggestions(client, m):
    CoachFactory(nom="Disponible")
    client.force_login(m["delegue_a"])
    response = client.get(COACHING_ADD)
    assert response.status_code == 200
    page = text_of(response)
    assert "coaching-suggestions" not in page
    assert "DISPONIBLE" not in page


# --- Sessions and confidentiality ---------------------------------------------------


def test_sessions_inline_shows_dates_and_attendance_only(client, m, running):
    seance = SeanceCoachingFactory(coaching=running, numero=1, lieu="Salle confidentielle 12")
    SeanceCoaching.objects.filter(pk=seance.pk).update(
        report_motif="Motif personnel du cadre", statut=SeanceCoaching.Statut.REALISEE
    )
    client.force_login(m["delegue_a"])
    response = client.get(change_url(running))
    page = text_of(response)
    assert "Séances (dates et présence)" in page
    assert "Réalisée" in page
    assert "Motif personnel du cadre" not in page
    assert "Salle confidentielle 12" not in page
    assert 'name="seances-0-statut"' not in page  # read-only
    assert 'name="seances-0-DELETE"' not in page
    # A forged post does not touch the session.
    client.post(
        change_url(running),
        form_data(running, **{"seances-0-id": seance.pk, "seances-0-statut": "annulee"}),
    )
    seance.refresh_from_db()
    assert seance.statut == SeanceCoaching.Statut.REALISEE


def test_coach_notes_have_no_admin_url():
    assert not admin.site.is_registered(NoteCoach)
    for name in ("changelist", "add"):
        with pytest.raises(NoReverseMatch):
            reverse(f"admin:coaching_notecoach_{name}")
    with pytest.raises(NoReverseMatch):
        reverse("admin:coaching_notecoach_change", args=[1])


def test_coaching_page_never_shows_a_note_even_to_a_superuser(client, m, running):
    secret = "NOTE-SECRETE : le cadre évoque un conflit avec son directeur."
    NoteCoach.objects.create(coaching=running, auteur=running.coach.user, texte=secret)
    for staff in (m["admin"], m["delegue_a"]):
        assert staff.is_superuser or staff is m["delegue_a"]
        client.force_login(staff)
        for url in (
            change_url(running),
            COACHING_LIST,
            reverse("admin:coaching_coaching_history", args=[running.pk]),
            reverse("admin:index"),
            reverse("admin:app_list", args=["coaching"]),
        ):
            response = client.get(url)
            assert response.status_code == 200, url
            page = text_of(response)
            assert "NOTE-SECRETE" not in page, url
            assert "conflit avec son directeur" not in page, url
            assert "notes privées" not in page.lower(), url


# --- Constant queries ----------------------------------------------------------------


def count_queries(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


def make_coaches(n, specialites, structure):
    for _ in range(n):
        coach = CoachFactory()
        coach.specialites.set(specialites)
        Certification.objects.create(coach=coach, organisme="emcc", niveau="Senior")
        SupervisionAnnuelle.objects.create(coach=coach, annee=timezone.localdate().year, heures=10)
        cadre = CadreFactory(structure=structure)
        coaching = CoachingFactory(cadre=cadre, coach=coach, statut=S.EN_COURS)
        SeanceCoachingFactory(coaching=coaching, numero=1)


def test_coach_list_queries_do_not_grow_with_rows(client, m, prise_de_poste):
    other = Specialite.objects.get(code="leadership")  # from the referential's migration
    client.force_login(m["delegue_a"])
    make_coaches(3, [prise_de_poste, other], m["a_srv"])
    few = count_queries(client, COACH_LIST)
    make_coaches(27, [prise_de_poste, other], m["a_srv"])
    many = count_queries(client, COACH_LIST)
    assert Coach.objects.count() == 30
    assert few == many


def test_coaching_list_queries_do_not_grow_with_rows(client, m, prise_de_poste):
    client.force_login(m["delegue_a"])
    make_coaches(3, [prise_de_poste], m["a_srv"])
    few = count_queries(client, COACHING_LIST)
    make_coaches(27, [prise_de_poste], m["a_dir"])
    many = count_queries(client, COACHING_LIST)
    response = client.get(COACHING_LIST)
    assert len(response.context["cl"].result_list) == 30
    assert few == many


def test_coaching_list_shows_sessions_held_against_planned(client, m, running):
    for numero, statut in enumerate(["realisee", "realisee", "annulee", "planifiee"], start=1):
        seance = SeanceCoachingFactory(coaching=running, numero=numero)
        SeanceCoaching.objects.filter(pk=seance.pk).update(statut=statut)
    client.force_login(m["delegue_a"])
    response = client.get(COACHING_LIST)
    assert "Séances utilisées / prévues" in text_of(response)
    assert "3 / 6 (3 restante(s))" in text_of(response)  # held or planned; cancelled not


def test_coaching_list_filters_by_coach_type(client, m, running, coaching_a):
    internal = CoachFactory(
        type=Coach.Type.INTERNE, organisme="", structure=StructureFactory(nom="Autre ministère")
    )
    interne = services.assign(CoachingFactory(cadre=CadreFactory(structure=m["a"])), internal)
    client.force_login(m["delegue_a"])
    response = client.get(COACHING_LIST, {"type_coach": "interne"})
    assert list(response.context["cl"].result_list) == [interne]
    response = client.get(COACHING_LIST, {"type_coach": "externe"})
    assert list(response.context["cl"].result_list) == [running]


def test_budget_button_on_the_coaching_list(client, m):
    client.force_login(m["delegue_a"])
    response = client.get(COACHING_LIST)
    assert reverse("admin:coaching_coaching_budget") in response.content.decode()


def test_dates_are_kept_when_saving(client, m, coaching_a):
    client.force_login(m["delegue_a"])
    response = client.post(
        change_url(coaching_a),
        form_data(coaching_a, date_debut="2026-02-02", objectifs="Objectifs révisés."),
    )
    assert response.status_code == 302
    coaching_a.refresh_from_db()
    assert coaching_a.date_debut == date(2026, 2, 2)
    assert coaching_a.objectifs == "Objectifs révisés."
    assert coaching_a.statut == S.A_AFFECTER


def test_administrator_links_a_coach_to_an_account(client, m):
    coach = CoachFactory()
    url = reverse("admin:coaching_coach_change", args=[coach.pk])
    client.force_login(m["admin"])
    response = client.get(url)
    assert response.status_code == 200
    assert "user" in response.context["adminform"].form.fields
    client.force_login(m["delegue_a"])
    response = client.get(url)
    assert "user" not in response.context["adminform"].form.fields


def test_a_contracted_coaching_keeps_its_coach(client, m, running):
    contracted = services.assign(CoachingFactory(cadre=m["cadre_a"]), CoachFactory())
    client.force_login(m["delegue_a"])
    response = client.post(change_url(contracted), form_data(contracted, coach=""))
    assert response.status_code == 200
    assert "Un coaching contractualisé garde son coach" in text_of(response)
    contracted.refresh_from_db()
    assert contracted.coach is not None and contracted.statut == S.CONTRACTUALISE
