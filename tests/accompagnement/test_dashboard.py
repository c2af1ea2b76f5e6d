"""The délégué's dashboard (/admin/tableau-de-bord/): exact figures and chart data on a
constructed dataset, perimeter scoping (délégué of A, délégué of B, national
administrator, staff without a role), the page (every section, an accessible SVG with
its data table behind each chart, French period errors, access) and constant queries.

The period is April-June 2025: after the spring clock change, so every delay below is
a whole number of hours. Situations "today" (overdue requests, programmes under way)
are computed against the real today (later than the period)."""

import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accompagnement import dashboard
from accompagnement.dashboard import Scope
from accompagnement.models import Demande, Evaluation
from coaching import figures as coaching_figures
from coaching.models import Coaching
from codev import figures as codev_figures
from codev.models import Presence
from immersion import figures as immersion_figures
from mentorat import figures as mentorat_figures
from mentorat.models import Campagne, NonApparie
from tests.factories import (
    CadreFactory,
    CoachFactory,
    CoachingFactory,
    GroupeFactory,
    ImmersionFactory,
    MembreFactory,
    MentoratFactory,
    MentoreFactory,
    MentorFactory,
    SeanceCoachingFactory,
    SeanceFactory,
    StructureFactory,
    UserFactory,
    make_cadre_user,
    make_delegue,
    with_totp,
)

pytestmark = pytest.mark.django_db

PARIS = ZoneInfo("Europe/Paris")
START, END = date(2025, 4, 1), date(2025, 6, 30)
URL = reverse("admin_dashboard")
PERIOD = {"date_debut": START.isoformat(), "date_fin": END.isoformat()}

SCHEMES = [
    "Coaching",
    "Mentorat",
    "Codéveloppement professionnel",
    "Période d'immersion professionnelle",
]
IMMERSION_STATUSES = [
    "Demandée",
    "Accord de la hiérarchie",
    "Refusée",
    "Reportée",
    "Convention en signature",
    "Convention signée",
    "Terminée",
    "Annulée",
]
SECTION_TITLES = [
    "Demandes",
    "Coaching",
    "Mentorat",
    "Codéveloppement",
    "Immersion professionnelle",
    "Satisfaction",
    "Par structure",
    "Égalité femmes-hommes",
]


@pytest.fixture(autouse=True)
def fake_scheme():
    """The shared tests plug a fake scheme in place of coaching; the dashboard needs
    the four real ones."""


def at(y, m, d, hour=9, minute=0):
    return datetime(y, m, d, hour, minute, tzinfo=PARIS)


# --- The constructed dataset -----------------------------------------------------------


@pytest.fixture
def s(two_ministries):
    """Ministry A with two directions (A1 and its service, A2), ministry B with one."""
    m = two_ministries
    return {
        **m,
        "a_dir2": StructureFactory(nom="Direction A2", parent=m["a"], type="direction"),
        "b_dir": StructureFactory(nom="Direction B1", parent=m["b"], type="direction"),
    }


