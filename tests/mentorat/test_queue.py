"""The waiting queue: mentees a campaign could not match wait with their waiting time
and the reason; when a mentor frees a place (a relation ends or is declined, capacity
is raised, a new mentor joins), the délégués of the mentee's perimeter are offered the
best waiting mentee for it, scored and explained by the matching engine under the
campaigns' hard rules; they confirm (a proposed relation, the campaigns' mails) or skip
(the next mentee). Another perimeter sees and does nothing; lists keep their queries."""

import html
from datetime import timedelta

import pytest
from dateutil.relativedelta import relativedelta
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accompagnement.models import Notification
from mentorat import matching, services
from mentorat.models import Campagne, Mentor, Mentorat, Mentore, Offre
from tests.factories import (
    CadreFactory,
    DomaineFactory,
    MentoratFactory,
    MentoreFactory,
    MentorFactory,
    StructureFactory,
    UserFactory,
    make_cadre_user,
)

pytestmark = pytest.mark.django_db

S = Mentorat.Statut
QUEUE = reverse("admin:mentorat_mentoreenattente_changelist")
OFFERS = reverse("admin:mentorat_offre_changelist")


def text_of(response):
    return html.unescape(response.content.decode())


def messages_of(response):
    return [str(m) for m in response.context["messages"]]


def offer_url(offre, action="change"):
    name = {"change": "offre_change", "confirm": "offre_confirm", "skip": "offre_skip"}[action]
    return reverse(f"admin:mentorat_{name}", args=[offre.pk])


@pytest.fixture
def m(two_ministries):
    two_ministries["a_dir2"] = StructureFactory(
        nom="Direction A2", sigle="DA2", parent=two_ministries["a"], type="direction"
    )
    return two_ministries


@pytest.fixture
def budget(db):
    return DomaineFactory(code="budget", libelle="Pilotage budgétaire")


def waiting(structure, days, besoins=(), **kwargs):
    """A mentee of ``structure`` waiting for ``days`` days."""
    return MentoreFactory(
        cadre=make_cadre_user(structure=structure),
        besoins=list(besoins),
        en_attente_depuis=timezone.now() - timedelta(days=days),
        **kwargs,
    )


def full_mentor(structure=None, capacite=1, **kwargs):
    """A mentor with an account whose places are all taken by relations under way."""
    mentor = MentorFactory(structure=structure, capacite=capacite, user=UserFactory(), **kwargs)
    for _ in range(capacite):
        MentoratFactory(mentor=mentor, mentore=make_cadre_user(), statut=S.EN_COURS)
    return mentor


def end_one(mentor, by=None):
    relation = mentor.mentorats.filter(statut=S.EN_COURS).first()
    return services.change_status(relation, S.TERMINE, by=by)


def open_offer(mentor):
    return Offre.objects.get(mentor=mentor, statut=Offre.Statut.OUVERTE)


@pytest.fixture
def queue(m, budget):
    """Ministry A's queue: one asking for the mentor's domain, one waiting longer without
    needs, one in the mentor's own branch (forbidden); ministry B's mentee; a full
    mentor of direction A2 offering the domain."""
    return {
        "budget": waiting(m["a_srv"], 10, [budget]),
        "older": waiting(m["a_srv"], 40),
        "same_branch": waiting(m["a_dir2"], 90, [budget]),
        "in_b": waiting(m["b"], 100, [budget]),
        "mentor": full_mentor(m["a_dir2"], domaines=[budget], nom="Budget", prenom="Bérénice"),
    }


# --- The queue -----------------------------------------------------------------------------


def test_campaign_leftovers_wait_with_the_reason(client, m, queue):
    campagne = Campagne.objects.create(nom="Printemps", date_debut=timezone.localdate())
    campagne.structures.set([m["a"]])
    free = MentorFactory(structure=m["a_dir2"], capacite=1)  # one place for three
    services.compute(campagne)
    services.confirm(campagne)

    proposed = Mentorat.objects.get(campagne=campagne)
    assert proposed.mentor == free
    left = Mentore.objects.waiting().filter(cadre__structure__in=[m["a_srv"], m["a_dir2"]])
    assert left.count() == 2
    for mentore in left:
        assert mentore.motif_attente.startswith("Campagne « Printemps » : ")

    client.force_login(m["delegue_a"])
    response = client.get(QUEUE)
    rows = list(response.context["cl"].result_list)
    # Longest waiting first, ministry A only, nobody already proposed.
    assert rows == sorted(left, key=lambda mentore: mentore.en_attente_depuis)
    page = text_of(response)
    assert "(90 jours)" in page or "(40 jours)" in page
    for mentore in left:
        assert mentore.motif_attente in page
    assert str(queue["in_b"].cadre) not in page


