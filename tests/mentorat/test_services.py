"""Mentoring rules through their services: the waiting list fed by accepted requests,
matching campaigns (pools, hard rules, review, confirmation), the relation's workflow,
meetings and private notes, silence reminders, and the registry entry."""

from datetime import date, timedelta

import pytest
from dateutil.relativedelta import relativedelta
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from accompagnement import registry
from accompagnement.models import Demande, Evaluation, Mode, Notification, Session
from accompagnement.services import demandes
from cadres.models import Invitation, Role, User
from mentorat import scheme as mentorat_scheme
from mentorat import services, tasks
from mentorat.models import (
    Campagne,
    Mentor,
    Mentorat,
    Mentore,
    NotePrivee,
    Proposition,
    Rencontre,
)
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
W = Mentore.Statut
RENCONTRE = Session.Statut

# The workflow of the relation, written apart from the code under test: what
# ``change_status`` lets a délégué or a side do. Accepting and declining a proposal
# go through ``accept`` and ``decline``.
ALLOWED = {
    (S.ACCEPTE, S.EN_COURS),
    (S.ACCEPTE, S.INTERROMPU),
    (S.EN_COURS, S.TERMINE),
    (S.EN_COURS, S.INTERROMPU),
}
ALL_PAIRS = [(a, b) for a in S for b in S if a != b]

NONE_POSSIBLE = "Aucun des 1 mentor(s) disponible(s) n'est possible"
SECRET = "Il hésite à quitter son poste, ne pas en parler à la DRH."


# --- Helpers and fixtures ---------------------------------------------------------


@pytest.fixture
def m(two_ministries):
    """Ministry A (direction A1 > service A1-1, and a sister direction A2), ministry B."""
    two_ministries["a_dir2"] = StructureFactory(
        nom="Direction A2", sigle="DA2", parent=two_ministries["a"], type="direction"
    )
    return two_ministries


@pytest.fixture(autouse=True)
def reminders(settings):
    """Two reminders per meeting, a week and a day before, whatever the environment."""
    settings.SESSION_REMINDERS = {"j7": timedelta(days=7), "j1": timedelta(days=1)}


@pytest.fixture
def mentee(m):
    """Claire Martin, with an account, in service A1-1, waiting for a mentor."""
    cadre = make_cadre_user(structure=m["a_srv"], nom="Martin", prenom="Claire")
    return MentoreFactory(cadre=cadre, objectifs="Réussir ma prise de poste.")


@pytest.fixture
def mentor(db):
    """Paul Durand, from the shared pool (no structure), no account yet."""
    return MentorFactory(nom="Durand", prenom="Paul", email="paul.durand@example.gouv.fr")


@pytest.fixture
def proposed(m, mentee, mentor):
    """The relation Claire Martin – Paul Durand, proposed by a confirmed campaign."""
    campagne = campaign(m["a"])
    services.compute(campagne)
    services.confirm(campagne, by=m["delegue_a"])
    mentor.refresh_from_db()
    mentee.cadre.refresh_from_db()
    return Mentorat.objects.get(mentore=mentee.cadre, mentor=mentor)


@pytest.fixture
def accepted(proposed):
    for user in (proposed.mentor.user, proposed.mentore.user):
        services.accept(proposed, user, charte=True)
    proposed.refresh_from_db()
    return proposed


def running_relation(days_ago=0, **kwargs):
    """A relation under way since ``days_ago`` days, both sides with an account."""
    kwargs.setdefault("mentor", MentorFactory(user=UserFactory()))
    kwargs.setdefault("mentore", make_cadre_user())
    kwargs.setdefault("statut", S.EN_COURS)
    return MentoratFactory(date_debut=timezone.localdate() - timedelta(days=days_ago), **kwargs)


def campaign(*structures, **kwargs):
    kwargs.setdefault("date_debut", timezone.localdate())
    campagne = Campagne.objects.create(nom="Campagne de printemps", **kwargs)
    campagne.structures.set(structures)
    return campagne


def waiting(structure, **kwargs):
    """A cadre of ``structure`` on the waiting list (no account)."""
    return MentoreFactory(cadre=CadreFactory(structure=structure), **kwargs)


def at(days, hour=10):
    """A moment ``days`` days from now (negative: in the past), at a round hour."""
    moment = timezone.localtime() + timedelta(days=days)
    return moment.replace(hour=hour, minute=0, second=0, microsecond=0)


def meet(mentorat, user, days, **kwargs):
    kwargs.setdefault("duree", 90)
    kwargs.setdefault("mode", Mode.PRESENTIEL)
    kwargs.setdefault("lieu", "Café du ministère, Paris")
    return services.log_meeting(mentorat, user, debut=at(days), **kwargs)


def messages(excinfo):
    return " ".join(excinfo.value.messages)


def outbox_rows(target, **filters):
    return Notification.objects.filter(
        object_type=ContentType.objects.get_for_model(target), object_id=target.pk, **filters
    )


def emails(rows):
    return sorted(rows.values_list("email", flat=True))


def proposals(campagne):
    """{mentee's cadre: mentor} of the campaign's proposals."""
    return {
        p.mentore.cadre: p.mentor
        for p in campagne.propositions.select_related("mentore__cadre", "mentor")
    }


def unmatched(campagne):
    """{mentee's cadre: reason} of the campaign's unmatched mentees."""
    return {n.mentore.cadre: n.motif for n in campagne.non_apparies.select_related("mentore")}


# --- 1. The waiting list, fed by accepted requests -----------------------------------


def submit(cadre, contexte=Demande.Contexte.PRISE_DE_POSTE, motivation="Je prends un poste."):
    return demandes.submit(
        cadre,
        dispositif="mentorat",
        contexte=contexte,
        motivation=motivation,
        by=cadre.user,
    )


@pytest.mark.parametrize(
    "contexte, expected",
    [
        (Demande.Contexte.PRISE_DE_POSTE, Mentore.Contexte.PRISE_DE_POSTE),
        (Demande.Contexte.CYCLE, Mentore.Contexte.CYCLE),
        (Demande.Contexte.VIVIER, Mentore.Contexte.VIVIER),
        # A context mentoring does not name: the development cycle.
        (Demande.Contexte.DIFFICULTE, Mentore.Contexte.CYCLE),
    ],
)
def test_accepted_request_puts_the_cadre_on_the_waiting_list(m, contexte, expected):
    cadre = make_cadre_user(structure=m["a_srv"])
    demande = submit(cadre, contexte, "Je prends la direction d'un service de 80 agents.")

    demande = demandes.decide(demande, "acceptee", by=m["delegue_a"])

    mentore = Mentore.objects.get(cadre=cadre)
    assert mentore.statut == W.EN_ATTENTE
    assert mentore.contexte == expected
    assert mentore.demande == demande
    assert mentore.objectifs == "Je prends la direction d'un service de 80 agents."
    assert mentore.motif_attente == ""
    demande.refresh_from_db()
    assert demande.statut == Demande.Statut.ACCEPTEE
    assert demande.programme == mentore
    # Nobody is matched, nothing is proposed, until a campaign is confirmed.
    assert not Mentorat.objects.exists()


