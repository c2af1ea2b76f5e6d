"""The world the security suite runs against: one of everything, twice.

Two perimeters (ministries A and B), a délégué for each, a national administrator, and
for each portal role a person *with* objects and another person *with other objects*,
so that every page can be asked for someone's own object and for someone else's.

``build_world()`` is called once per test module (see ``conftest.py``) inside a
transaction rolled back at the end of the module; each test runs in a savepoint of it.
"""

import secrets
from datetime import date, timedelta
from types import SimpleNamespace

from django.utils import timezone

from accompagnement.models import CalendarFeed, Demande, Evaluation, Notification
from cadres.models import ImportJob, Invitation, Role, Vivier
from cadres.services import grant_role
from rgpd.models import Trace
from tests.factories import (
    CadreFactory,
    CoachFactory,
    CoachingFactory,
    DomaineFactory,
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
    make_admin,
    make_cadre_user,
    make_delegue,
)

# Every role of the matrix, in the order of its columns.
ROLES = (
    "anonymous",
    "cadre",
    "other_cadre",
    "coach",
    "other_coach",
    "mentor",
    "animateur",
    "other_animateur",
    "tutor",
    "delegue",
    "other_delegue",
    "admin",
)
# Roles without an account: their client is never signed in.
ANONYMOUS_ROLES = {"anonymous", "tutor"}
STAFF_ROLES = {"delegue", "other_delegue", "admin"}


def _working_days(start, count):
    """``count`` working days (Mon-Fri, no French holiday) from ``start``."""
    from accompagnement.working_days import is_working_day

    days, day = [], start
    while len(days) < count:
        if is_working_day(day):
            days.append(day)
        day += timedelta(days=1)
    return days


def _user(**kwargs):
    return UserFactory(**kwargs)


def _role(kind, **kwargs):
    user = _user(**kwargs)
    grant_role(user, kind)
    user.refresh_from_db()
    return user


def _demande(cadre, **kwargs):
    return Demande.objects.create(
        cadre=cadre,
        dispositif=kwargs.pop("dispositif", "coaching"),
        contexte="prise_de_poste",
        motivation="Prendre la mesure d'un nouveau poste de direction.",
        **kwargs,
    )


def _evaluation(coaching, participant):
    from django.contrib.contenttypes.models import ContentType

    return Evaluation.objects.create(
        dispositif="coaching",
        programme_type=ContentType.objects.get_for_model(coaching),
        programme_id=coaching.pk,
        cadre=coaching.cadre,
        participant=participant,
    )


def _immersion(cadre, start):
    from immersion import services
    from immersion.models import Immersion

    immersion = ImmersionFactory(cadre=cadre, jours=_working_days(start, 3))
    immersion.statut = Immersion.Statut.ACCEPTEE
    immersion.save(update_fields=["statut"])
    convention = services.prepare_convention(immersion)
    immersion.refresh_from_db()
    return immersion, convention


def _cohorte(structure, cadres, by):
    from cohortes.models import Cohorte

    start = timezone.localdate()
    cohorte = Cohorte.objects.create(
        nom=f"Cohorte {structure.sigle}",
        structure=structure,
        origine="liste",
        date_debut=start,
        date_fin=start + timedelta(days=200),
        creee_par=by,
    )
    for cadre in cadres:
        cohorte.membres.create(cadre=cadre)
    return cohorte


def _campagne(structure, mentore, mentor, by):
    from mentorat.models import Campagne, Proposition

    campagne = Campagne.objects.create(nom=f"Campagne {structure.sigle}", creee_par=by)
    campagne.structures.set([structure])
    proposition = Proposition.objects.create(
        campagne=campagne, mentore=mentore, mentor=mentor, score=10, criteres=[]
    )
    return campagne, proposition


def _offre(mentore, mentor):
    """An open offer of the waiting queue: a place of ``mentor`` for ``mentore``."""
    from mentorat.models import Offre

    return Offre.objects.create(
        mentor=mentor, mentore=mentore, evenement=Offre.Evenement.FIN, score=100
    )