def test_another_perimeter_sees_nothing_of_the_queue(client, m, queue):
    client.force_login(m["delegue_b"])
    rows = client.get(QUEUE).context["cl"].result_list
    assert list(rows) == [queue["in_b"]]
    # Read-only: the queue is fed by campaigns and offers.
    client.force_login(m["delegue_a"])
    assert client.get(reverse("admin:mentorat_mentoreenattente_add")).status_code == 403


# --- Offers: when a place frees --------------------------------------------------------------


def test_ending_a_relation_offers_the_best_waiting_mentee_with_the_engine_s_score(m, queue):
    end_one(queue["mentor"])
    offre = open_offer(queue["mentor"])
    # The expertise beats the longer wait; the mentee of the mentor's own branch and
    # the other ministry's are never offered.
    assert offre.mentore == queue["budget"]
    assert offre.evenement == Offre.Evenement.FIN
    (mentee,), (mentor,) = services.profiles(
        [queue["budget"]], [queue["mentor"]], {queue["mentor"].pk: 1}
    )
    expected = matching.criteria(mentee, mentor, services.weights())
    assert offre.criteres == [c.as_dict() for c in expected]
    assert offre.score == sum(c.points for c in expected) == matching.pair_score(mentee, mentor)
    assert {c["code"]: c["points"] for c in offre.criteres}["expertise"] == 10

    # Mailed to the délégués of the mentee's perimeter only.
    rows = Notification.objects.filter(kind="mentorat_offre")
    assert list(rows.values_list("recipient", flat=True)) == [m["delegue_a"].pk]


def test_the_same_score_as_a_campaign_for_the_same_pair(m, queue):
    end_one(queue["mentor"])
    offre = open_offer(queue["mentor"])
    campagne = Campagne.objects.create(nom="Témoin", date_debut=timezone.localdate())
    campagne.structures.set([m["a_srv"], m["a_dir2"]])
    Mentore.objects.exclude(pk=queue["budget"].pk).update(statut=Mentore.Statut.RETIRE)
    services.compute(campagne)
    (proposition,) = campagne.propositions.all()
    assert proposition.mentor == queue["mentor"]
    assert (proposition.score, proposition.criteres) == (offre.score, offre.criteres)


def test_ties_go_to_the_longest_waiting(m, budget):
    mentor = full_mentor(m["a_dir2"])
    recent = waiting(m["a_srv"], 5)
    longest = waiting(m["a_srv"], 50)
    waiting(m["a_srv"], 20)
    end_one(mentor)
    assert open_offer(mentor).mentore == longest
    assert recent != longest


def test_hard_rules_and_the_mentor_s_ministry(m, budget):
    mentor = full_mentor(m["a_dir2"], domaines=[budget])
    excluded = waiting(m["a_srv"], 60, [budget])
    excluded.mentors_exclus.add(mentor)
    tried = waiting(m["a_srv"], 50, [budget])
    MentoratFactory(mentor=mentor, mentore=tried.cadre, statut=S.DECLINE)
    waiting(m["b"], 70, [budget])  # another ministry: not for a mentor of A
    end_one(mentor)
    assert not Offre.objects.exists()

    # A mentor of the shared pool (no structure) may be offered anyone's mentee.
    shared = full_mentor(None, domaines=[budget])
    end_one(shared)
    assert open_offer(shared).mentore.cadre.structure == m["b"]


def test_no_offer_without_a_free_place(m, queue):
    mentor = queue["mentor"]
    # Over capacity (a proposal made when a place was free, then capacity lowered):
    # ending one relation frees no place.
    MentoratFactory(mentor=mentor, mentore=CadreFactory(), statut=S.PROPOSE)
    end_one(mentor)
    assert not Offre.objects.exists()
    Mentor.objects.filter(pk=mentor.pk).update(actif=False)
    mentor.refresh_from_db()
    assert services.offer_place(mentor, Offre.Evenement.CAPACITE) is None


def test_a_declined_proposal_offers_the_place_to_someone_else(m, queue):
    mentor = queue["mentor"]
    proposal = MentoratFactory(mentor=mentor, mentore=queue["budget"].cadre, statut=S.PROPOSE)
    Mentor.objects.filter(pk=mentor.pk).update(capacite=2)
    Mentore.objects.filter(pk=queue["budget"].pk).update(statut=Mentore.Statut.PROPOSE)
    services.decline(proposal, queue["budget"].cadre.user, "Pas maintenant.")
    offre = open_offer(mentor)
    assert offre.evenement == Offre.Evenement.DECLIN
    assert offre.mentore == queue["older"]  # the decliner never gets this mentor again