def test_refused_request_puts_nobody_on_the_list(m):
    cadre = make_cadre_user(structure=m["a_srv"])
    demandes.decide(submit(cadre), "refusee", motif="Aucun mentor cette année.", by=None)
    assert not Mentore.objects.exists()


def test_second_request_keeps_the_mentee_and_their_place(m):
    cadre = make_cadre_user(structure=m["a_srv"])
    first = demandes.decide(submit(cadre, motivation="Première demande."), "acceptee")
    mentore = Mentore.objects.get(cadre=cadre)
    services.create_from_demande(first)  # the hook called twice: no change

    second = demandes.decide(submit(cadre, Demande.Contexte.VIVIER, "Seconde demande."), "acceptee")

    again = Mentore.objects.get(cadre=cadre)
    assert Mentore.objects.count() == 1
    assert again.pk == mentore.pk
    assert again.statut == W.EN_ATTENTE
    # The place in the queue is kept: a second request is no reason to wait longer.
    assert again.en_attente_depuis == mentore.en_attente_depuis
    assert again.demande == second
    assert again.contexte == Mentore.Contexte.VIVIER
    assert again.objectifs == "Première demande."  # what was written is not overwritten


def test_request_brings_a_retired_mentee_back(m):
    mentore = waiting(m["a_srv"], statut=W.RETIRE, motif_attente="Mutation en cours.")
    mentore.cadre.user = UserFactory(email=mentore.cadre.email)
    mentore.cadre.save()
    demandes.decide(submit(mentore.cadre), "acceptee")
    mentore.refresh_from_db()
    assert mentore.statut == W.EN_ATTENTE
    assert mentore.motif_attente == ""


def test_request_leaves_a_mentee_with_a_pending_proposal_as_is(proposed):
    cadre = proposed.mentore
    demandes.decide(submit(cadre), "acceptee")
    assert Mentore.objects.get(cadre=cadre).statut == W.PROPOSE


# --- 2. Campaign pools ---------------------------------------------------------------


def test_pools_take_the_waiting_mentees_of_the_perimeter_only(m):
    inside = [waiting(m["a"]), waiting(m["a_dir"]), waiting(m["a_srv"]), waiting(m["a_dir2"])]
    waiting(m["b"])  # another ministry
    for statut in (W.PROPOSE, W.ACCOMPAGNE, W.RETIRE):
        waiting(m["a_srv"], statut=statut)

    mentees, _, _ = services.campaign_pools(campaign(m["a"]))
    assert {x.pk for x in mentees} == {x.pk for x in inside}

    mentees, _, _ = services.campaign_pools(campaign(m["a_dir"]))
    assert {x.pk for x in mentees} == {inside[1].pk, inside[2].pk}


def test_pools_take_the_available_mentors_with_a_free_place(m):
    start = date(2027, 3, 1)
    day = timedelta(days=1)
    shared = MentorFactory(nom="Commun")
    in_perimeter = MentorFactory(nom="Sœur", structure=m["a_dir2"])
    window = MentorFactory(nom="Fenêtre", disponible_du=start, disponible_au=start)
    half_open = MentorFactory(nom="Ouvert", disponible_du=start - day)
    freed = MentorFactory(nom="Libéré", capacite=1)
    for statut in (S.TERMINE, S.INTERROMPU, S.DECLINE):
        MentoratFactory(mentor=freed, statut=statut)
    one_left = MentorFactory(nom="Reste", capacite=2)
    MentoratFactory(mentor=one_left, statut=S.EN_COURS)

    # Not taken: inactive, not yet or no longer available, full, another ministry.
    MentorFactory(nom="Inactif", actif=False)
    MentorFactory(nom="Tard", disponible_du=start + day)
    MentorFactory(nom="Parti", disponible_au=start - day)
    for statut in (S.PROPOSE, S.ACCEPTE, S.EN_COURS):
        MentoratFactory(mentor=MentorFactory(nom=f"Plein {statut}", capacite=1), statut=statut)
    MentorFactory(nom="Ailleurs", structure=m["b"])

    _, mentors, places = services.campaign_pools(campaign(m["a"], date_debut=start))

    assert {x.nom for x in mentors} == {
        x.nom for x in (shared, in_perimeter, window, half_open, freed, one_left)
    }
    assert places[one_left.pk] == 1
    assert places[freed.pk] == 1
    assert places[shared.pk] == 2


# --- 3. Compute: hard rules, reasons, nothing sent ------------------------------------


def forbidden_mentor(case, m, mentee):
    """A mentor the mentee may never be given, for each hard rule."""
    cadre = mentee.cadre
    if case in ("meme_structure", "structure_parente", "ministere", "structure_fille"):
        structure = {
            "meme_structure": m["a_srv"],
            "structure_parente": m["a_dir"],
            "ministere": m["a"],
            "structure_fille": StructureFactory(
                nom="Bureau A1-1-a", parent=m["a_srv"], type="bureau"
            ),
        }[case]
        return MentorFactory(structure=structure)
    if case == "responsable":
        boss = CadreFactory(structure=m["a_dir2"])
        cadre.responsable = boss
        cadre.save()
        return MentorFactory(cadre=boss)
    if case == "responsable_du_responsable":
        big_boss = CadreFactory(structure=m["b"])
        cadre.responsable = CadreFactory(structure=m["a_dir2"], responsable=big_boss)
        cadre.save()
        return MentorFactory(cadre=big_boss)
    if case == "collaborateur":
        return MentorFactory(cadre=CadreFactory(structure=m["b"], responsable=cadre))
    if case == "collaborateur_indirect":
        deputy = CadreFactory(structure=m["b"], responsable=cadre)
        return MentorFactory(cadre=CadreFactory(structure=m["b"], responsable=deputy))
    if case == "ecarte":
        excluded = MentorFactory()
        mentee.mentors_exclus.add(excluded)
        return excluded
    if case == "deja_essaye":
        tried = MentorFactory()
        MentoratFactory(mentor=tried, mentore=cadre, statut=S.DECLINE, motif_fin="Pas disponible.")
        return tried
    raise AssertionError(case)


FORBIDDEN = {
    "meme_structure": "même structure ou structure de la même branche",
    "structure_parente": "même structure ou structure de la même branche",
    "ministere": "même structure ou structure de la même branche",
    "structure_fille": "même structure ou structure de la même branche",
    "responsable": "mentor dans la ligne hiérarchique du mentoré",
    "responsable_du_responsable": "mentor dans la ligne hiérarchique du mentoré",
    "collaborateur": "mentor dans la ligne hiérarchique du mentoré",
    "collaborateur_indirect": "mentor dans la ligne hiérarchique du mentoré",
    "ecarte": "mentor écarté par le mentoré",
    "deja_essaye": "binôme déjà proposé ou déjà formé",
}


