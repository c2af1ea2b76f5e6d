"""The admin lists a délégué uses every day keep a constant number of SQL queries
whatever the number of rows: the same with 10 and with 200 rows on the page (so a new
N+1 — a column reading a relation that is not joined or prefetched — fails here)."""

from datetime import date, timedelta

import pytest
from django.contrib import admin
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accompagnement.models import Demande, Evaluation, Session
from cadres import services as cadre_services
from cadres.models import Cadre, Invitation, Structure
from coaching.models import Coach, Coaching, SeanceCoaching, Specialite
from codev.models import Groupe, Membre, Presence, Seance
from cohortes.models import Cohorte
from immersion.models import Immersion
from mentorat.models import (
    Campagne,
    Mentor,
    Mentorat,
    Mentore,
    MentoreEnAttente,
    Offre,
    Rencontre,
)
from rgpd.models import Trace
from tests.factories import (
    CadreFactory,
    CoachFactory,
    CoachingFactory,
    DomaineFactory,
    GroupeFactory,
    ImmersionFactory,
    MentoratFactory,
    MentoreFactory,
    MentorFactory,
    StructureFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

FEW, MANY = 10, 200


@pytest.fixture(autouse=True)
def _fast(fast_password_hasher):
    """Hundreds of accounts: MD5 instead of PBKDF2."""


def cadres(n, structure):
    """``n`` cadres in ``structure``, inserted in one query."""
    return Cadre.objects.bulk_create(CadreFactory.build_batch(n, structure=structure))


# --- Row builders: ``n`` rows of each list, in ministry A, each with its own relations.


def build_cadres(m, n):
    # Each cadre in a structure of its own, some with an account.
    structures = [StructureFactory(parent=m["a_dir"], type="service") for _ in range(n)]
    rows = Cadre.objects.bulk_create(
        [CadreFactory.build(structure=s, date_prise_poste=date(2024, 9, 1)) for s in structures]
    )
    for cadre in rows[::3]:
        cadre.user = UserFactory(email=cadre.email)
        cadre.save(update_fields=["user"])


def build_structures(m, n):
    parents = [StructureFactory(parent=m["a"], type="direction") for _ in range(n // 2 or 1)]
    for i in range(n - len(parents)):
        StructureFactory(parent=parents[i % len(parents)], type="service")
    cadres(n, m["a_srv"])


def build_invitations(m, n):
    inviters = [UserFactory() for _ in range(3)]
    for i, cadre in enumerate(cadres(n, m["a_srv"])):
        cadre_services.invite_cadre(cadre, invited_by=inviters[i % 3])


def build_demandes(m, n):
    delegue = m["delegue_a"]
    for i, cadre in enumerate(cadres(n, m["a_srv"])):
        Demande.objects.create(
            cadre=cadre,
            dispositif=["coaching", "mentorat", "codev", "immersion"][i % 4],
            contexte="prise_de_poste",
            motivation="Prendre mon poste dans de bonnes conditions.",
            delegue=delegue if i % 2 else UserFactory(),
            recue_le=timezone.now() - timedelta(days=i % 40),
        )


def build_evaluations(m, n):
    programme_type = ContentType.objects.get_for_model(Coaching)
    Evaluation.objects.bulk_create(
        [
            Evaluation(
                dispositif="coaching",
                programme_type=programme_type,
                programme_id=cadre.pk,
                cadre=cadre,
                participant=UserFactory(),
                satisfaction=4 if i % 2 else None,
                remplie_le=timezone.now() if i % 2 else None,
            )
            for i, cadre in enumerate(cadres(n, m["a_srv"]))
        ]
    )


def build_coachs(m, n):
    specialites = list(Specialite.objects.all()[:3])
    for i in range(n):
        coach = CoachFactory()
        coach.specialites.set(specialites[: 1 + i % 3])
        CoachingFactory(cadre__structure=m["a_srv"], coach=coach, statut="en_cours")


def build_coachings(m, n):
    start = timezone.localdate() - timedelta(days=30)
    coachings = [
        CoachingFactory(cadre=cadre, coach=CoachFactory(), statut="en_cours", date_debut=start)
        for cadre in cadres(n, m["a_srv"])
    ]
    SeanceCoaching.objects.bulk_create(
        SeanceCoaching(
            coaching=c,
            numero=k,
            debut=timezone.now() - timedelta(days=10 * k),
            statut=Session.Statut.REALISEE,
        )
        for c in coachings
        for k in (1, 2)
    )


def build_groupes(m, n):
    for cadre in cadres(n, m["a_srv"]):
        groupe = GroupeFactory(structure=m["a_srv"], animateur=UserFactory())
        membre = Membre.objects.create(groupe=groupe, cadre=cadre, date_entree=groupe.date_debut)
        seance = Seance.objects.bulk_create(
            [
                Seance(
                    groupe=groupe,
                    numero=1,
                    debut=timezone.now() - timedelta(days=3),
                    statut=Session.Statut.REALISEE,
                )
            ]
        )[0]
        Presence.objects.create(seance=seance, membre=membre, present=True)


def build_immersions(m, n):
    day = timezone.localdate() + timedelta(days=120)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    for cadre in cadres(n, m["a_srv"]):
        ImmersionFactory(cadre=cadre, jours=[day])


def build_mentors(m, n):
    domaines = [DomaineFactory() for _ in range(3)]
    for i in range(n):
        mentor = MentorFactory(structure=m["a_dir"], domaines=domaines[: 1 + i % 3])
        MentoratFactory(mentor=mentor, mentore__structure=m["a_srv"], statut="en_cours")


def build_mentores(m, n):
    domaines = [DomaineFactory() for _ in range(3)]
    for i, cadre in enumerate(cadres(n, m["a_srv"])):
        MentoreFactory(cadre=cadre, besoins=domaines[: 1 + i % 3])


def build_offres(m, n):
    # Each waiting mentee is offered a mentor's freed place.
    for cadre in cadres(n, m["a_srv"]):
        mentore = MentoreFactory(cadre=cadre, besoins=[DomaineFactory()])
        Offre.objects.create(
            mentor=MentorFactory(structure=m["a_dir"]), mentore=mentore, evenement="fin", score=5
        )


def build_mentorats(m, n):
    for cadre in cadres(n, m["a_srv"]):
        mentorat = MentoratFactory(mentore=cadre, mentor=MentorFactory(), statut="en_cours")
        Rencontre.objects.bulk_create(
            [
                Rencontre(
                    mentorat=mentorat,
                    debut=timezone.now() - timedelta(days=days),
                    statut=Session.Statut.REALISEE,
                )
                for days in (10, 40)
            ]
        )


def build_campagnes(m, n):
    for i in range(n):
        campagne = Campagne.objects.create(nom=f"Campagne {i}", creee_par=UserFactory())
        campagne.structures.set([m["a_dir"], m["a_srv"]][: 1 + i % 2])


def build_cohortes(m, n):
    for i in range(n):
        cohorte = Cohorte.objects.create(
            nom=f"Cohorte {i}",
            structure=[m["a_dir"], m["a_srv"]][i % 2],
            origine="liste",
            date_debut=date(2026, 1, 5),
            date_fin=date(2026, 7, 5),
            creee_par=UserFactory(),
        )
        cohorte.membres.create(cadre=CadreFactory(structure=m["a_srv"]))


def build_traces(m, n):
    # Each cadre's creation is an audit entry about them; a change is another.
    for cadre in Cadre.objects.filter(pk__in=[c.pk for c in cadres(n // 2 or 1, m["a_srv"])]):
        cadre.fonction = "Directrice de projet"
        cadre.save()
        CadreFactory(structure=m["a_srv"])


LISTS = {
    Trace: build_traces,
    Cadre: build_cadres,
    Structure: build_structures,
    Invitation: build_invitations,
    Demande: build_demandes,
    Evaluation: build_evaluations,
    Coach: build_coachs,
    Coaching: build_coachings,
    Groupe: build_groupes,
    Immersion: build_immersions,
    Mentor: build_mentors,
    Mentore: build_mentores,
    MentoreEnAttente: build_mentores,
    Offre: build_offres,
    Mentorat: build_mentorats,
    Campagne: build_campagnes,
    Cohorte: build_cohortes,
}


def changelist(model):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")


def count_queries(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries), len(response.context["cl"].result_list)


@pytest.mark.parametrize("model", list(LISTS), ids=lambda model: model._meta.model_name)
def test_changelist_queries_are_the_same_with_10_and_200_rows(
    client, two_ministries, monkeypatch, model
):
    m = two_ministries
    # Every row on one page, so that a per-row query would show 190 times.
    monkeypatch.setattr(admin.site._registry[model], "list_per_page", 500)
    client.force_login(m["delegue_a"])
    url = changelist(model)
    LISTS[model](m, FEW)
    client.get(url)  # warm caches (content types, sessions) out of the count
    few, shown_few = count_queries(client, url)
    LISTS[model](m, MANY - FEW)
    many, shown_many = count_queries(client, url)
    assert shown_few >= FEW and shown_many >= MANY
    assert few == many, (
        f"{model._meta.label}: {few} queries for {shown_few} rows, {many} for {shown_many}"
    )


def test_every_list_a_delegue_sees_is_measured(rf, two_ministries):
    """A new list in the admin of délégués comes with its query-count check here
    (referentials of a few dozen rows excepted)."""
    request = rf.get("/admin/")
    request.user = two_ministries["delegue_a"]
    referentials = {"cadres.vivier", "coaching.specialite", "mentorat.domaine"}
    visible = {
        model._meta.label_lower
        for model, model_admin in admin.site._registry.items()
        if model_admin.has_view_permission(request)
    }
    assert visible - referentials == {model._meta.label_lower for model in LISTS}