def test_capacity_raised_or_a_new_mentor_in_the_admin_offers_a_place(client, m, queue, budget):
    client.force_login(m["delegue_a"])
    mentor = queue["mentor"]
    data = {
        "civilite": mentor.civilite,
        "nom": mentor.nom,
        "prenom": mentor.prenom,
        "email": mentor.email,
        "structure": m["a_dir2"].pk,
        "annees_experience": 15,
        "domaines": [budget.pk],
        "langues": "français",
        "capacite": 1,
        "actif": "on",
        "_save": "Enregistrer",
    }
    change = reverse("admin:mentorat_mentor_change", args=[mentor.pk])
    client.post(change, {**data, "ville": "Lyon"})  # nothing freed
    assert not Offre.objects.exists()
    response = client.post(change, {**data, "capacite": 2}, follow=True)
    offre = open_offer(mentor)
    assert (offre.mentore, offre.evenement) == (queue["budget"], Offre.Evenement.CAPACITE)
    assert any("est offerte à" in message for message in messages_of(response))

    # A new mentor: the domains saved with the form count in the score.
    response = client.post(
        reverse("admin:mentorat_mentor_add"),
        {**data, "email": "nouvelle@example.gouv.fr", "nom": "Nouvelle", "capacite": 1},
    )
    assert response.status_code == 302
    new = Mentor.objects.get(email="nouvelle@example.gouv.fr")
    offre = open_offer(new)
    assert offre.evenement == Offre.Evenement.NOUVEAU
    # The best mentee is in an open offer already: the next one.
    assert offre.mentore == queue["older"]
    # A mentee of the branch of the mentor is never offered, even when left alone.
    assert offre.mentore != queue["same_branch"]


# --- Deciding ----------------------------------------------------------------------------------


def test_confirming_proposes_the_relation_as_a_campaign_does(client, m, queue):
    mentor = queue["mentor"]
    Mentor.objects.filter(pk=mentor.pk).update(capacite=2)
    end_one(mentor)
    offre = open_offer(mentor)
    client.force_login(m["delegue_a"])
    page = text_of(client.get(offer_url(offre)))
    assert f"Score {offre.score}" in page
    assert "Expertise demandée et offerte" in page and "Pilotage budgétaire" in page
    assert "Confirmer et envoyer la proposition" in page

    response = client.post(offer_url(offre, "confirm"), {"duree_mois": "6"})
    assert response.status_code == 302
    offre.refresh_from_db()
    relation = offre.mentorat
    assert offre.statut == Offre.Statut.CONFIRMEE and offre.traitee_par == m["delegue_a"]
    assert relation.statut == S.PROPOSE and relation.mentore == queue["budget"].cadre
    assert relation.date_debut == timezone.localdate()
    assert relation.date_fin_prevue == relation.date_debut + relativedelta(months=6)
    assert (relation.score, relation.criteres) == (offre.score, offre.criteres)
    queue["budget"].refresh_from_db()
    assert queue["budget"].statut == Mentore.Statut.PROPOSE
    mails = Notification.objects.filter(kind="mentorat_propose", object_id=relation.pk)
    assert sorted(mails.values_list("email", flat=True)) == sorted(
        [mentor.user.email, queue["budget"].cadre.user.email]
    )
    # The mentor has a second place free: the next mentee is offered.
    following = open_offer(mentor)
    assert following.mentore == queue["older"]
    assert following.evenement == Offre.Evenement.SUITE


def test_skipping_records_it_and_offers_the_next(client, m, queue):
    mentor = queue["mentor"]
    end_one(mentor)
    first = open_offer(mentor)
    client.force_login(m["delegue_a"])
    response = client.post(offer_url(first, "skip"), {"motif": "Déjà suivie en coaching."})
    following = open_offer(mentor)
    assert response["Location"] == offer_url(following)
    first.refresh_from_db()
    assert (first.statut, first.motif) == (Offre.Statut.PASSEE, "Déjà suivie en coaching.")
    assert following.mentore == queue["older"]

    response = client.post(offer_url(following, "skip"), {}, follow=True)
    assert "Aucun autre mentoré de la file ne convient" in " ".join(messages_of(response))
    assert not Offre.objects.open().exists()
    # Skipped pairs are not offered again when the place frees another time.
    assert services.offer_place(mentor, Offre.Evenement.FIN) is None