@pytest.mark.parametrize("case", FORBIDDEN)
def test_forbidden_mentor_is_never_proposed(m, mentee, case):
    # The forbidden mentor would be the best by far: asked for, the expertise wanted.
    domaine = DomaineFactory(code="transformation", libelle="Transformation publique")
    mentee.besoins.add(domaine)
    forbidden = forbidden_mentor(case, m, mentee)
    forbidden.domaines.add(domaine)
    forbidden.annees_experience = 30
    forbidden.save()
    mentee.mentors_souhaites.add(forbidden)
    campagne = campaign(m["a"])

    services.compute(campagne)
    assert proposals(campagne) == {}
    assert unmatched(campagne)[mentee.cadre].startswith(NONE_POSSIBLE)

    # With an ordinary mentor next to it, the ordinary one is proposed.
    ordinary = MentorFactory()
    services.compute(campagne)
    assert proposals(campagne) == {mentee.cadre: ordinary}
    assert unmatched(campagne) == {}

    # Nor can the délégué force it by hand.
    proposition = campagne.propositions.get()
    with pytest.raises(ValidationError) as excinfo:
        services.swap_proposal(proposition, forbidden, by=m["delegue_a"])
    assert excinfo.value.message_dict["mentor"] == [
        f"{forbidden} ne peut pas être proposé à {mentee} : {FORBIDDEN[case]}."
    ]
    proposition.refresh_from_db()
    assert proposition.mentor == ordinary and proposition.modifiee_par is None


def test_mentor_of_a_sister_branch_may_be_proposed(m, mentee):
    sister = MentorFactory(structure=m["a_dir2"])
    campagne = campaign(m["a"])
    services.compute(campagne)
    assert proposals(campagne) == {mentee.cadre: sister}


def test_compute_stores_proposals_and_reasons_and_sends_nothing(m, mentee, mentor):
    other = waiting(m["a_dir"])
    late = waiting(m["b"])  # outside the perimeter: not even unmatched
    campagne = campaign(m["a"])
    mentor.capacite = 1
    mentor.save()

    result = services.compute(campagne, by=m["delegue_a"])

    campagne.refresh_from_db()
    assert campagne.statut == Campagne.Statut.CALCULEE
    assert campagne.calculee_le is not None
    assert (campagne.nb_mentores, campagne.nb_mentors) == (2, 1)
    assert campagne.score_optimal == result.total_score > 0
    # One place for two mentees: the one left over is told why.
    (proposition,) = campagne.propositions.all()
    assert proposition.mentor == mentor
    assert proposition.score == sum(c["points"] for c in proposition.criteres)
    assert {c["code"] for c in proposition.criteres} >= {"accompagnement", "expertise"}
    left = {mentee.cadre, other.cadre} - {proposition.mentore.cadre}
    assert unmatched(campagne) == {
        left.pop(): "Les 1 mentor(s) possible(s) sont complets : leurs places vont à des "
        "binômes de meilleur score total."
    }
    assert late.cadre not in unmatched(campagne)
    # A review, not a sending.
    assert not Notification.objects.exists()
    assert not Mentorat.objects.exists()
    assert not Invitation.objects.exists()
    assert set(Mentore.objects.values_list("statut", flat=True)) == {W.EN_ATTENTE}


def test_compute_without_any_mentor_says_so(m, mentee):
    MentorFactory(structure=m["b"])
    campagne = campaign(m["a"])
    services.compute(campagne)
    assert unmatched(campagne) == {
        mentee.cadre: "Aucun mentor disponible dans le périmètre (actif, disponible à cette "
        "date, avec une place libre)."
    }
    assert campagne.propositions.count() == 0


def test_recompute_replaces_the_proposals(m, mentee, mentor):
    campagne = campaign(m["a"])
    services.compute(campagne)
    first = campagne.propositions.get()
    assert first.mentor == mentor

    mentee.mentors_exclus.add(mentor)
    services.compute(campagne)
    assert not Proposition.objects.filter(pk=first.pk).exists()
    assert campagne.propositions.count() == 0
    assert campagne.non_apparies.count() == 1
    assert unmatched(campagne)[mentee.cadre].startswith(NONE_POSSIBLE)

    other = MentorFactory()
    services.compute(campagne)
    assert proposals(campagne) == {mentee.cadre: other}
    assert campagne.non_apparies.count() == 0
    assert Proposition.objects.count() == 1


def test_confirmed_campaign_is_not_recomputed(m, proposed):
    campagne = proposed.campagne
    before = list(campagne.propositions.values_list("pk", "mentor", "mentore"))
    MentorFactory()
    with pytest.raises(ValidationError) as excinfo:
        services.compute(campagne)
    assert excinfo.value.messages == [
        "Cette campagne est confirmée : ses propositions sont envoyées."
    ]
    assert list(campagne.propositions.values_list("pk", "mentor", "mentore")) == before
    campagne.refresh_from_db()
    assert campagne.statut == Campagne.Statut.CONFIRMEE


# --- 4. Review: swap and remove --------------------------------------------------------


@pytest.fixture
def two_pairs(m):
    """A computed campaign: two mentees, two mentors with one place each."""
    mentees = [waiting(m["a_srv"]), waiting(m["a_dir"])]
    mentors = [MentorFactory(nom="Un", capacite=1), MentorFactory(nom="Deux", capacite=1)]
    campagne = campaign(m["a"])
    services.compute(campagne)
    assert len(proposals(campagne)) == 2
    return campagne, mentees, mentors


def test_swap_gives_another_mentor_and_recomputes_the_score(m, two_pairs):
    campagne, _, _ = two_pairs
    proposition = campagne.propositions.first()
    domaine = DomaineFactory(code="numerique", libelle="Numérique")
    proposition.mentore.besoins.add(domaine)
    newcomer = MentorFactory(nom="Nouveau", annees_experience=12, domaines=[domaine])

    services.swap_proposal(proposition, newcomer, by=m["delegue_a"])

    proposition.refresh_from_db()
    assert proposition.mentor == newcomer
    assert proposition.modifiee_par == m["delegue_a"]
    points = {c["code"]: c["points"] for c in proposition.criteres}
    assert points["expertise"] == 10
    assert points["experience"] == 10  # 12 - 2 years
    assert proposition.score == sum(points.values())


def test_swap_to_a_mentor_full_within_the_campaign_is_refused(m, two_pairs):
    campagne, _, (one, two) = two_pairs
    proposition = campagne.propositions.get(mentor=two)
    with pytest.raises(ValidationError) as excinfo:
        services.swap_proposal(proposition, one, by=m["delegue_a"])
    assert excinfo.value.message_dict["mentor"] == [
        f"{one} n'a plus de place libre dans cette campagne."
    ]
    proposition.refresh_from_db()
    assert proposition.mentor == two


def test_swap_keeps_its_own_place(m, two_pairs):
    campagne, _, (one, _) = two_pairs
    proposition = campagne.propositions.get(mentor=one)
    services.swap_proposal(proposition, one, by=m["delegue_a"])  # no conflict with itself
    proposition.refresh_from_db()
    assert proposition.mentor == one


@pytest.mark.parametrize(
    "change, expected",
    [
        ({"actif": False}, "{mentor} est inactif."),
        ({"disponible_du": date(2099, 1, 1)}, "{mentor} n'est pas disponible au {day}."),
        ({"disponible_au": date(2000, 1, 1)}, "{mentor} n'est pas disponible au {day}."),
    ],
)
def test_swap_to_an_unavailable_mentor_is_refused(m, two_pairs, change, expected):
    campagne, _, _ = two_pairs
    proposition = campagne.propositions.first()
    other = MentorFactory(**change)
    with pytest.raises(ValidationError) as excinfo:
        services.swap_proposal(proposition, other, by=m["delegue_a"])
    assert excinfo.value.message_dict["mentor"] == [
        expected.format(mentor=other, day=f"{campagne.date_debut:%d/%m/%Y}")
    ]


