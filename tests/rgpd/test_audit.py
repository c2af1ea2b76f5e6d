"""The audit trail: who changed or viewed which cadre's data, who decided a request,
who signed a convention; readable by délégués (their perimeter) and administrators,
editable by nobody; confidential content never recorded."""

import json
from datetime import timedelta

import pytest
from auditlog.context import set_actor
from auditlog.registry import auditlog
from django.apps import apps
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accompagnement.models import Demande
from accompagnement.services import demandes as demande_services
from cadres.models import Cadre
from rgpd.audit import CONFIDENTIAL, NOT_AUDITED, REGISTERED
from rgpd.models import Trace
from tests.factories import (
    CadreFactory,
    CoachFactory,
    CoachingFactory,
    MembreFactory,
    MentoratFactory,
    MentorFactory,
    SeanceFactory,
    UserFactory,
    make_cadre_user,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hasher")]

CREATE, UPDATE, ACCESS = Trace.Action.CREATE, Trace.Action.UPDATE, Trace.Action.ACCESS
SECRET = "Ce que je confie et qui ne doit jamais sortir"


def traces(obj, action=None):
    qs = Trace.objects.filter(object_pk=str(obj.pk), content_type__model=obj._meta.model_name)
    return qs.filter(action=action) if action is not None else qs


def everything_logged():
    return json.dumps(
        list(Trace.objects.values("changes", "changes_text", "object_repr", "serialized_data")),
        default=str,
    )


# --- What is registered ---------------------------------------------------------------


def test_every_personal_data_model_is_registered_and_no_confidential_one():
    for label in REGISTERED:
        assert auditlog.contains(apps.get_model(label)), label
    for label in CONFIDENTIAL:
        assert not auditlog.contains(apps.get_model(label)), label
    assert {"coaching.notecoach", "mentorat.noteprivee", "codev.planaction"} <= CONFIDENTIAL


def test_every_project_model_has_an_audit_decision():
    """A new model of the project is registered, confidential or explicitly left out."""
    project = [
        *("cadres", "accompagnement", "coaching", "mentorat", "codev", "immersion", "rgpd"),
        "parcours",
        "cohortes",
    ]
    labels = {
        model._meta.label_lower
        for app in project
        for model in apps.get_app_config(app).get_models()
    }
    decided = set(REGISTERED) | CONFIDENTIAL | NOT_AUDITED
    assert labels - decided == set()
    assert decided - labels == set()  # no stale label either
    assert not (set(REGISTERED) & NOT_AUDITED) and not (CONFIDENTIAL & NOT_AUDITED)


def test_confidential_content_never_lands_in_the_log(client):
    from coaching.models import NoteCoach
    from codev.models import Apprentissage, PlanAction
    from mentorat.models import NotePrivee, Rencontre

    coaching = CoachingFactory()
    NoteCoach.objects.create(coaching=coaching, auteur=UserFactory(), texte=SECRET)
    mentorat = MentoratFactory()
    rencontre = Rencontre.objects.create(mentorat=mentorat, debut=timezone.now())
    NotePrivee.objects.create(rencontre=rencontre, auteur=UserFactory(), texte=SECRET)
    membre = MembreFactory()
    seance = SeanceFactory(groupe=membre.groupe, client=membre)
    seance.probleme = seance.contrat = SECRET
    seance.save()
    PlanAction.objects.create(seance=seance, membre=membre, actions=SECRET)
    Apprentissage.objects.create(seance=seance, membre=membre, texte=SECRET)
    # The séance itself is recorded (dates, client); a change of its content alone is not.
    assert traces(seance, CREATE).get().cadre == membre.cadre
    assert not traces(seance, UPDATE).exists()
    assert SECRET not in everything_logged()


def test_password_and_link_secrets_are_not_recorded():
    user = UserFactory()
    user.set_password("un-autre-mot-de-passe-2026")
    user.save()
    logged = everything_logged()
    assert "pbkdf2" not in logged and "md5$" not in logged
    assert "password" not in logged


# --- Who changed what -----------------------------------------------------------------


def test_the_portal_request_records_its_author_and_the_cadre(client):
    cadre = make_cadre_user()
    client.force_login(cadre.user)
    response = client.post(
        "/espace/demandes/nouvelle/",
        {"dispositif": "coaching", "contexte": "prise_de_poste", "motivation": "Prise de poste."},
    )
    assert response.status_code == 302, response.content.decode()[:500]
    demande = Demande.objects.get(cadre=cadre)
    entry = traces(demande, CREATE).get()
    assert entry.actor == cadre.user
    assert entry.cadre == cadre
    assert entry.chemin == "/espace/demandes/nouvelle/"
    assert entry.remote_addr == "127.0.0.1"


def test_a_change_in_the_admin_records_the_delegue_and_the_values(client, two_ministries):
    m = two_ministries
    cadre = m["cadre_a"]
    client.force_login(m["delegue_a"])
    url = f"/admin/cadres/cadre/{cadre.pk}/change/"
    data = {
        "civilite": cadre.civilite,
        "nom": cadre.nom,
        "prenom": cadre.prenom,
        "email": cadre.email,
        "telephone": "",
        "matricule": "",
        "categorie": cadre.categorie,
        "corps": "",
        "grade": "",
        "fonction": "Directrice de projet",
        "structure": cadre.structure_id,
        "responsable": "",
        "date_prise_poste": "",
        "actif": "on",
    }
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    entry = traces(cadre, UPDATE).get()
    assert entry.actor == m["delegue_a"]
    assert entry.cadre_id == cadre.pk
    assert entry.changes["fonction"] == ["Sous-directrice", "Directrice de projet"]
    assert entry.chemin == url


def test_the_decision_of_a_request_records_who_decided(two_ministries):
    m = two_ministries
    demande = demande_services.submit(
        m["cadre_a"], dispositif="coaching", contexte="prise_de_poste", motivation="x", by=None
    )
    with set_actor(m["delegue_a"]):
        demande_services.decide(
            demande, Demande.Statut.REFUSEE, "Budget épuisé.", by=m["delegue_a"]
        )
    entry = traces(demande, UPDATE).get()
    assert entry.actor == m["delegue_a"]
    assert entry.changes["statut"] == ["soumise", "refusee"]
    assert entry.changes["decidee_par"][1] == str(m["delegue_a"].pk)
    assert entry.cadre == m["cadre_a"]


def test_a_signature_by_link_records_the_signer_the_time_and_the_address(client, two_ministries):
    from immersion import services as immersion_services
    from immersion.models import Immersion
    from tests.factories import ImmersionFactory
    from tests.immersion.test_portal import working_days_from

    days = working_days_from(timezone.localdate() + timedelta(days=120), 3)
    immersion = ImmersionFactory(
        cadre=two_ministries["cadre_a"], statut=Immersion.Statut.ACCEPTEE, jours=days
    )
    convention = immersion_services.prepare_convention(immersion)
    signature = convention.signatures.get(partie="agent")
    url = immersion_services.signature_url(signature).replace("http://testserver", "")
    response = client.post(url, {"nom": "Alice Alpha", "accepte": "on"})
    assert response.status_code == 302  # post/redirect/get
    entry = traces(signature, UPDATE).get()
    assert entry.actor is None  # no account: the signer is the link's holder
    assert entry.changes["nom_signe"] == ["", "Alice Alpha"]
    assert entry.changes["signe_le"][0] == "None"
    assert entry.remote_addr == "127.0.0.1"
    assert entry.cadre == two_ministries["cadre_a"]
    assert "nonce" not in json.dumps(entry.changes)
    assert traces(convention, CREATE).get().cadre == two_ministries["cadre_a"]


def test_deleting_a_cadre_keeps_its_history(two_ministries):
    cadre = CadreFactory(structure=two_ministries["a"])
    pk = cadre.pk
    Demande.objects.create(cadre=cadre, dispositif="coaching", contexte="vivier", motivation="x")
    Demande.objects.filter(cadre=cadre).delete()
    cadre.delete()
    assert Trace.objects.filter(cadre_id=pk, action=Trace.Action.DELETE).count() == 2


# --- Who viewed what ------------------------------------------------------------------


def test_opening_a_cadre_in_the_admin_is_recorded(client, two_ministries):
    m = two_ministries
    client.force_login(m["delegue_a"])
    url = f"/admin/cadres/cadre/{m['cadre_a'].pk}/change/"
    assert client.get(url).status_code == 200
    entry = traces(m["cadre_a"], ACCESS).get()
    assert (entry.actor, entry.cadre, entry.chemin) == (m["delegue_a"], m["cadre_a"], url)
    # Outside the perimeter: 404, nothing recorded.
    assert client.get(f"/admin/cadres/cadre/{m['cadre_b'].pk}/change/").status_code == 404
    assert not traces(m["cadre_b"], ACCESS).exists()


def test_opening_a_scheme_object_in_the_admin_is_recorded_with_its_cadre(client, two_ministries):
    m = two_ministries
    coaching = CoachingFactory(cadre=m["cadre_a"])
    client.force_login(m["delegue_a"])
    assert client.get(f"/admin/coaching/coaching/{coaching.pk}/change/").status_code == 200
    assert traces(coaching, ACCESS).get().cadre == m["cadre_a"]


def test_a_coach_viewing_a_coachee_is_recorded_the_coachee_is_not(client):
    coachee = make_cadre_user()
    coach_user = UserFactory()
    coaching = CoachingFactory(
        cadre=coachee, coach=CoachFactory(user=coach_user), statut="en_cours"
    )
    client.force_login(coach_user)
    assert client.get(f"/espace/coaching/{coaching.pk}/").status_code == 200
    entry = traces(coaching, ACCESS).get()
    assert (entry.actor, entry.cadre) == (coach_user, coachee)
    client.force_login(coachee.user)
    assert client.get(f"/espace/coaching/{coaching.pk}/").status_code == 200
    assert traces(coaching, ACCESS).count() == 1


def test_a_mentor_viewing_the_relation_is_recorded_the_mentee_is_not(client):
    mentee = make_cadre_user()
    mentor_user = UserFactory()
    relation = MentoratFactory(
        mentore=mentee, mentor=MentorFactory(user=mentor_user), statut="en_cours"
    )
    client.force_login(mentor_user)
    assert client.get(f"/espace/mentorat/{relation.pk}/").status_code == 200
    entry = traces(relation, ACCESS).get()
    assert (entry.actor, entry.cadre) == (mentor_user, mentee)
    client.force_login(mentee.user)
    assert client.get(f"/espace/mentorat/{relation.pk}/").status_code == 200
    assert traces(relation, ACCESS).count() == 1


def test_someone_elses_page_answering_404_records_nothing(client):
    coaching = CoachingFactory(cadre=make_cadre_user())
    client.force_login(make_cadre_user().user)
    assert client.get(f"/espace/coaching/{coaching.pk}/").status_code == 404
    assert not traces(coaching, ACCESS).exists()


# --- Reading the trail ------------------------------------------------------------------


LIST = "/admin/rgpd/trace/"


def _entries(two_ministries):
    m = two_ministries
    for cadre in (m["cadre_a"], m["cadre_b"]):
        cadre.fonction = f"Fonction de {cadre.nom}"
        cadre.save()
    return traces(m["cadre_a"], UPDATE).get(), traces(m["cadre_b"], UPDATE).get()


def test_a_delegue_reads_the_entries_of_their_perimeter_only(client, two_ministries):
    m = two_ministries
    entry_a, entry_b = _entries(m)
    client.force_login(m["delegue_a"])
    page = client.get(LIST).content.decode()
    assert f"/admin/rgpd/trace/{entry_a.pk}/change/" in page
    assert f"/admin/rgpd/trace/{entry_b.pk}/change/" not in page
    detail = client.get(f"/admin/rgpd/trace/{entry_a.pk}/change/")
    assert detail.status_code == 200
    assert "Fonction de Alpha" in detail.content.decode()
    assert client.get(f"/admin/rgpd/trace/{entry_b.pk}/change/").status_code == 404


def test_an_administrator_reads_every_entry(client, two_ministries):
    entry_a, entry_b = _entries(two_ministries)
    client.force_login(two_ministries["admin"])
    page = client.get(LIST).content.decode()
    assert f"/admin/rgpd/trace/{entry_a.pk}/change/" in page
    assert f"/admin/rgpd/trace/{entry_b.pk}/change/" in page


def test_a_cadre_cannot_read_the_trail(client, two_ministries):
    _entries(two_ministries)
    client.force_login(make_cadre_user(structure=two_ministries["a"]).user)
    response = client.get(LIST)
    assert response.status_code == 302  # to the sign-in, which refuses non-staff
    assert client.get(response["Location"]).status_code == 403


@pytest.mark.parametrize("who", ["delegue_a", "admin"])
def test_nobody_can_add_change_or_delete_an_entry(client, two_ministries, who):
    entry, _ = _entries(two_ministries)
    before = Trace.objects.values().get(pk=entry.pk)
    client.force_login(two_ministries[who])
    base = f"/admin/rgpd/trace/{entry.pk}"
    assert client.post(f"{base}/change/", {"object_repr": "falsifié"}).status_code == 403
    assert client.post(f"{base}/delete/", {"post": "yes"}).status_code == 403
    assert client.get("/admin/rgpd/trace/add/").status_code == 403
    response = client.post(LIST, {"action": "delete_selected", "_selected_action": [entry.pk]})
    assert Trace.objects.values().get(pk=entry.pk) == before
    assert response.status_code in (200, 302)


def test_the_list_makes_the_same_number_of_queries_for_few_and_many_entries(client, two_ministries):
    m = two_ministries
    client.force_login(m["delegue_a"])

    def count():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(LIST).status_code == 200
        return len(ctx)

    for i in range(3):
        Cadre.objects.filter(pk=m["cadre_a"].pk).first().save()
        m["cadre_a"].fonction = f"F{i}"
        m["cadre_a"].save()
    few = count()
    for i in range(30):
        cadre = CadreFactory(structure=m["a_srv"])
        cadre.fonction = f"G{i}"
        cadre.save()
    assert count() == few


# --- HR imports (bulk writes) -----------------------------------------------------------


def test_an_hr_import_records_each_cadre_created_or_changed_and_who_imported(
    two_ministries, django_capture_on_commit_callbacks
):
    from cadres import importing
    from cadres.models import ImportJob
    from cadres.tasks import analyse_import

    delegue = two_ministries["delegue_a"]
    header = "matricule;civilité;nom;prénom;email;structure;fonction"

    def import_file(*rows):
        content = "\r\n".join([header, *rows]).encode()
        job = ImportJob.objects.create(
            nature="cadres", nom_fichier="rh.csv", contenu=content, cree_par=delegue
        )
        analyse_import(job.pk)
        with django_capture_on_commit_callbacks(execute=True):
            assert importing.confirm(job.pk)
        job.refresh_from_db()
        assert job.statut == ImportJob.Statut.TERMINE, job.message
        return job

    rows = [
        "M1;Mme;Durand;Anne;anne.durand@example.gouv.fr;SA11;Cheffe",
        "M2;M.;Petit;Marc;marc.petit@example.gouv.fr;SA11;Adjoint",
    ]
    first = import_file(*rows)
    anne = Cadre.objects.get(matricule="M1")
    created = traces(anne, CREATE).get()
    assert (created.actor, created.cadre, created.chemin) == (
        delegue,
        anne,
        f"import n° {first.pk}",
    )
    assert created.changes["fonction"] == [None, "Cheffe"]
    # A second import changing one row: one update entry, with before and after; the
    # unchanged row gets none.
    second = import_file(rows[0].replace("Cheffe", "Directrice"), rows[1])
    update = traces(anne, UPDATE).get()
    assert update.changes == {"fonction": ["Cheffe", "Directrice"]}
    assert update.changes_text == f"Import n° {second.pk} (rh.csv)"
    assert not traces(Cadre.objects.get(matricule="M2"), UPDATE).exists()