def build(s):
    """Every kind of object, in A and in B, with known figures (see the tests). Can be
    called twice on the same structures (the query-count test): all is new."""
    a_srv, a_dir, a_dir2, b, b_dir = s["a_srv"], s["a_dir"], s["a_dir2"], s["b"], s["b_dir"]
    mme, m_ = "mme", "m"
    # Cadres (besides the fixture's cadre_a in A and cadre_b in B, both women).
    # A: women cadre0, c1, c3, e1; men c2, c4, e2; one inactive man.
    cadre0 = CadreFactory(structure=a_srv)
    c1 = CadreFactory(structure=a_srv, civilite=mme)
    c2 = CadreFactory(structure=a_dir, civilite=m_)
    c3 = make_cadre_user(structure=a_dir2, civilite=mme)
    c4 = CadreFactory(structure=a_dir2, civilite=m_)
    e1 = CadreFactory(structure=a_dir2, civilite=mme)
    e2 = CadreFactory(structure=a_srv, civilite=m_)
    CadreFactory(structure=a_dir, civilite=m_, actif=False)
    # B: women cb, e3; man d1.
    cb = CadreFactory(structure=b, civilite=mme)
    d1 = CadreFactory(structure=b_dir, civilite=m_)
    e3 = CadreFactory(structure=b_dir, civilite=mme)

    # Requests. Delays of the decisions taken in the period, in days:
    # A: 10, 20.5, 4, 7.2, 32, 3 -> sorted 3, 4, 7.2, 10, 20.5, 32 -> median 8.6.
    # B: 1. Both: 1, 3, 4, 7.2, 10, 20.5, 32 -> median 7.2.
    def demande(cadre, dispositif, statut, recue, decidee=None):
        return Demande.objects.create(
            cadre=cadre,
            dispositif=dispositif,
            contexte="prise_de_poste",
            motivation="Motivation.",
            statut=statut,
            recue_le=recue,
            decidee_le=decidee,
        )

    demande(c1, "coaching", "acceptee", at(2025, 4, 2), at(2025, 4, 12))  # 10
    demande(c2, "coaching", "refusee", at(2025, 4, 5), at(2025, 4, 25, 21))  # 20.5
    demande(c3, "mentorat", "acceptee", at(2025, 4, 10), at(2025, 4, 14))  # 4
    demande(c4, "immersion", "reportee", at(2025, 5, 2), at(2025, 5, 9, 13, 48))  # 7.2
    demande(c3, "codev", "acceptee", at(2025, 5, 20), at(2025, 6, 21))  # 32
    demande(c1, "mentorat", "soumise", at(2025, 6, 1))  # open, overdue today
    demande(c2, "codev", "acceptee", at(2025, 3, 31), at(2025, 4, 3))  # decided only: 3
    demande(c4, "coaching", "acceptee", at(2025, 6, 20), at(2025, 7, 10))  # received only
    demande(c1, "immersion", "refusee", at(2025, 1, 10), at(2025, 1, 20))  # outside
    demande(c2, "immersion", "en_instruction", timezone.now())  # open, not overdue
    demande(cb, "coaching", "acceptee", at(2025, 4, 15), at(2025, 4, 16))  # B: 1
    demande(d1, "mentorat", "soumise", at(2025, 5, 5))  # B: overdue

    # Satisfaction: A coaching 4, 5, 5 (shown, 4.7); A mentorat 5, 3 (two: hidden);
    # A codev 4, 2 and one answer without a satisfaction (two: hidden); B coaching
    # 1, 2, 3 (2.0); B mentorat 4 (so both ministries: mentorat 5, 3, 4 -> 4.0).
    coaching_type = ContentType.objects.get_for_model(Coaching)

    in_period = at(2025, 5, 15)

    def evaluation(cadre, dispositif, satisfaction, remplie=in_period):
        Evaluation.objects.create(
            dispositif=dispositif,
            programme_type=coaching_type,
            programme_id=cadre.pk,
            cadre=cadre,
            participant=UserFactory(),
            satisfaction=satisfaction,
            remplie_le=remplie,
        )

    for note in (4, 5, 5):
        evaluation(c1, "coaching", note)
    evaluation(c1, "coaching", 1, remplie=at(2025, 3, 1))  # before the period
    evaluation(c1, "coaching", None, remplie=None)  # not answered
    for note in (5, 3):
        evaluation(c2, "mentorat", note)
    for note in (4, 2, None):
        evaluation(c3, "codev", note)
    for note in (1, 2, 3):
        evaluation(cb, "coaching", note)
    evaluation(cb, "mentorat", 4)

    # Coaching. X (capacity 3) holds k1 and k2; Y (capacity 2) holds only kb1, in B.
    x = CoachFactory(prenom="Anne", nom="Durand", capacite=3)
    y = CoachFactory(prenom="Bruno", nom="Leroy", capacite=2)
    z = CoachFactory(prenom="Zoé", nom="Zola", actif=False)

    def coaching(cadre, coach, statut, debut=None, fin=None):
        return CoachingFactory(
            cadre=cadre, coach=coach, statut=statut, date_debut=debut, date_fin=fin
        )

    k1 = coaching(c1, x, "en_cours", date(2025, 4, 10))  # started in the period
    coaching(c2, x, "contractualise", date(2025, 7, 15))
    coaching(c3, y, "termine", date(2025, 1, 10), date(2025, 5, 20))
    k4 = coaching(c4, y, "interrompu", date(2025, 4, 5), date(2025, 6, 10))
    coaching(cadre0, None, "a_affecter")
    coaching(c1, y, "termine", date(2024, 6, 1), date(2024, 12, 1))
    coaching(cadre0, z, "termine", date(2024, 3, 1), date(2024, 10, 1))
    coaching(cb, y, "en_cours", date(2025, 5, 1))  # B
    for n, (day, statut) in enumerate(
        [
            (at(2025, 4, 20), "realisee"),
            (at(2025, 5, 20), "realisee"),
            (at(2025, 6, 20), "planifiee"),
            (at(2025, 7, 10), "realisee"),  # after the period
        ],
        1,
    ):
        SeanceCoachingFactory(coaching=k1, numero=n, debut=day, statut=statut)
    SeanceCoachingFactory(coaching=k4, numero=1, debut=at(2025, 4, 25), statut="annulee")

    # Co-development. Alpha (A1, under way today): held séances 3/4 and 2/4 present;
    # Bêta (A2, under way at the end of the period, over today): 2/2; Gamma (B, under
    # way): 1/2.
    today = timezone.localdate()
    alpha = GroupeFactory(
        nom="Groupe Alpha",
        structure=a_dir,
        date_debut=date(2025, 3, 1),
        date_fin=today + timedelta(60),
    )
    beta = GroupeFactory(
        nom="Groupe Bêta", structure=a_dir2, date_debut=date(2025, 2, 1), date_fin=date(2025, 9, 30)
    )
    gamma = GroupeFactory(
        nom="Groupe Gamma",
        structure=b_dir,
        date_debut=date(2025, 3, 1),
        date_fin=today + timedelta(60),
    )

    def seance(groupe, numero, debut, statut, presents=()):
        seance = SeanceFactory(groupe=groupe, numero=numero, debut=debut, statut=statut)
        if presents:
            Presence.objects.bulk_create(
                Presence(seance=seance, membre=membre, present=present)
                for membre, present in zip(groupe.membres.order_by("pk"), presents, strict=True)
            )

    for groupe, cadres in ((alpha, [c1, c2, c3, c4]), (beta, [c3, cadre0]), (gamma, [d1, cb])):
        for cadre in cadres:
            MembreFactory(groupe=groupe, cadre=cadre, date_entree=groupe.date_debut)
    seance(alpha, 1, at(2025, 3, 15, 14), "realisee", [True] * 4)  # before the period
    seance(alpha, 2, at(2025, 4, 15, 14), "realisee", [True, True, True, False])
    seance(alpha, 3, at(2025, 5, 15, 14), "realisee", [True, True, False, False])
    seance(alpha, 4, at(2025, 6, 15, 14), "planifiee")
    seance(alpha, 5, at(2025, 7, 15, 14), "realisee", [True] * 4)  # after the period
    seance(beta, 1, at(2025, 5, 5, 14), "realisee", [True, True])
    seance(gamma, 1, at(2025, 4, 20, 14), "realisee", [True, False])

    # Immersion. Days in the period of immersions that count: 3 + 1 + 2 (A), 2 (B).
    def days(*spec):
        return [date(2025, mo, d) for mo, d in spec]

    ImmersionFactory(cadre=c1, statut="terminee", jours=days((5, 12), (5, 13), (5, 14)))
    ImmersionFactory(cadre=c2, statut="signee", jours=days((6, 30), (7, 1), (7, 2)))
    ImmersionFactory(cadre=c3, statut="refusee", jours=days((5, 20), (5, 21)))
    ImmersionFactory(cadre=c4, statut="demandee", jours=days((9, 1), (9, 2)))
    ImmersionFactory(cadre=cadre0, statut="annulee", jours=days((4, 10), (4, 11)))
    ImmersionFactory(cadre=c1, statut="acceptee", jours=days((4, 28), (4, 29)))
    ImmersionFactory(cadre=cb, statut="en_signature", jours=days((6, 2), (6, 3)))

    # Mentoring. The campaign of A (in the period): 4 accepted (live, over or
    # interrupted), 1 proposed, 1 declined, 2 unmatched.
    m1, m2 = MentorFactory(), MentorFactory()
    for cadre in (e1, e2, e3):
        MentoreFactory(cadre=cadre)  # waiting
    MentoreFactory(cadre=c2, statut="accompagne")

    def campagne(nom, structures, confirmee_le, statut="confirmee"):
        campagne = Campagne.objects.create(nom=nom, statut=statut, confirmee_le=confirmee_le)
        campagne.structures.set(structures)
        return campagne

    ca = campagne("Campagne printemps A", [s["a"]], at(2025, 5, 15, 12))
    campagne("Campagne hiver A", [s["a"]], at(2025, 1, 15, 12))  # before the period
    campagne("Campagne à relire A", [a_dir], None, statut="calculee")
    cross = campagne("Campagne nationale", [s["a"], b], at(2025, 6, 1, 12))  # A and B
    cb_campagne = campagne("Campagne B", [b], at(2025, 4, 20, 12))

    def mentorat(mentor, mentore, statut, campagne=None, debut=date(2025, 5, 20), fin=None):
        return MentoratFactory(
            mentor=mentor,
            mentore=mentore,
            statut=statut,
            campagne=campagne,
            date_debut=debut,
            date_fin=fin,
        )

    r1 = mentorat(m1, c1, "accepte", ca)
    r2 = mentorat(m1, c2, "en_cours", ca)
    mentorat(m2, c3, "decline", ca)
    mentorat(m2, c4, "propose", ca)
    mentorat(m1, cadre0, "termine", ca, fin=date(2025, 6, 25))
    mentorat(m2, c3, "interrompu", ca, fin=date(2025, 6, 1))
    mentorat(m2, c4, "termine", debut=date(2024, 3, 1), fin=date(2025, 1, 31))
    rb = mentorat(m2, d1, "en_cours", cb_campagne, debut=date(2025, 4, 25))
    for campagne_, mentore in ((ca, e1), (ca, e2), (cross, e1), (cross, e3), (cb_campagne, e3)):
        NonApparie.objects.create(
            campagne=campagne_, mentore=mentore.mentore, motif="Aucun mentor disponible."
        )
    for relation, debut, statut in (
        (r2, at(2025, 5, 25), "realisee"),
        (r2, at(2025, 6, 10), "realisee"),
        (r2, at(2025, 6, 28), "planifiee"),
        (r2, at(2025, 7, 5), "realisee"),  # after the period
        (r1, at(2025, 6, 5), "annulee"),
        (rb, at(2025, 4, 30), "realisee"),
    ):
        relation.rencontres.create(debut=debut, duree=60, statut=statut)