def test_swap_to_a_mentor_full_of_relations_is_refused(m, two_pairs):
    campagne, _, _ = two_pairs
    proposition = campagne.propositions.first()
    busy = MentorFactory(capacite=1)
    MentoratFactory(mentor=busy, statut=S.ACCEPTE)
    with pytest.raises(ValidationError) as excinfo:
        services.swap_proposal(proposition, busy)
    assert "n'a plus de place libre" in messages(excinfo)


def test_remove_proposal_keeps_the_mentee_waiting(m, two_pairs):
    campagne, _, _ = two_pairs
    proposition = campagne.propositions.first()
    mentore, mentor = proposition.mentore, proposition.mentor

    services.remove_proposal(proposition, by=m["delegue_a"])

    assert not Proposition.objects.filter(pk=proposition.pk).exists()
    assert unmatched(campagne) == {
        mentore.cadre: f"Proposition de {mentor} retirée par le délégué."
    }
    mentore.refresh_from_db()
    assert mentore.statut == W.EN_ATTENTE


def test_confirmed_campaign_cannot_be_reviewed(m, proposed):
    proposition = proposed.campagne.propositions.get()
    for action in (
        lambda: services.swap_proposal(proposition, MentorFactory()),
        lambda: services.remove_proposal(proposition),
    ):
        with pytest.raises(ValidationError) as excinfo:
            action()
        assert excinfo.value.messages == [
            "Cette campagne est confirmée : ses propositions sont envoyées."
        ]
    proposition.refresh_from_db()
    assert proposition.mentor == proposed.mentor
    assert proposed.campagne.non_apparies.count() == 0


# --- 5. Confirm --------------------------------------------------------------------------


def test_confirm_creates_the_relations_accounts_and_mails(m):
    start = date(2027, 1, 31)
    claire = MentoreFactory(
        cadre=make_cadre_user(structure=m["a_srv"], nom="Martin", prenom="Claire"),
        objectifs="Conduire une réorganisation.",
        contexte=Mentore.Contexte.VIVIER,
    )
    # No account yet: one is created on confirmation, and an invitation sent.
    louis = waiting(m["a_dir"])
    mentors = [
        MentorFactory(capacite=1, email="Paul.Durand@Example.gouv.fr"),
        MentorFactory(capacite=1, cadre=CadreFactory(structure=m["b"])),
    ]
    campagne = campaign(m["a"], date_debut=start, duree_mois=7)
    services.compute(campagne)
    pairs = proposals(campagne)

    services.confirm(campagne, by=m["delegue_a"])

    campagne.refresh_from_db()
    assert campagne.statut == Campagne.Statut.CONFIRMEE
    assert campagne.confirmee_par == m["delegue_a"]
    assert campagne.confirmee_le is not None
    relations = Mentorat.objects.filter(campagne=campagne)
    assert {r.mentore: r.mentor for r in relations} == pairs
    for relation in relations:
        assert relation.statut == S.PROPOSE
        assert relation.date_debut == start
        assert relation.date_fin_prevue == date(2027, 8, 31) == start + relativedelta(months=7)
        proposition = campagne.propositions.get(mentor=relation.mentor)
        assert relation.score == proposition.score
        assert relation.criteres == proposition.criteres
    claire_relation = relations.get(mentore=claire.cadre)
    assert claire_relation.contexte == Mentore.Contexte.VIVIER
    assert claire_relation.objectifs == "Conduire une réorganisation."
    assert set(Mentore.objects.values_list("statut", flat=True)) == {W.PROPOSE}

    # Every side has an account; mentors hold the mentor role.
    louis.cadre.refresh_from_db()
    assert louis.cadre.user.email == louis.cadre.email
    for mentor in mentors:
        mentor.refresh_from_db()
        assert mentor.user is not None
        assert mentor.user.roles.filter(kind=Role.Kind.MENTOR).exists()
        assert not mentor.user.has_usable_password()
        assert Invitation.objects.filter(user=mentor.user).count() == 1
    assert mentors[0].user.email == "paul.durand@example.gouv.fr"
    # The mentor who is a cadre gets the cadre's account.
    mentors[1].cadre.refresh_from_db()
    assert mentors[1].user == mentors[1].cadre.user
    assert Invitation.objects.filter(user=louis.cadre.user).count() == 1
    assert not Invitation.objects.filter(user=claire.cadre.user).exists()  # has a password

    # One proposal mail per side of each relation, and nothing else.
    for relation in relations:
        rows = outbox_rows(relation, kind="mentorat_propose")
        assert sorted(rows.values_list("email", "context")) == sorted(
            [
                (relation.mentor.user.email, {"side": "mentor"}),
                (relation.mentore.user.email, {"side": "mentore"}),
            ]
        )
    assert Notification.objects.filter(kind="mentorat_propose").count() == 4


def test_confirm_reuses_an_existing_account_of_the_mentor(m, mentee):
    existing = UserFactory(email="anne.roux@example.gouv.fr")
    mentor = MentorFactory(email="anne.roux@example.gouv.fr")
    campagne = campaign(m["a"])
    services.compute(campagne)
    services.confirm(campagne)
    mentor.refresh_from_db()
    assert mentor.user == existing
    assert User.objects.filter(email="anne.roux@example.gouv.fr").count() == 1
    assert existing.roles.filter(kind=Role.Kind.MENTOR).exists()


def make_full(mentor, mentee, m):
    mentor.capacite = 1
    mentor.save()
    MentoratFactory(mentor=mentor, statut=S.EN_COURS, mentore=CadreFactory(structure=m["b"]))


def make_inactive(mentor, mentee, m):
    mentor.actif = False
    mentor.save()


def make_retired(mentor, mentee, m):
    Mentore.objects.filter(pk=mentee.pk).update(statut=W.RETIRE)


def make_matched_elsewhere(mentor, mentee, m):
    Mentore.objects.filter(pk=mentee.pk).update(statut=W.ACCOMPAGNE)


def make_excluded(mentor, mentee, m):
    mentee.mentors_exclus.add(mentor)