def _point_etape(mentorat):
    """The mentee's health check of the relation (the mentor's side must not read it)."""
    from mentorat.models import PointEtape

    return PointEtape.objects.create(
        mentorat=mentorat,
        numero=1,
        cote=PointEtape.Cote.MENTORE,
        echeance=timezone.localdate() + timedelta(days=14),
    )


def _document_parcours(cadre):
    from parcours.models import DocumentParcours

    return DocumentParcours.objects.create(
        cadre=cadre,
        nature=DocumentParcours.Nature.BILAN,
        date=timezone.localdate(),
        nom_fichier="bilan.pdf",
        type_fichier="application/pdf",
        contenu=b"%PDF-1.4\n%%EOF\n",
        taille=14,
    )


def _third_party_objects(w):
    """One row for each third-party model registered in the admin."""
    from allauth.account.models import EmailAddress
    from allauth.socialaccount.models import SocialAccount, SocialApp, SocialToken
    from axes.models import AccessAttempt, AccessFailureLog, AccessLog
    from django.contrib.auth.models import Group
    from django.contrib.sites.models import Site

    app = SocialApp.objects.create(provider="openid_connect", name="ProConnect", client_id="x")
    account = SocialAccount.objects.create(user=w.users["cadre"], provider="proconnect", uid="1")
    return {
        "auth.group": Group.objects.first(),
        "sites.site": Site.objects.first(),
        "account.emailaddress": EmailAddress.objects.create(
            user=w.users["cadre"], email=w.cadre.email, verified=True, primary=True
        ),
        "mfa.authenticator": w.users["delegue"].authenticator_set.first(),
        "axes.accessattempt": AccessAttempt.objects.create(
            username="x@example.fr", ip_address="127.0.0.1", failures_since_start=1
        ),
        "axes.accesslog": AccessLog.objects.create(username="x@example.fr", ip_address="127.0.0.1"),
        "axes.accessfailurelog": AccessFailureLog.objects.create(
            username="x@example.fr", ip_address="127.0.0.1"
        ),
        "socialaccount.socialapp": app,
        "socialaccount.socialaccount": account,
        "socialaccount.socialtoken": SocialToken.objects.create(
            app=app, account=account, token="t"
        ),
    }