@pytest.fixture
def data(s):
    build(s)
    return s


def scope_of(user):
    return Scope(user, START, END)


def chart_data(chart):
    return chart.categories, [(name, list(values)) for name, values in chart.series]


def only(sections):
    assert len(sections) == 1
    return sections[0]


def requests_series(*statuses_with_values):
    """Series of the requests chart: every status, zero unless given."""
    given = dict(statuses_with_values)
    statuses = ["Soumise", "En instruction", "Acceptée", "Refusée", "Reportée"]
    return [(status, given.get(status, [0, 0, 0, 0])) for status in statuses]


# --- Exact figures for the délégué of A ------------------------------------------------


def test_requests_of_delegue_a(data):
    section = dashboard.requests_section(scope_of(data["delegue_a"]))
    assert section.titre == "Demandes"
    assert section.figures == [
        ("Demandes reçues", 7),
        ("dont acceptées", 4),
        ("Décisions rendues", 6),
        ("Délai médian de décision (jours)", 8.6),  # (7.2 + 10) / 2
        ("Demandes en retard aujourd'hui", 1),
    ]
    (chart,) = section.charts
    assert chart_data(chart) == (
        SCHEMES,
        requests_series(
            ("Soumise", [0, 1, 0, 0]),
            ("Acceptée", [2, 1, 1, 0]),
            ("Refusée", [1, 0, 0, 0]),
            ("Reportée", [0, 0, 0, 1]),
        ),
    )