@pytest.mark.parametrize(
    "change, expected",
    [
        (make_full, "{mentor} n'a plus de place libre dans cette campagne."),
        (make_inactive, "{mentor} est inactif."),
        (make_retired, "{mentee} n'est plus en attente d'un mentor."),
        (make_matched_elsewhere, "{mentee} n'est plus en attente d'un mentor."),
        (
            make_excluded,
            "{mentor} ne peut pas être proposé à {mentee} : mentor écarté par le mentoré.",
        ),
    ],
)
def test_confirm_after_the_pools_moved_sends_nothing(m, mentee, mentor, change, expected):
    # A second pair that is still fine is not sent either: all or nothing.
    other = waiting(m["a_dir"])
    MentorFactory(capacite=1)
    mentor.capacite = 1
    mentor.save()
    mentee.mentors_souhaites.add(mentor)  # so that the engine gives Claire this one
    campagne = campaign(m["a"])
    services.compute(campagne)
    assert proposals(campagne)[mentee.cadre] == mentor
    assert other.cadre in proposals(campagne)

    change(mentor, mentee, m)
    relations_before = Mentorat.objects.count()
    users_before = User.objects.count()
    with pytest.raises(ValidationError) as excinfo:
        services.confirm(campagne, by=m["delegue_a"])

    assert excinfo.value.messages == [
        "Rien n'a été envoyé. Retirez ou modifiez ces propositions, ou recalculez :",
        expected.format(mentor=mentor, mentee=mentee),
    ]
    assert Mentorat.objects.count() == relations_before
    assert not Mentorat.objects.filter(campagne=campagne).exists()
    assert not Notification.objects.exists()
    assert not Invitation.objects.exists()
    assert User.objects.count() == users_before
    mentor.refresh_from_db()
    assert mentor.user is None
    campagne.refresh_from_db()
    assert campagne.statut == Campagne.Statut.CALCULEE
    other.refresh_from_db()
    assert other.statut == W.EN_ATTENTE


def test_overlapping_campaigns_cannot_both_send_the_same_mentee(m, mentee, mentor):
    national = campaign(m["a"])
    local = campaign(m["a_dir"])
    services.compute(national)
    services.compute(local)
    assert proposals(national) == proposals(local) == {mentee.cadre: mentor}

    services.confirm(national)
    with pytest.raises(ValidationError) as excinfo:
        services.confirm(local)

    assert excinfo.value.messages[1:] == [f"{mentee} n'est plus en attente d'un mentor."]
    assert Mentorat.objects.get().campagne == national
    assert Notification.objects.filter(kind="mentorat_propose").count() == 2


def test_confirm_lists_every_problem(m):
    first, second = waiting(m["a_srv"]), waiting(m["a_dir"])
    MentorFactory(capacite=2)
    campagne = campaign(m["a"])
    services.compute(campagne)
    Mentore.objects.filter(pk__in=[first.pk, second.pk]).update(statut=W.RETIRE)
    with pytest.raises(ValidationError) as excinfo:
        services.confirm(campagne)
    assert sorted(excinfo.value.messages[1:]) == sorted(
        [
            f"{first} n'est plus en attente d'un mentor.",
            f"{second} n'est plus en attente d'un mentor.",
        ]
    )


def test_confirm_needs_computed_proposals(m, mentee):
    campagne = campaign(m["a"])
    with pytest.raises(ValidationError) as excinfo:
        services.confirm(campagne)
    assert excinfo.value.messages == ["Calculez les propositions avant de confirmer la campagne."]

    services.compute(campagne)  # no mentor at all
    with pytest.raises(ValidationError) as excinfo:
        services.confirm(campagne)
    assert excinfo.value.messages == ["Aucune proposition à envoyer."]
    campagne.refresh_from_db()
    assert campagne.statut == Campagne.Statut.CALCULEE


def test_confirm_twice_is_refused(m, proposed):
    with pytest.raises(ValidationError) as excinfo:
        services.confirm(proposed.campagne)
    assert "confirmée" in messages(excinfo)
    assert Mentorat.objects.count() == 1
    assert Notification.objects.filter(kind="mentorat_propose").count() == 2


# --- 6. Accept and decline -----------------------------------------------------------


def test_accept_needs_the_charter(proposed):
    with pytest.raises(ValidationError) as excinfo:
        services.accept(proposed, proposed.mentor.user, charte=False)
    assert excinfo.value.message_dict["charte"] == ["Acceptez la charte du mentorat pour accepter."]
    proposed.refresh_from_db()
    assert proposed.charte_mentor_le is None and proposed.statut == S.PROPOSE


def test_only_the_two_sides_answer(m, proposed):
    for user in (UserFactory(), m["delegue_a"], m["admin"]):
        with pytest.raises(ValidationError) as excinfo:
            services.accept(proposed, user, charte=True)
        assert excinfo.value.messages == [
            "Seuls le mentor et le mentoré répondent à cette proposition."
        ]
        with pytest.raises(ValidationError):
            services.decline(proposed, user, "Je ne le connais pas.")
    proposed.refresh_from_db()
    assert proposed.statut == S.PROPOSE
    assert proposed.charte_mentor_le is None and proposed.charte_mentore_le is None


def test_both_acceptances_make_the_relation(proposed):
    mentor_user, mentee_user = proposed.mentor.user, proposed.mentore.user

    services.accept(proposed, mentor_user, charte=True)
    proposed.refresh_from_db()
    assert proposed.statut == S.PROPOSE
    assert proposed.charte_mentor_le is not None and proposed.charte_mentore_le is None
    assert not outbox_rows(proposed, kind="mentorat_accepte").exists()
    signed_at = proposed.charte_mentor_le
    services.accept(proposed, mentor_user, charte=True)  # twice: the first date stays
    proposed.refresh_from_db()
    assert proposed.charte_mentor_le == signed_at

    services.accept(proposed, mentee_user, charte=True)
    proposed.refresh_from_db()
    assert proposed.statut == S.ACCEPTE
    assert proposed.charte_mentore_le is not None
    assert Mentore.objects.get(cadre=proposed.mentore).statut == W.ACCOMPAGNE
    assert emails(outbox_rows(proposed, kind="mentorat_accepte")) == sorted(
        [mentor_user.email, mentee_user.email]
    )

    with pytest.raises(ValidationError) as excinfo:
        services.accept(proposed, mentee_user, charte=True)
    assert excinfo.value.messages == ["Cette proposition n'attend plus de réponse."]


@pytest.mark.parametrize("motif", ["", "   ", None])
def test_decline_needs_a_reason(proposed, motif):
    with pytest.raises(ValidationError) as excinfo:
        services.decline(proposed, proposed.mentore.user, motif)
    assert excinfo.value.message_dict["motif"] == [
        "Indiquez pourquoi vous déclinez cette proposition."
    ]
    proposed.refresh_from_db()
    assert proposed.statut == S.PROPOSE
    assert Mentore.objects.get(cadre=proposed.mentore).statut == W.PROPOSE
    assert not outbox_rows(proposed, kind="mentorat_decline").exists()


@pytest.mark.parametrize("side", ["mentor", "mentore"])
def test_decline_puts_the_mentee_back_and_tells_the_others(m, proposed, side):
    user = proposed.mentor.user if side == "mentor" else proposed.mentore.user
    other = proposed.mentore.user if side == "mentor" else proposed.mentor.user

    services.decline(proposed, user, "  Nous travaillons déjà ensemble.  ")

    proposed.refresh_from_db()
    assert proposed.statut == S.DECLINE
    assert proposed.decline_par == side
    assert proposed.motif_fin == "Nous travaillons déjà ensemble."
    mentore = Mentore.objects.get(cadre=proposed.mentore)
    assert mentore.statut == W.EN_ATTENTE
    who = "le mentor" if side == "mentor" else "le mentoré"
    assert mentore.motif_attente == (
        f"Proposition de {proposed.mentor} déclinée par {who} : Nous travaillons déjà ensemble."
    )
    # The other side and the délégué of the mentee's perimeter; not ministry B's.
    assert emails(outbox_rows(proposed, kind="mentorat_decline")) == sorted(
        [other.email, m["delegue_a"].email]
    )
    # The proposal is closed, and the place it held is free again.
    with pytest.raises(ValidationError):
        services.accept(proposed, other, charte=True)
    assert Mentor.objects.with_load().get(pk=proposed.mentor.pk).charge == 0