def test_refusals_change_nothing(client, m, queue):
    mentor = queue["mentor"]
    end_one(mentor)
    offre = open_offer(mentor)
    client.force_login(m["delegue_a"])

    response = client.post(offer_url(offre, "confirm"), {"duree_mois": "24"}, follow=True)
    assert "Un mentorat dure de 6 à 12 mois." in messages_of(response)
    # The mentee was matched meanwhile (another way): nothing is sent.
    Mentore.objects.filter(pk=queue["budget"].pk).update(statut=Mentore.Statut.RETIRE)
    response = client.post(offer_url(offre, "confirm"), {"duree_mois": "9"}, follow=True)
    assert any("n'est plus en attente d'un mentor" in msg for msg in messages_of(response))
    offre.refresh_from_db()
    assert offre.statut == Offre.Statut.OUVERTE
    assert not Mentorat.objects.filter(mentore=queue["budget"].cadre).exists()
    assert not Notification.objects.filter(kind="mentorat_propose").exists()

    # An offer decided is decided once.
    client.post(offer_url(offre, "skip"), {})
    response = client.post(offer_url(offre, "confirm"), {"duree_mois": "9"}, follow=True)
    assert any("déjà été traitée" in msg for msg in messages_of(response))
    assert client.get(offer_url(offre, "confirm")).status_code == 405
    assert "Confirmer et envoyer" not in text_of(client.get(offer_url(offre)))


def test_another_perimeter_cannot_see_or_act_on_an_offer(client, m, queue):
    end_one(queue["mentor"])
    offre = open_offer(queue["mentor"])
    client.force_login(m["delegue_b"])
    assert client.get(offer_url(offre)).status_code == 404
    assert client.post(offer_url(offre, "confirm"), {"duree_mois": "9"}).status_code == 404
    assert client.post(offer_url(offre, "skip"), {}).status_code == 404
    assert list(client.get(OFFERS).context["cl"].result_list) == []
    offre.refresh_from_db()
    assert offre.statut == Offre.Statut.OUVERTE
    # A mentee, even the one offered, has no admin at all.
    client.force_login(queue["budget"].cadre.user)
    assert client.get(offer_url(offre)).status_code == 302
    assert client.post(offer_url(offre, "skip"), {}).status_code == 302
    offre.refresh_from_db()
    assert offre.statut == Offre.Statut.OUVERTE


def test_a_campaign_overtakes_the_offers_it_settles(m, queue, budget):
    mentor = queue["mentor"]
    end_one(mentor)
    offre = open_offer(mentor)  # Budget → the "budget" mentee
    other = full_mentor(None)
    end_one(other)
    other_offre = open_offer(other)
    # A campaign of ministry A (the other mentees of A gone) proposes the "budget"
    # mentee to Budget, whose place is then taken.
    campagne = Campagne.objects.create(nom="Automne", date_debut=timezone.localdate())
    campagne.structures.set([m["a"]])
    Mentore.objects.filter(pk__in=[queue["older"].pk, queue["same_branch"].pk]).update(
        statut=Mentore.Statut.RETIRE
    )
    services.compute(campagne)
    services.confirm(campagne)
    relation = Mentorat.objects.get(campagne=campagne)
    assert (relation.mentor, relation.mentore) == (mentor, queue["budget"].cadre)
    offre.refresh_from_db()
    assert offre.statut == Offre.Statut.CADUQUE
    assert offre.motif == "Mentor proposé par la campagne « Automne »."
    other_offre.refresh_from_db()
    assert other_offre.statut == Offre.Statut.OUVERTE  # untouched by this campaign


# --- Constant queries ---------------------------------------------------------------------------


def count_queries(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries), response


def add_offers(n, m, budget):
    for _ in range(n):
        mentor = full_mentor(m["a_dir2"], domaines=[budget])
        waiting(m["a_srv"], 30, [budget])
        waiting(m["a_srv"], 20)
        end_one(mentor)


@pytest.mark.parametrize("url", [QUEUE, OFFERS])
def test_queue_pages_queries_do_not_grow(client, m, budget, url):
    client.force_login(m["delegue_a"])
    add_offers(2, m, budget)
    few, _ = count_queries(client, url)
    add_offers(18, m, budget)
    many, response = count_queries(client, url)
    assert len(response.context["cl"].result_list) >= 20
    assert Offre.objects.open().count() == 20
    assert few == many


def test_offer_page_queries_are_bounded(client, m, budget):
    client.force_login(m["delegue_a"])
    add_offers(1, m, budget)
    offre = Offre.objects.get()
    few, _ = count_queries(client, offer_url(offre))
    offre.mentore.besoins.add(*[DomaineFactory() for _ in range(5)])
    many, _ = count_queries(client, offer_url(offre))
    assert few == many