def test_satisfaction_of_delegue_a_hides_averages_under_three_answers(data):
    section = dashboard.satisfaction_section(scope_of(data["delegue_a"]))
    # Coaching: 4, 5, 5 (the answer before the period and the pending one are out).
    # Mentorat 2 answers, codev 2 with a satisfaction: not shown.
    assert section.figures == [("Coaching (3 réponses)", 4.7)]
    (chart,) = section.charts
    assert chart_data(chart) == (["Coaching"], [("Satisfaction moyenne", [4.67])])
    assert chart.scale == 5
    assert "3 réponses" in section.note


def test_by_structure_of_delegue_a_is_one_level_below_the_ministry(data):
    section = dashboard.structure_section(scope_of(data["delegue_a"]))
    (chart,) = section.charts
    # A2: 4 received (3 accepted); A1 with its service: 3 received (1 accepted).
    assert chart_data(chart) == (
        ["Direction A2", "Direction A1"],
        [("Acceptées", [3, 1]), ("Autres décisions ou en cours", [1, 2])],
    )


def test_gender_of_delegue_a(data):
    section = dashboard.gender_section(scope_of(data["delegue_a"]))
    assert section.figures == [
        ("Cadres du périmètre : femmes", 5),
        ("Cadres du périmètre : hommes", 3),  # the inactive one is not counted
    ]
    received, accepted = section.charts
    assert chart_data(received) == (
        SCHEMES,
        [("Femmes", [1, 2, 1, 0]), ("Hommes", [2, 0, 0, 1])],
    )
    assert chart_data(accepted) == (
        SCHEMES,
        [("Femmes", [1, 1, 1, 0]), ("Hommes", [1, 0, 0, 0])],
    )