def test_declined_pair_is_never_proposed_again(m, proposed):
    services.decline(proposed, proposed.mentor.user, "Conflit d'agenda durable.")
    later = campaign(m["a"])

    services.compute(later)

    assert proposals(later) == {}
    assert unmatched(later)[proposed.mentore].startswith(NONE_POSSIBLE)
    other = MentorFactory()
    services.compute(later)
    assert proposals(later) == {proposed.mentore: other}


# --- 7. Status workflow ---------------------------------------------------------------


@pytest.mark.parametrize(
    "current, new", ALL_PAIRS, ids=[f"{a.value}->{b.value}" for a, b in ALL_PAIRS]
)
def test_status_transitions(current, new):
    relation = running_relation(statut=current)
    motif = "Mutation du mentoré à l'étranger."
    if (current, new) in ALLOWED:
        services.change_status(relation, new, motif=motif)
        relation.refresh_from_db()
        assert relation.statut == new
        return
    with pytest.raises(ValidationError) as excinfo:
        services.change_status(relation, new, motif=motif)
    if (current, new) == (S.PROPOSE, S.ACCEPTE):
        assert excinfo.value.message_dict["statut"] == [
            "Un mentorat est accepté quand mentor et mentoré ont accepté la charte."
        ]
    elif (current, new) == (S.PROPOSE, S.DECLINE):
        assert excinfo.value.message_dict["statut"] == [
            "Une proposition se décline depuis l'espace personnel."
        ]
    else:
        assert excinfo.value.message_dict["statut"] == [
            f"Un mentorat « {current.label.lower()} » ne peut pas passer "
            f"au statut « {new.label.lower()} »."
        ]
    relation.refresh_from_db()
    assert relation.statut == current
    assert relation.date_fin is None


def test_allowed_table_is_the_models():
    declared = {(a, b) for a, targets in Mentorat.TRANSITIONS.items() for b in targets}
    assert declared >= ALLOWED
    assert declared - ALLOWED == {(S.PROPOSE, S.ACCEPTE), (S.PROPOSE, S.DECLINE)}


def test_same_status_is_no_change():
    relation = running_relation()
    services.change_status(relation, S.EN_COURS)
    relation.refresh_from_db()
    assert relation.statut == S.EN_COURS


@pytest.mark.parametrize("motif", ["", "   "])
def test_interruption_needs_a_reason(accepted, motif):
    with pytest.raises(ValidationError) as excinfo:
        services.change_status(accepted, S.INTERROMPU, motif=motif)
    assert excinfo.value.message_dict["motif_fin"] == ["Indiquez le motif de l'interruption."]
    accepted.refresh_from_db()
    assert accepted.statut == S.ACCEPTE and accepted.date_fin is None


def test_interruption_keeps_the_reason_and_cancels_future_meetings(accepted):
    future = meet(accepted, accepted.mentor.user, 10)
    services.change_status(accepted, S.INTERROMPU, motif="  Départ du mentor en retraite. ")
    accepted.refresh_from_db()
    future.refresh_from_db()
    assert accepted.statut == S.INTERROMPU
    assert accepted.motif_fin == "Départ du mentor en retraite."
    assert accepted.date_fin == timezone.localdate()
    assert future.statut == RENCONTRE.ANNULEE
    assert not Evaluation.objects.exists()  # an interruption is not an ending


def test_ending_asks_evaluations_and_cancels_future_meetings(accepted):
    mentor_user, mentee_user = accepted.mentor.user, accepted.mentore.user
    held = meet(accepted, mentee_user, -3)
    accepted.refresh_from_db()
    assert accepted.statut == S.EN_COURS
    past_planned = meet(accepted, mentor_user, 5)
    Rencontre.objects.filter(pk=past_planned.pk).update(debut=at(-1))
    future = [meet(accepted, mentor_user, 8), meet(accepted, mentee_user, 20)]

    services.change_status(accepted, S.TERMINE)

    accepted.refresh_from_db()
    assert accepted.statut == S.TERMINE
    assert accepted.date_fin == timezone.localdate()
    evaluations = Evaluation.objects.filter(
        programme_type=ContentType.objects.get_for_model(Mentorat), programme_id=accepted.pk
    )
    assert {e.participant for e in evaluations} == {mentor_user, mentee_user}
    assert {e.dispositif for e in evaluations} == {"mentorat"}
    assert {e.cadre for e in evaluations} == {accepted.mentore}
    for rencontre in future:
        rencontre.refresh_from_db()
        assert rencontre.statut == RENCONTRE.ANNULEE
        assert emails(outbox_rows(rencontre, kind="session_annulation")) == sorted(
            [mentor_user.email, mentee_user.email]
        )
        assert not outbox_rows(
            rencontre, kind__startswith="session_rappel_", statut="en_attente"
        ).exists()
    held.refresh_from_db()
    past_planned.refresh_from_db()
    assert held.statut == RENCONTRE.REALISEE
    assert past_planned.statut == RENCONTRE.PLANIFIEE

    # Ending again changes nothing and asks nothing more.
    services.change_status(accepted, S.TERMINE)
    assert evaluations.count() == 2


# --- 8. Meetings and private notes ------------------------------------------------------


def test_only_the_two_sides_log_meetings(m, accepted):
    for user in (UserFactory(), m["delegue_a"]):
        with pytest.raises(ValidationError) as excinfo:
            meet(accepted, user, -1)
        assert excinfo.value.messages == [
            "Seuls le mentor et le mentoré saisissent leurs rencontres."
        ]
    assert not Rencontre.objects.exists()


@pytest.mark.parametrize("statut", [S.PROPOSE, S.DECLINE, S.TERMINE, S.INTERROMPU])
def test_meetings_of_a_relation_not_under_way_are_refused(accepted, statut):
    Mentorat.objects.filter(pk=accepted.pk).update(statut=statut)
    with pytest.raises(ValidationError) as excinfo:
        meet(accepted, accepted.mentor.user, -1)
    assert excinfo.value.messages == [
        "Les rencontres se saisissent pour un mentorat accepté ou en cours."
    ]
    assert not Rencontre.objects.exists()


def test_a_held_meeting_starts_the_relation(accepted):
    user = accepted.mentore.user
    rencontre = meet(accepted, user, -2, mode=Mode.DISTANCIEL, lieu="")
    rencontre.refresh_from_db()
    assert rencontre.statut == RENCONTRE.REALISEE
    assert rencontre.saisie_par == user
    assert rencontre.mode == Mode.DISTANCIEL
    accepted.refresh_from_db()
    assert accepted.statut == S.EN_COURS
    # Nothing to remind for a meeting that took place.
    assert not outbox_rows(rencontre).exists()