def build_world():
    from coaching.models import NoteCoach, Specialite
    from immersion import services as immersion_services
    from immersion.models import Signature
    from mentorat.models import NotePrivee, Rencontre

    now = timezone.now()
    w = SimpleNamespace()
    w.a = StructureFactory(nom="Ministère A", sigle="MA")
    w.a_dir = StructureFactory(nom="Direction A1", sigle="DA1", parent=w.a, type="direction")
    w.b = StructureFactory(nom="Ministère B", sigle="MB")

    # --- people -------------------------------------------------------------------
    w.cadre = make_cadre_user(structure=w.a_dir, nom="Alpha")
    w.other_cadre = make_cadre_user(structure=w.b, nom="Bravo")
    w.peer = CadreFactory(structure=w.a_dir, nom="Charlie")  # a group member, no account
    users = {
        "cadre": w.cadre.user,
        "other_cadre": w.other_cadre.user,
        "coach": _role(Role.Kind.COACH),
        "other_coach": _role(Role.Kind.COACH),
        "mentor": _role(Role.Kind.MENTOR),
        "animateur": _role(Role.Kind.ANIMATEUR),
        "other_animateur": _role(Role.Kind.ANIMATEUR),
        "delegue": make_delegue(w.a),
        "other_delegue": make_delegue(w.b),
        "admin": make_admin(),
    }
    w.users = users

    # --- shared referentials -------------------------------------------------------
    w.vivier = Vivier.objects.create(nom="Vivier des futurs directeurs")
    w.specialite, _ = Specialite.objects.get_or_create(
        code="securite-test", defaults={"libelle": "Spécialité de test"}
    )
    w.domaine = DomaineFactory(code="management", libelle="Management")

    # --- requests, evaluations, calendar ------------------------------------------
    w.demande = _demande(w.cadre)
    w.other_demande = _demande(w.other_cadre)
    w.feed = CalendarFeed.objects.create(user=users["cadre"])
    w.other_feed = CalendarFeed.objects.create(user=users["other_cadre"])

    # --- coaching -------------------------------------------------------------------
    w.coach = CoachFactory(user=users["coach"], structure=w.a)
    w.other_coach = CoachFactory(user=users["other_coach"], structure=w.b)
    w.coaching = CoachingFactory(cadre=w.cadre, coach=w.coach, statut="en_cours")
    w.other_coaching = CoachingFactory(cadre=w.other_cadre, coach=w.other_coach, statut="en_cours")
    w.seance_coaching = SeanceCoachingFactory(coaching=w.coaching, numero=1)
    w.other_seance_coaching = SeanceCoachingFactory(coaching=w.other_coaching, numero=1)
    NoteCoach.objects.create(coaching=w.coaching, auteur=users["coach"], texte="Note du coach")
    w.evaluation = _evaluation(w.coaching, users["cadre"])
    w.other_evaluation = _evaluation(w.other_coaching, users["other_cadre"])
    # A second coaching of the cadre, still to assign: a shortlist (the coach and one
    # more) with a discovery meeting booked with the coach.
    from coaching import services as coaching_services

    w.coaching_a_choisir = CoachingFactory(cadre=w.cadre)
    w.preselection = coaching_services.propose_shortlist(
        w.coaching_a_choisir, [w.coach, CoachFactory()]
    )
    w.proposition_coach = w.preselection.propositions.get(coach=w.coach)
    w.entretien = coaching_services.book_meeting(
        w.proposition_coach, debut=timezone.now() + timedelta(days=5), mode="distanciel"
    )

    # --- mentoring -----------------------------------------------------------------
    w.mentor = MentorFactory(user=users["mentor"], structure=w.b, domaines=[w.domaine])
    w.other_mentor = MentorFactory(structure=w.a)  # no account: mentors the other cadre
    w.mentore = MentoreFactory(cadre=w.cadre, besoins=[w.domaine])
    w.other_mentore = MentoreFactory(cadre=w.other_cadre, besoins=[w.domaine])
    w.mentorat = MentoratFactory(mentor=w.mentor, mentore=w.cadre, statut="en_cours")
    w.other_mentorat = MentoratFactory(
        mentor=w.other_mentor, mentore=w.other_cadre, statut="en_cours"
    )
    w.rencontre = Rencontre.objects.create(
        mentorat=w.mentorat, debut=now + timedelta(days=3), saisie_par=users["mentor"]
    )
    w.other_rencontre = Rencontre.objects.create(
        mentorat=w.other_mentorat, debut=now + timedelta(days=3)
    )
    NotePrivee.objects.create(rencontre=w.rencontre, auteur=users["mentor"], texte="Note")
    w.point_etape = _point_etape(w.mentorat)
    w.campagne, w.proposition = _campagne(w.a, w.mentore, w.other_mentor, users["delegue"])
    w.other_campagne, w.other_proposition = _campagne(
        w.b, w.other_mentore, w.mentor, users["other_delegue"]
    )
    w.offre = _offre(w.mentore, w.mentor)
    w.other_offre = _offre(w.other_mentore, w.other_mentor)

    # --- co-development -------------------------------------------------------------
    w.groupe = GroupeFactory(animateur=users["animateur"], structure=w.a)
    w.other_groupe = GroupeFactory(animateur=users["other_animateur"], structure=w.b)
    w.membre = MembreFactory(groupe=w.groupe, cadre=w.cadre)
    w.peer_membre = MembreFactory(groupe=w.groupe, cadre=w.peer)
    w.other_membre = MembreFactory(groupe=w.other_groupe, cadre=w.other_cadre)
    w.seance = SeanceFactory(groupe=w.groupe, numero=1, client=w.membre)
    w.other_seance = SeanceFactory(groupe=w.other_groupe, numero=1, client=w.other_membre)

    # --- immersion ------------------------------------------------------------------
    start = timezone.localdate() + timedelta(days=120)
    w.immersion, w.convention = _immersion(w.cadre, start)
    w.other_immersion, w.other_convention = _immersion(w.other_cadre, start)
    accueil = w.convention.signatures.get(partie=Signature.Partie.ACCUEIL)
    w.signature_token = immersion_services.signature_token(accueil)
    w.feedback_token = immersion_services.feedback_token(w.immersion)

    # --- the cadre's file: a document (bilan de parcours) each -----------------------
    w.document = _document_parcours(w.cadre)
    w.other_document = _document_parcours(w.other_cadre)

    # --- accounts: invitations, import jobs ------------------------------------------
    w.invitation = Invitation.objects.create(user=users["cadre"], invite_par=users["delegue"])
    w.other_invitation = Invitation.objects.create(
        user=users["other_cadre"], invite_par=users["other_delegue"]
    )
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    from cadres.tokens import invitation_token

    # An invitee who never signed in (signing in voids the link: it hashes last_login).
    w.invitee = _user()
    w.invitation_uid = urlsafe_base64_encode(force_bytes(w.invitee.pk))
    w.invitation_token = invitation_token.make_token(w.invitee)
    w.import_job = ImportJob.objects.create(
        nature="cadres", nom_fichier="a.csv", contenu=b"", cree_par=users["delegue"]
    )
    w.other_import_job = ImportJob.objects.create(
        nature="cadres", nom_fichier="b.csv", contenu=b"", cree_par=users["other_delegue"]
    )

    # --- cohort programmes ------------------------------------------------------------
    w.cohorte = _cohorte(w.a, [w.cadre, w.peer], users["delegue"])
    w.other_cohorte = _cohorte(w.b, [w.other_cadre], users["other_delegue"])

    # --- one object per admin model: {label: {"a": in A, "b": in B}} or {"any": obj} --
    third = _third_party_objects(w)
    w.admin_objects = {label: {"any": obj} for label, obj in third.items()}
    w.admin_objects.update(
        {
            "cadres.structure": {"a": w.a_dir, "b": w.b},
            "cadres.vivier": {"any": w.vivier},
            "cadres.cadre": {"a": w.cadre, "b": w.other_cadre},
            "cadres.role": {"any": users["delegue"].roles.first()},
            "cadres.user": {"any": users["cadre"]},
            "cadres.invitation": {"a": w.invitation, "b": w.other_invitation},
            "accompagnement.demande": {"a": w.demande, "b": w.other_demande},
            "accompagnement.evaluation": {"a": w.evaluation, "b": w.other_evaluation},
            "accompagnement.notification": {"any": Notification.objects.first()},
            "coaching.specialite": {"any": w.specialite},
            "coaching.coach": {"a": w.coach, "b": w.other_coach},
            "coaching.coaching": {"a": w.coaching, "b": w.other_coaching},
            "mentorat.domaine": {"any": w.domaine},
            "mentorat.mentor": {"a": w.other_mentor, "b": w.mentor},
            "mentorat.mentore": {"a": w.mentore, "b": w.other_mentore},
            "mentorat.campagne": {"a": w.campagne, "b": w.other_campagne},
            "mentorat.mentorat": {"a": w.mentorat, "b": w.other_mentorat},
            "mentorat.mentoreenattente": {"a": w.mentore, "b": w.other_mentore},
            "mentorat.offre": {"a": w.offre, "b": w.other_offre},
            "codev.groupe": {"a": w.groupe, "b": w.other_groupe},
            "cohortes.cohorte": {"a": w.cohorte, "b": w.other_cohorte},
            "immersion.immersion": {"a": w.immersion, "b": w.other_immersion},
            "rgpd.trace": {
                "a": Trace.objects.filter(cadre=w.cadre).first(),
                "b": Trace.objects.filter(cadre=w.other_cadre).first(),
            },
        }
    )
    w.forged_token = secrets.token_urlsafe(32)
    w.today = date.today()
    return w