def test_coaching_of_delegue_a(data):
    section = only(coaching_figures.sections(scope_of(data["delegue_a"])))
    assert section.figures == [
        ("Coachings en cours aujourd'hui", 2),
        ("Coachings à affecter", 1),
        ("Commencés sur la période", 2),
        ("Terminés sur la période", 1),
        ("Interrompus sur la période", 1),
        ("Séances réalisées sur la période", 2),
    ]
    (chart,) = section.charts
    # A coach's whole load counts against their capacity, B's coaching too; the
    # inactive coach is not listed.
    assert chart_data(chart) == (
        ["Anne DURAND", "Bruno LEROY"],
        [("Coachings en cours", [2, 1]), ("Places libres", [1, 1])],
    )


def test_codev_of_delegue_a(data):
    section = only(codev_figures.sections(scope_of(data["delegue_a"])))
    assert section.figures == [
        ("Groupes en cours aujourd'hui", 1),
        ("Séances tenues sur la période", 3),
        ("Séances prévues sur la période", 4),
        ("Taux de présence (%)", 70.0),  # 3 + 2 + 2 present out of 4 + 4 + 2
    ]
    (chart,) = section.charts
    assert chart_data(chart) == (["Groupe Alpha", "Groupe Bêta"], [("Présence", [62.5, 100.0])])
    assert chart.scale == 100


def test_immersion_of_delegue_a(data):
    section = only(immersion_figures.sections(scope_of(data["delegue_a"])))
    assert section.figures == [
        ("Immersions (tous statuts)", 6),
        ("Jours d'immersion sur la période", 6),  # 3 + 1 + 2; refused, cancelled: none
        ("Conventions signées", 1),
    ]
    (chart,) = section.charts
    assert chart_data(chart) == (IMMERSION_STATUSES, [("Immersions", [1, 1, 1, 0, 0, 1, 1, 1])])


def test_mentoring_of_delegue_a(data):
    section = only(mentorat_figures.sections(scope_of(data["delegue_a"])))
    assert section.figures == [
        ("Mentorats en cours aujourd'hui", 2),
        ("Propositions en attente de réponse", 1),
        ("Mentorés en attente d'un mentor", 2),
        ("Terminés sur la période", 1),
        ("Interrompus sur la période", 1),
        ("Rencontres tenues sur la période", 2),
    ]
    (chart,) = section.charts
    # Not the winter campaign (before), the one to review, nor the national one (B too).
    assert chart_data(chart) == (
        ["Campagne printemps A"],
        [
            ("Acceptés ou en cours", [4]),
            ("En attente de réponse", [1]),
            ("Déclinés", [1]),
            ("Non appariés", [2]),
        ],
    )


def test_every_section_comes_through_the_registry(data):
    sections = dashboard.sections(scope_of(data["delegue_a"]))
    assert sorted(section.titre for section in sections) == sorted(SECTION_TITLES)
    assert sections[0].titre == "Demandes"
    assert [section.titre for section in sections[-3:]] == SECTION_TITLES[-3:]


# --- Perimeter -------------------------------------------------------------------------


def figures_of(user):
    """{section title: (figures, [chart data])} over the period."""
    return {
        section.titre: (section.figures, [chart_data(chart) for chart in section.charts])
        for section in dashboard.sections(scope_of(user))
    }