def test_a_meeting_long_before_the_start_is_refused(accepted):
    Mentorat.objects.filter(pk=accepted.pk).update(
        date_debut=timezone.localdate() - timedelta(days=10)
    )
    with pytest.raises(ValidationError) as excinfo:
        meet(accepted, accepted.mentor.user, -60)
    assert excinfo.value.message_dict["debut"] == [
        "Cette date précède de loin le début du mentorat."
    ]
    assert not Rencontre.objects.exists()


def test_invalid_meeting_is_refused(accepted):
    with pytest.raises(ValidationError) as excinfo:
        meet(accepted, accepted.mentor.user, -1, duree=5)
    assert "duree" in excinfo.value.message_dict
    assert not Rencontre.objects.exists()


def test_a_future_meeting_is_planned_with_its_reminders(accepted):
    mentor_user, mentee_user = accepted.mentor.user, accepted.mentore.user
    rencontre = meet(accepted, mentor_user, 10)

    rencontre.refresh_from_db()
    assert rencontre.statut == RENCONTRE.PLANIFIEE
    accepted.refresh_from_db()
    assert accepted.statut == S.ACCEPTE  # not started until a meeting is held
    reminders = outbox_rows(rencontre, statut="en_attente")
    assert sorted(reminders.values_list("kind", "email", "due_at")) == sorted(
        (kind, email, rencontre.debut - delay)
        for kind, delay in (
            ("session_rappel_j7", timedelta(days=7)),
            ("session_rappel_j1", timedelta(days=1)),
        )
        for email in (mentor_user.email, mentee_user.email)
    )


def test_private_notes_belong_to_their_author(m, accepted):
    mentor_user, mentee_user = accepted.mentor.user, accepted.mentore.user
    rencontre = meet(accepted, mentor_user, -1, note=f"  {SECRET}  ")

    (note,) = NotePrivee.objects.filter(rencontre=rencontre)
    assert note.auteur == mentor_user
    assert note.texte == SECRET

    # The mentee writes their own note: the mentor's is untouched.
    own = services.save_note(rencontre, mentee_user, "Préparer la réunion avec le DG.")
    assert own.auteur == mentee_user
    assert NotePrivee.objects.filter(rencontre=rencontre).count() == 2
    note.refresh_from_db()
    assert note.texte == SECRET

    # Anybody else, even the délégué, cannot.
    for user in (UserFactory(), m["delegue_a"]):
        with pytest.raises(ValidationError) as excinfo:
            services.save_note(rencontre, user, "Indiscrétion.")
        assert excinfo.value.messages == [
            "Seuls le mentor et le mentoré annotent leurs rencontres."
        ]
    assert NotePrivee.objects.filter(rencontre=rencontre).count() == 2

    # Editing replaces, an empty text deletes the author's note only.
    services.save_note(rencontre, mentor_user, "Relu.")
    note.refresh_from_db()
    assert note.texte == "Relu."
    assert services.save_note(rencontre, mentor_user, "   ") is None
    assert list(NotePrivee.objects.filter(rencontre=rencontre)) == [own]


def test_meeting_without_note_has_none(accepted):
    rencontre = meet(accepted, accepted.mentor.user, -1, note="   ")
    assert not NotePrivee.objects.filter(rencontre=rencontre).exists()


def test_a_planned_meeting_cannot_be_held_before_it_happens(accepted):
    rencontre = meet(accepted, accepted.mentor.user, 3)
    with pytest.raises(ValidationError) as excinfo:
        services.mark_meeting(rencontre, accepted.mentore.user, RENCONTRE.REALISEE)
    assert excinfo.value.messages == [
        "Une rencontre ne peut pas être réalisée avant d'avoir eu lieu."
    ]
    rencontre.refresh_from_db()
    assert rencontre.statut == RENCONTRE.PLANIFIEE
    accepted.refresh_from_db()
    assert accepted.statut == S.ACCEPTE


def test_a_planned_meeting_once_past_is_held(accepted):
    rencontre = meet(accepted, accepted.mentor.user, 3)
    Rencontre.objects.filter(pk=rencontre.pk).update(debut=at(-1))

    services.mark_meeting(rencontre, accepted.mentore.user, RENCONTRE.REALISEE)

    rencontre.refresh_from_db()
    assert rencontre.statut == RENCONTRE.REALISEE
    accepted.refresh_from_db()
    assert accepted.statut == S.EN_COURS
    with pytest.raises(ValidationError) as excinfo:
        services.mark_meeting(rencontre, accepted.mentore.user, RENCONTRE.ANNULEE)
    assert excinfo.value.messages == ["Seule une rencontre planifiée peut changer de statut."]


def test_cancelling_a_planned_meeting(m, accepted):
    mentor_user, mentee_user = accepted.mentor.user, accepted.mentore.user
    rencontre = meet(accepted, mentor_user, 10)
    for user in (UserFactory(), m["delegue_a"]):
        with pytest.raises(ValidationError) as excinfo:
            services.mark_meeting(rencontre, user, RENCONTRE.ANNULEE)
        assert excinfo.value.messages == [
            "Seuls le mentor et le mentoré modifient leurs rencontres."
        ]
    with pytest.raises(ValidationError) as excinfo:
        services.mark_meeting(rencontre, mentee_user, RENCONTRE.REPORTEE)
    assert excinfo.value.messages == ["Statut de rencontre inconnu."]

    services.mark_meeting(rencontre, mentee_user, RENCONTRE.ANNULEE)

    rencontre.refresh_from_db()
    assert rencontre.statut == RENCONTRE.ANNULEE
    assert not outbox_rows(
        rencontre, kind__startswith="session_rappel_", statut="en_attente"
    ).exists()
    assert emails(outbox_rows(rencontre, kind="session_annulation")) == sorted(
        [mentor_user.email, mentee_user.email]
    )
    accepted.refresh_from_db()
    assert accepted.statut == S.ACCEPTE


# --- 9. Silence ----------------------------------------------------------------------


def held(relation, days_ago):
    """A meeting held ``days_ago`` days ago, logged by the mentee."""
    return meet(relation, relation.mentore.user, -days_ago)


def silent_ids(today=None):
    return set(services.silent_relations(today).values_list("pk", flat=True))


def reminders_of(relation):
    return outbox_rows(relation, kind="mentorat_sans_rencontre")


def test_silent_relations_are_those_without_a_meeting_for_eight_weeks():
    old_meeting = running_relation(200)
    held(old_meeting, 57)
    recent_meeting = running_relation(200)
    held(recent_meeting, 57)
    held(recent_meeting, 10)
    just_eight_weeks = running_relation(200)
    held(just_eight_weeks, 56)
    started_long_ago = running_relation(57)
    started_recently = running_relation(30)
    accepted_long_ago = running_relation(70, statut=S.ACCEPTE)
    # A planned meeting is not a meeting held.
    only_planned = running_relation(70)
    meet(only_planned, only_planned.mentor.user, 5)
    # Relations not under way are never silent.
    for statut in (S.PROPOSE, S.TERMINE, S.INTERROMPU, S.DECLINE):
        running_relation(200, statut=statut)

    assert silent_ids() == {
        old_meeting.pk,
        started_long_ago.pk,
        accepted_long_ago.pk,
        only_planned.pk,
    }
    assert recent_meeting.pk not in silent_ids()
    assert just_eight_weeks.pk not in silent_ids()
    assert started_recently.pk not in silent_ids()
    # As seen from another day.
    assert started_recently.pk in silent_ids(timezone.localdate() + timedelta(days=30))
    assert silent_ids(timezone.localdate() - timedelta(days=100)) == set()