def test_delegue_b_sees_b_only(data):
    f = figures_of(data["delegue_b"])
    assert f["Demandes"] == (
        [
            ("Demandes reçues", 2),
            ("dont acceptées", 1),
            ("Décisions rendues", 1),
            ("Délai médian de décision (jours)", 1.0),
            ("Demandes en retard aujourd'hui", 1),
        ],
        [
            (
                SCHEMES,
                requests_series(("Soumise", [0, 1, 0, 0]), ("Acceptée", [1, 0, 0, 0])),
            )
        ],
    )
    assert f["Satisfaction"] == (
        [("Coaching (3 réponses)", 2.0)],
        [(["Coaching"], [("Satisfaction moyenne", [2.0])])],
    )
    # The cadre placed at the ministry itself is its own branch.
    assert f["Par structure"] == (
        [],
        [
            (
                ["Direction B1", "Ministère B"],
                [("Acceptées", [0, 1]), ("Autres décisions ou en cours", [1, 0])],
            )
        ],
    )
    assert f["Égalité femmes-hommes"] == (
        [("Cadres du périmètre : femmes", 3), ("Cadres du périmètre : hommes", 1)],
        [
            (SCHEMES, [("Femmes", [1, 0, 0, 0]), ("Hommes", [0, 1, 0, 0])]),
            (SCHEMES, [("Femmes", [1, 0, 0, 0]), ("Hommes", [0, 0, 0, 0])]),
        ],
    )
    assert f["Coaching"] == (
        [
            ("Coachings en cours aujourd'hui", 1),
            ("Coachings à affecter", 0),
            ("Commencés sur la période", 1),
            ("Terminés sur la période", 0),
            ("Interrompus sur la période", 0),
            ("Séances réalisées sur la période", 0),
        ],
        [(["Bruno LEROY"], [("Coachings en cours", [1]), ("Places libres", [1])])],
    )
    assert f["Codéveloppement"] == (
        [
            ("Groupes en cours aujourd'hui", 1),
            ("Séances tenues sur la période", 1),
            ("Séances prévues sur la période", 1),
            ("Taux de présence (%)", 50.0),
        ],
        [(["Groupe Gamma"], [("Présence", [50.0])])],
    )
    assert f["Immersion professionnelle"] == (
        [
            ("Immersions (tous statuts)", 1),
            ("Jours d'immersion sur la période", 2),
            ("Conventions signées", 0),
        ],
        [(IMMERSION_STATUSES, [("Immersions", [0, 0, 0, 0, 1, 0, 0, 0])])],
    )
    assert f["Mentorat"] == (
        [
            ("Mentorats en cours aujourd'hui", 1),
            ("Propositions en attente de réponse", 0),
            ("Mentorés en attente d'un mentor", 1),
            ("Terminés sur la période", 0),
            ("Interrompus sur la période", 0),
            ("Rencontres tenues sur la période", 1),
        ],
        [
            (
                ["Campagne B"],
                [
                    ("Acceptés ou en cours", [1]),
                    ("En attente de réponse", [0]),
                    ("Déclinés", [0]),
                    ("Non appariés", [1]),
                ],
            )
        ],
    )


def test_national_administrator_sees_both_ministries(data):
    f = figures_of(data["admin"])
    assert f["Demandes"][0] == [
        ("Demandes reçues", 9),
        ("dont acceptées", 5),
        ("Décisions rendues", 7),
        ("Délai médian de décision (jours)", 7.2),  # 1, 3, 4, 7.2, 10, 20.5, 32
        ("Demandes en retard aujourd'hui", 2),
    ]
    assert f["Satisfaction"] == (
        [("Coaching (6 réponses)", 3.3), ("Mentorat (3 réponses)", 4.0)],
        [(["Coaching", "Mentorat"], [("Satisfaction moyenne", [3.33, 4.0])])],
    )
    # One level below the national root: the ministries.
    assert f["Par structure"][1] == [
        (
            ["Ministère A", "Ministère B"],
            [("Acceptées", [4, 1]), ("Autres décisions ou en cours", [3, 1])],
        )
    ]
    assert f["Égalité femmes-hommes"][0] == [
        ("Cadres du périmètre : femmes", 8),
        ("Cadres du périmètre : hommes", 4),
    ]
    assert f["Coaching"] == (
        [
            ("Coachings en cours aujourd'hui", 3),
            ("Coachings à affecter", 1),
            ("Commencés sur la période", 3),
            ("Terminés sur la période", 1),
            ("Interrompus sur la période", 1),
            ("Séances réalisées sur la période", 2),
        ],
        [
            (
                ["Anne DURAND", "Bruno LEROY"],
                [("Coachings en cours", [2, 1]), ("Places libres", [1, 1])],
            )
        ],
    )
    assert f["Codéveloppement"] == (
        [
            ("Groupes en cours aujourd'hui", 2),
            ("Séances tenues sur la période", 4),
            ("Séances prévues sur la période", 5),
            ("Taux de présence (%)", 66.7),  # 8 / 12
        ],
        [
            (
                ["Groupe Alpha", "Groupe Bêta", "Groupe Gamma"],
                [("Présence", [62.5, 100.0, 50.0])],
            )
        ],
    )
    assert f["Immersion professionnelle"] == (
        [
            ("Immersions (tous statuts)", 7),
            ("Jours d'immersion sur la période", 8),
            ("Conventions signées", 1),
        ],
        [(IMMERSION_STATUSES, [("Immersions", [1, 1, 1, 0, 1, 1, 1, 1])])],
    )
    assert f["Mentorat"] == (
        [
            ("Mentorats en cours aujourd'hui", 3),
            ("Propositions en attente de réponse", 1),
            ("Mentorés en attente d'un mentor", 3),
            ("Terminés sur la période", 1),
            ("Interrompus sur la période", 1),
            ("Rencontres tenues sur la période", 3),
        ],
        [
            (
                ["Campagne nationale", "Campagne printemps A", "Campagne B"],
                [
                    ("Acceptés ou en cours", [0, 4, 1]),
                    ("En attente de réponse", [0, 1, 0]),
                    ("Déclinés", [0, 1, 0]),
                    ("Non appariés", [2, 2, 1]),
                ],
            )
        ],
    )


def test_staff_without_a_role_sees_zeros(data):
    staff = UserFactory(is_staff=True)
    for section in dashboard.sections(scope_of(staff)):
        for label, value in section.figures:
            assert value in (0, None), (section.titre, label, value)
        for chart in section.charts:
            assert chart.is_empty, (section.titre, chart.titre)


def test_delegue_of_a_direction_sees_its_services(data):
    """A perimeter one level lower breaks down one level lower too."""
    delegue = make_delegue(data["a_dir"], mfa=False)
    section = dashboard.structure_section(scope_of(delegue))
    # c1 (twice) in the service, c2 at the direction itself.
    assert chart_data(section.charts[0]) == (
        ["Service A1-1", "Direction A1"],
        [("Acceptées", [1, 0]), ("Autres décisions ou en cours", [1, 1])],
    )


def test_an_empty_period_gives_zeros_and_no_median(data):
    scope = Scope(data["delegue_a"], date(2020, 1, 1), date(2020, 12, 31))
    figures = dict(dashboard.requests_section(scope).figures)
    assert figures["Demandes reçues"] == 0
    assert figures["Délai médian de décision (jours)"] is None
    assert figures["Demandes en retard aujourd'hui"] == 1  # today, whatever the period
    assert dashboard.satisfaction_section(scope).charts[0].is_empty


# --- The page --------------------------------------------------------------------------


def charts_in(page):
    """{chart id: HTML of its <figure>}."""
    return dict(
        re.findall(r'<figure class="graphique" id="graphique-([\d-]+)">(.*?)</figure>', page, re.S)
    )


def test_the_page_shows_every_section_and_accessible_charts(client, data):
    client.force_login(data["delegue_a"])
    response = client.get(URL, PERIOD)
    assert response.status_code == 200
    assert response.context["start"] == START and response.context["end"] == END
    page = response.content.decode()
    for title in SECTION_TITLES:
        assert re.search(rf'<h2 id="section-\d+">{re.escape(title)}</h2>', page), title
    charts = charts_in(page)
    assert len(charts) == 9  # all non-empty on this dataset
    for chart_id, html in charts.items():
        assert "Aucune donnée" not in html, chart_id
        assert f'<figcaption id="titre-graphique-{chart_id}">' in html
        assert f'<svg role="img" aria-labelledby="titre-graphique-{chart_id}"' in html
        assert f'aria-describedby="donnees-graphique-{chart_id}"' in html
        assert f'<table id="donnees-graphique-{chart_id}">' in html
        assert re.search(r"<caption>[^<]+</caption>", html)
    # French figures in the text: the median, a rate in the data table.
    assert "<dd>8,6</dd>" in page
    assert "<td>62,5</td>" in page