def test_task_reminds_both_sides_exactly_once():
    relation = running_relation(200)
    held(relation, 60)
    quiet = running_relation(20)
    mentor_user, mentee_user = relation.mentor.user, relation.mentore.user

    tasks.remind_silent_relations.delay()

    rows = reminders_of(relation)
    assert emails(rows) == sorted([mentor_user.email, mentee_user.email])
    (reference,) = set(rows.values_list("reference_at", flat=True))
    assert timezone.localtime(reference).date() == timezone.localdate() - timedelta(days=4)
    assert not reminders_of(quiet).exists()

    # Again today, and on the following days: the same silence, no second mail.
    tasks.remind_silent_relations.delay()
    for days in (1, 2, 10):
        services.remind_silent(today=timezone.localdate() + timedelta(days=days))
    assert reminders_of(relation).count() == 2
    assert Notification.objects.filter(kind="mentorat_sans_rencontre").count() == 2


def test_relation_silent_from_its_start_is_reminded_once():
    relation = running_relation(60)
    services.remind_silent()
    services.remind_silent()
    rows = reminders_of(relation)
    assert rows.count() == 2
    (reference,) = set(rows.values_list("reference_at", flat=True))
    assert timezone.localtime(reference).date() == relation.date_debut + timedelta(weeks=8)


def test_a_new_silence_after_a_new_meeting_is_reminded_again():
    relation = running_relation(300)
    today = timezone.localdate()
    held(relation, 200)
    services.remind_silent(today=today - timedelta(days=140))
    services.remind_silent(today=today - timedelta(days=139))
    assert reminders_of(relation).count() == 2

    held(relation, 130)
    # The meeting ends the silence: nothing more as long as it is recent.
    services.remind_silent(today=today - timedelta(days=120))
    assert reminders_of(relation).count() == 2

    # Eight weeks after it, a new silence: a new reminder for each side.
    services.remind_silent(today=today - timedelta(days=70))
    services.remind_silent(today=today - timedelta(days=69))
    rows = reminders_of(relation)
    assert rows.count() == 4
    references = {timezone.localtime(r).date() for r in rows.values_list("reference_at", flat=True)}
    assert references == {today - timedelta(days=144), today - timedelta(days=74)}


def test_silence_reminder_skips_a_side_without_account():
    relation = running_relation(60, mentor=MentorFactory())
    services.remind_silent()
    assert emails(reminders_of(relation)) == [relation.mentore.user.email]


# --- 10. The registry --------------------------------------------------------------------


def test_registry_serves_the_real_mentoring_scheme():
    entry = registry.get("mentorat")
    assert entry is mentorat_scheme.SCHEME
    assert entry.create_programme is services.create_from_demande
    assert Rencontre in entry.session_models


def test_programme_cards_for_both_sides(proposed):
    entry = registry.get("mentorat")
    mentor_user, mentee_user = proposed.mentor.user, proposed.mentore.user
    url = reverse("mentorat:detail", args=[proposed.pk])

    (card,) = entry.programmes_for(mentee_user)
    assert card.dispositif == "mentorat"
    assert card.titre == "Mon mentorat"
    assert card.statut == "Proposé"
    assert card.url == url
    assert card.detail == f"Mentor : {proposed.mentor} · 0 rencontre(s)"

    for user in (mentor_user, mentee_user):
        services.accept(proposed, user, charte=True)
    meet(proposed, mentee_user, -2)
    meet(proposed, mentor_user, 7)  # planned: not counted

    (card,) = entry.programmes_for(mentor_user)
    assert card.titre == f"Mentorat de {proposed.mentore}"
    assert card.statut == "En cours"
    assert card.detail == "1 rencontre(s)"
    assert entry.programmes_for(UserFactory()) == []


def test_declined_relation_leaves_the_portal_home(proposed):
    services.decline(proposed, proposed.mentore.user, "Je change de poste.")
    assert registry.get("mentorat").programmes_for(proposed.mentore.user) == []
    assert registry.get("mentorat").programmes_for(proposed.mentor.user) == []


def test_pending_proposal_is_an_action_until_answered(proposed):
    entry = registry.get("mentorat")
    mentor_user, mentee_user = proposed.mentor.user, proposed.mentore.user
    url = reverse("mentorat:detail", args=[proposed.pk])

    (action,) = entry.actions_for(mentor_user)
    assert action.titre == f"Répondre à la proposition de mentorat de {proposed.mentore}"
    assert action.url == url
    (action,) = entry.actions_for(mentee_user)
    assert action.titre == f"Répondre à la proposition de mentorat avec {proposed.mentor}"
    assert entry.actions_for(UserFactory()) == []

    services.accept(proposed, mentor_user, charte=True)
    assert entry.actions_for(mentor_user) == []
    assert len(entry.actions_for(mentee_user)) == 1

    services.accept(proposed, mentee_user, charte=True)
    assert entry.actions_for(mentee_user) == []


def test_declined_proposal_is_no_longer_an_action(proposed):
    services.decline(proposed, proposed.mentor.user, "Plus de disponibilité.")
    assert registry.get("mentorat").actions_for(proposed.mentore.user) == []


def test_meetings_are_seen_by_both_sides_only(m, accepted):
    past = meet(accepted, accepted.mentore.user, -2)
    future = meet(accepted, accepted.mentor.user, 9)
    entry = registry.get("mentorat")
    for user in (accepted.mentor.user, accepted.mentore.user):
        assert set(entry.sessions_for(user)) == {past, future}
    for user in (UserFactory(), m["delegue_a"]):
        assert not entry.sessions_for(user).exists()


def test_swap_refuses_a_mentor_outside_the_campaign_perimeter():
    ministere_a = StructureFactory(nom="Ministère A du périmètre")
    ministere_b = StructureFactory(nom="Ministère B hors périmètre")
    mentee = MentoreFactory(cadre=CadreFactory(structure=ministere_a))
    inside = MentorFactory()
    outside = MentorFactory(structure=ministere_b)
    campagne = Campagne.objects.create(nom="Campagne A")
    campagne.structures.set([ministere_a])
    services.compute(campagne)
    proposition = campagne.propositions.get(mentore=mentee)
    assert proposition.mentor == inside
    with pytest.raises(ValidationError) as error:
        services.swap_proposal(proposition, outside)
    assert "périmètre de la campagne" in str(error.value)
    proposition.refresh_from_db()
    assert proposition.mentor == inside


@pytest.mark.parametrize(
    "override",
    [{"souhait": -1}, {"accompagnement": 60}],
    ids=["negative", "accompagnement-not-dominant"],
)
def test_weights_that_could_leave_a_mentee_out_are_refused(settings, override):
    from django.core.exceptions import ImproperlyConfigured

    settings.MENTORAT_MATCHING_WEIGHTS = {**settings.MENTORAT_MATCHING_WEIGHTS, **override}
    with pytest.raises(ImproperlyConfigured):
        services.weights()