def test_svg_numbers_are_not_localised(client, data):
    client.force_login(data["delegue_a"])
    page = client.get(URL, PERIOD).content.decode()
    svgs = re.findall(r'<svg role="img".*?</svg>', page, re.S)
    assert len(svgs) == 9
    attributes = [value for svg in svgs for value in re.findall(r'="([^"]*)"', svg)]
    assert any(re.fullmatch(r"\d+\.\d", value) for value in attributes)  # 237.5 and co
    assert not [value for value in attributes if re.search(r"\d,\d", value)]
    # Codev Alpha at 62.5 % of a 380-unit bar: 237.5 wide, written with a dot.
    assert 'width="237.5"' in page


def test_an_empty_chart_says_so_without_an_svg(client, s):
    client.force_login(s["delegue_a"])
    page = client.get(URL, PERIOD).content.decode()
    charts = charts_in(page)
    assert charts and all("Aucune donnée sur la période." in html for html in charts.values())
    assert '<svg role="img"' not in page


def test_the_end_before_the_start_is_refused_in_french(client, data):
    client.force_login(data["delegue_a"])
    response = client.get(URL, {"date_debut": "2025-06-30", "date_fin": "2025-04-01"})
    assert response.status_code == 200
    assert "La fin de la période précède son début." in response.content.decode()
    assert (response.context["start"], response.context["end"]) == dashboard.default_period()


def test_more_than_five_years_is_refused(client, data):
    client.force_login(data["delegue_a"])
    response = client.get(URL, {"date_debut": "2019-01-01", "date_fin": "2025-06-30"})
    assert response.status_code == 200
    assert "Choisissez une période de 5 ans au plus." in response.content.decode()
    assert (response.context["start"], response.context["end"]) == dashboard.default_period()


def test_a_malformed_date_falls_back_to_the_default_period(client, data):
    client.force_login(data["delegue_a"])
    response = client.get(URL, {"date_debut": "hier", "date_fin": "2025-06-30"})
    assert response.status_code == 200
    assert response.context["form"].errors["date_debut"]
    assert (response.context["start"], response.context["end"]) == dashboard.default_period()


def test_french_dates_are_accepted(client, data):
    client.force_login(data["delegue_a"])
    response = client.get(URL, {"date_debut": "01/04/2025", "date_fin": "30/06/2025"})
    assert (response.context["start"], response.context["end"]) == (START, END)


def test_each_delegue_s_page_shows_their_own_figures(client, data):
    client.force_login(data["delegue_b"])
    page = client.get(URL, PERIOD).content.decode()
    assert "Groupe Gamma" in page and "Campagne B" in page
    assert "Groupe Alpha" not in page and "Campagne printemps A" not in page
    assert "Direction A1" not in page


def test_a_national_administrator_gets_the_page(client, data):
    client.force_login(data["admin"])
    response = client.get(URL, PERIOD)
    assert response.status_code == 200
    assert "Ministère A" in response.content.decode()


def test_a_staff_member_without_a_role_gets_an_empty_page(client, data):
    staff = with_totp(UserFactory(is_staff=True))
    client.force_login(staff)
    response = client.get(URL, PERIOD)
    assert response.status_code == 200
    assert '<svg role="img"' not in response.content.decode()


def test_a_non_staff_user_is_sent_to_sign_in(client, data):
    cadre = make_cadre_user(structure=data["a_srv"])
    client.force_login(cadre.user)
    response = client.get(URL)
    assert response.status_code == 302
    assert response.url.startswith(reverse("admin:login"))
    assert client.get(URL, follow=True).status_code != 200


def test_anonymous_is_sent_to_sign_in(client):
    response = client.get(URL, follow=True)
    assert response.redirect_chain
    assert response.redirect_chain[-1][0].startswith(reverse("account_login"))
    assert "tableau-de-bord" in response.redirect_chain[-1][0]


# --- Queries ---------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["delegue_a", "admin"])
def test_the_page_s_queries_do_not_grow_with_the_data(client, s, who):
    client.force_login(s[who])

    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert client.get(URL, PERIOD).status_code == 200
        return len(captured)

    build(s)
    once = queries()
    build(s)
    build(s)
    assert queries() == once
    assert once <= 35, once
