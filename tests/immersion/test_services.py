"""Immersion requests through their services: the request and its days, the décret's
rules with nothing saved on refusal, which immersions count in the ceiling, the
decision workflow, the convention and its signatories on acceptance, the outbox rows,
new versions on a change to what the convention states, and the registry entry.

The PDF itself is tested with the convention (test_convention.py): here it is a
stand-in, so that these tests stay fast and independent of the template."""

import hashlib
import re
from datetime import datetime, time, timedelta

import pytest
from dateutil.relativedelta import relativedelta
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from accompagnement import registry
from accompagnement.models import Dispositif, Notification
from immersion import services
from immersion.models import Convention, Immersion, JourImmersion, Signature
from tests.factories import ImmersionFactory, make_cadre_user
from tests.immersion.builders import request_data, working_days

S = Immersion.Statut


def ahead(count, months=4):
    """``count`` working days starting about ``months`` months from today."""
    return working_days(timezone.localdate() + relativedelta(months=months), count)


@pytest.fixture(autouse=True)
def fake_pdf(monkeypatch):
    def render_pdf(immersion, version):
        return f"%PDF-stand-in v{version} {services.content_fingerprint(immersion)}".encode()

    monkeypatch.setattr(services, "render_pdf", render_pdf)


@pytest.fixture
def m(two_ministries):
    return two_ministries


@pytest.fixture
def cadre(m):
    return make_cadre_user(structure=m["a_srv"], prenom="Claire", nom="Martin")


@pytest.fixture
def immersion(cadre):
    return services.submit(cadre, ahead(5), by=cadre.user, **request_data())


@pytest.fixture
def accepted(immersion, m):
    return services.decide(immersion, S.ACCEPTEE, by=m["delegue_a"])


def rows(target, kind=None, **filters):
    qs = Notification.objects.filter(
        object_type=ContentType.objects.get_for_model(target), object_id=target.pk, **filters
    )
    return qs.filter(kind=kind) if kind else qs


def morning(day):
    return timezone.make_aware(datetime.combine(day, time(8, 0)))


# --- The request -----------------------------------------------------------------------


def test_submit_saves_the_request_and_its_days(cadre):
    days = ahead(4)
    immersion = services.submit(
        cadre, [days[2], days[0], days[3], days[1], days[0]], **request_data()
    )
    immersion.refresh_from_db()
    assert immersion.statut == S.DEMANDEE
    assert immersion.recue_le == timezone.localdate()
    assert immersion.structure_accueil == "Préfecture de la Gironde"
    assert not immersion.accord_delai_court
    assert list(immersion.jours.values_list("date", flat=True)) == days  # sorted, once each
    assert immersion.dates == days


def test_submit_keeps_a_given_receipt_date_and_the_short_notice_agreement(cadre):
    days = ahead(2, months=1)
    with pytest.raises(ValidationError):
        services.submit(cadre, days, **request_data())
    immersion = services.submit(cadre, days, accord_delai_court=True, **request_data())
    assert immersion.accord_delai_court
    received = timezone.localdate() - timedelta(days=3)
    other = services.submit(cadre, ahead(2, months=6), recue_le=received, **request_data())
    assert other.recue_le == received


@pytest.mark.parametrize(
    ("days", "message"),
    [
        (lambda: ahead(1), "Une immersion dure au moins 2 jours ouvrés (1 indiqué)."),
        (lambda: ahead(11), "Une immersion dure au plus 10 jours ouvrés (11 indiqués)."),
        (lambda: ahead(2, months=2), "La demande doit être faite au moins trois mois"),
        (
            lambda: [d + timedelta(days=5 - d.weekday()) for d in ahead(1)] + ahead(2),
            "est un week-end : seuls les jours ouvrés comptent.",
        ),
    ],
)
def test_an_invalid_request_is_refused_and_nothing_is_saved(cadre, days, message):
    with pytest.raises(ValidationError) as refused:
        services.submit(cadre, days(), **request_data())
    assert list(refused.value.message_dict) == ["jours"]
    assert any(message in error for error in refused.value.message_dict["jours"])
    assert not Immersion.objects.exists()
    assert not JourImmersion.objects.exists()
    assert not Notification.objects.exists()


def test_the_ceiling_counts_the_agents_other_immersions(cadre):
    ImmersionFactory(
        cadre=cadre,
        statut=S.TERMINEE,
        jours=working_days(timezone.localdate() - relativedelta(years=1), 10),
    )
    ImmersionFactory(cadre=cadre, statut=S.SIGNEE, jours=ahead(8, months=8))
    with pytest.raises(ValidationError) as refused:
        services.submit(cadre, ahead(3), **request_data())
    (error,) = refused.value.message_dict["jours"]
    assert "porterait vos jours d'immersion à 21, au-delà du plafond de 20 jours." in error
    assert Immersion.objects.count() == 2
    assert services.submit(cadre, ahead(2), **request_data()).dates == ahead(2)


def test_refused_and_cancelled_immersions_do_not_count(cadre):
    done = working_days(timezone.localdate() - relativedelta(months=6), 3)
    planned = ahead(4, months=9)
    ImmersionFactory(cadre=cadre, statut=S.TERMINEE, jours=done)
    ImmersionFactory(cadre=cadre, statut=S.REPORTEE, jours=planned)
    ImmersionFactory(cadre=cadre, statut=S.REFUSEE, jours=ahead(10, months=5))
    ImmersionFactory(cadre=cadre, statut=S.ANNULEE, jours=ahead(10, months=7))
    ImmersionFactory(jours=ahead(10, months=10))  # someone else's
    assert sorted(services.other_days(cadre)) == done + planned
    # 3 + 4 + 10 = 17: accepted, whereas the refused and cancelled days would exceed 20.
    assert services.submit(cadre, ahead(10), **request_data()).statut == S.DEMANDEE


def test_other_days_leave_out_the_immersion_being_changed(immersion, cadre):
    assert services.other_days(cadre) == immersion.dates
    assert services.other_days(cadre, exclude=immersion) == []


# --- The decision --------------------------------------------------------------------------

ALLOWED = {
    (S.DEMANDEE, S.ACCEPTEE),
    (S.DEMANDEE, S.REFUSEE),
    (S.DEMANDEE, S.REPORTEE),
    (S.REPORTEE, S.ACCEPTEE),
    (S.REPORTEE, S.REFUSEE),
}


@pytest.mark.parametrize(
    ("current", "new"),
    [(a, b) for a in S for b in (S.ACCEPTEE, S.REFUSEE, S.REPORTEE) if a != b],
)
def test_decision_transitions(cadre, current, new):
    immersion = ImmersionFactory(cadre=cadre, statut=current, jours=ahead(2))
    if (current, new) in ALLOWED:
        services.decide(immersion, new, motif="Les effectifs sont insuffisants en mai.")
        immersion.refresh_from_db()
        assert immersion.statut == (S.EN_SIGNATURE if new == S.ACCEPTEE else new)
    else:
        with pytest.raises(ValidationError) as refused:
            services.decide(immersion, new, motif="Motif.")
        assert refused.value.message_dict == {
            "statut": [
                f"Une immersion « {current.label.lower()} » ne peut pas passer "
                f"au statut « {new.label.lower()} »."
            ]
        }
        immersion.refresh_from_db()
        assert immersion.statut == current


def test_a_refused_immersion_stays_refused(immersion):
    services.decide(immersion, S.REFUSEE, motif="Période de clôture budgétaire.")
    for statut in S:
        if statut != S.REFUSEE:
            with pytest.raises(ValidationError):
                services.decide(immersion, statut, motif="Finalement oui.")
    immersion.refresh_from_db()
    assert immersion.statut == S.REFUSEE


@pytest.mark.parametrize("statut", [S.REFUSEE, S.REPORTEE])
@pytest.mark.parametrize("motif", ["", "   \n "])
def test_refusal_and_postponement_need_reasons(immersion, statut, motif):
    with pytest.raises(ValidationError) as refused:
        services.decide(immersion, statut, motif=motif)
    assert refused.value.message_dict == {
        "motif_decision": ["Le refus ou le report doit être motivé : indiquez les raisons."]
    }
    immersion.refresh_from_db()
    assert immersion.statut == S.DEMANDEE and immersion.decidee_le is None
    assert not rows(immersion, "immersion_decision").exists()


def test_a_decision_records_who_when_and_why(immersion, m):
    services.decide(immersion, S.REPORTEE, motif="  Reportée à l'automne.  ", by=m["delegue_a"])
    immersion.refresh_from_db()
    assert immersion.statut == S.REPORTEE
    assert immersion.motif_decision == "Reportée à l'automne."
    assert immersion.decidee_par == m["delegue_a"]
    assert timezone.now() - immersion.decidee_le < timedelta(minutes=1)
    assert not immersion.conventions.exists()


def test_acceptance_generates_convention_v1_and_three_signatures(accepted, cadre):
    assert accepted.statut == S.EN_SIGNATURE
    accepted.refresh_from_db()
    assert accepted.statut == S.EN_SIGNATURE
    (convention,) = accepted.conventions.all()
    assert convention == accepted.current_convention()
    assert convention.version == 1 and convention.annulee_le is None
    assert convention.sha256 == hashlib.sha256(bytes(convention.pdf)).hexdigest()
    assert convention.contenu == services.content_fingerprint(accepted)
    signatures = list(convention.signatures.order_by("partie"))
    assert [(s.partie, s.nom, s.email) for s in signatures] == [
        ("accueil", "Paul Mercier", "paul.mercier@gironde.gouv.fr"),
        ("agent", str(cadre), cadre.email),
        ("employeur", "Sophie Lemaire", "sophie.lemaire@finances.gouv.fr"),
    ]
    nonces = [s.nonce for s in signatures]
    assert len(set(nonces)) == 3 and all(re.fullmatch(r"[0-9a-f]{32}", n) for n in nonces)
    for signature in signatures:
        assert signature.signe_le is None
        left = signature.expire_le - timezone.now()
        assert timedelta(days=30) - timedelta(minutes=1) < left <= timedelta(days=30)
        assert services.signature_from_token(services.signature_token(signature)) == signature
    assert not convention.fully_signed


def test_accepting_a_postponed_request(immersion):
    services.decide(immersion, S.REPORTEE, motif="Après la réorganisation du service.")
    services.decide(immersion, S.ACCEPTEE)
    immersion.refresh_from_db()
    assert immersion.statut == S.EN_SIGNATURE
    assert immersion.current_convention().version == 1


# --- Outbox -----------------------------------------------------------------------------


def test_submission_notifies_the_delegue_with_the_deadline(immersion, m):
    received = rows(immersion, "immersion_demande_recue").get()
    assert received.recipient == m["delegue_a"] and received.email == m["delegue_a"].email
    assert received.statut == Notification.Statut.EN_ATTENTE
    assert received.due_at <= timezone.now()
    deadline = rows(immersion, "immersion_echeance").get()
    assert deadline.recipient == m["delegue_a"]
    assert deadline.due_at == morning(timezone.localdate() + relativedelta(months=1)) - timedelta(
        days=7
    )
    assert not Notification.objects.filter(recipient=m["delegue_b"]).exists()
    assert set(rows(immersion).values_list("kind", flat=True)) == {
        "immersion_demande_recue",
        "immersion_echeance",
    }


def test_a_decision_mails_the_agent_and_cancels_the_deadline_reminder(immersion, cadre):
    services.decide(immersion, S.REFUSEE, motif="Le service d'accueil ne peut pas recevoir.")
    decision = rows(immersion, "immersion_decision").get()
    assert decision.email == cadre.email and decision.recipient == cadre.user
    assert decision.statut == Notification.Statut.EN_ATTENTE
    assert rows(immersion, "immersion_echeance").get().statut == Notification.Statut.ANNULEE
    assert rows(immersion, "immersion_demande_recue").get().statut != Notification.Statut.ANNULEE


def test_a_postponement_then_an_agreement_are_two_mails(immersion):
    services.decide(immersion, S.REPORTEE, motif="Après l'été.")
    services.decide(immersion, S.ACCEPTEE)
    assert rows(immersion, "immersion_decision").count() == 2


def test_acceptance_asks_each_party_to_sign(accepted, m):
    convention = accepted.current_convention()
    for signature in convention.signatures.all():
        assert rows(signature, "immersion_signature").get().email == signature.email
        assert rows(signature, "immersion_relance_signature").count() == len(services.RELANCES)
        alert = rows(signature, "immersion_alerte_signature").get()
        assert alert.recipient == m["delegue_a"]


# --- Changes after the convention ----------------------------------------------------------


def test_a_change_outside_the_convention_keeps_the_version(accepted):
    v1 = accepted.current_convention()
    agent = v1.signatures.get(partie=Signature.Partie.AGENT)
    services.sign(agent, "Claire Martin", "192.0.2.10")
    returned = services.update(
        accepted, tuteur_telephone="06 12 34 56 78", motivation="Une motivation précisée."
    )
    assert returned == v1
    accepted.refresh_from_db()
    assert accepted.tuteur_telephone == "06 12 34 56 78"
    assert list(accepted.conventions.all()) == [v1]
    v1.refresh_from_db()
    assert v1.annulee_le is None
    agent.refresh_from_db()
    assert agent.signe_le is not None
    assert accepted.statut == S.EN_SIGNATURE


@pytest.mark.parametrize(
    "change",
    [
        {"lieu": "Sous-préfecture d'Arcachon"},
        {"fonctions_observees": "Secrétaire général : budget et ressources humaines"},
        {"accueil_representant_nom": "Julie Roche"},
        {"days": "new"},
    ],
)
def test_a_change_to_what_the_convention_states_makes_version_2(accepted, change):
    v1 = accepted.current_convention()
    old_signatures = list(v1.signatures.all())
    tokens = [services.signature_token(s) for s in old_signatures]
    services.sign(old_signatures[0], "Paul Mercier", "192.0.2.20")
    if change.get("days") == "new":
        change = {"days": ahead(6, months=5)}
    v2 = services.update(accepted, **change)
    assert v2.version == 2
    assert accepted.current_convention() == v2
    v1.refresh_from_db()
    assert v1.annulee_le is not None
    assert all(services.signature_from_token(t) is None for t in tokens)
    assert v2.signatures.count() == 3 and not v2.signatures.filter(signe_le__isnull=False)
    assert not {s.nonce for s in v2.signatures.all()} & {s.nonce for s in old_signatures}
    accepted.refresh_from_db()
    assert v2.contenu == services.content_fingerprint(accepted) != v1.contenu
    assert accepted.statut == S.EN_SIGNATURE
    if "days" in change:
        assert accepted.dates == change["days"]
    # The old signatories are told; their pending reminders are cancelled.
    for signature in old_signatures:
        assert rows(signature, "immersion_convention_annulee").exists()
        assert not rows(signature, statut=Notification.Statut.EN_ATTENTE).exclude(
            kind="immersion_convention_annulee"
        )
    with pytest.raises(ValidationError):
        services.sign(old_signatures[1], "Sophie Lemaire", "192.0.2.30")


def test_new_days_are_checked_against_the_rules(accepted):
    with pytest.raises(ValidationError) as refused:
        services.update(accepted, days=ahead(11))
    assert list(refused.value.message_dict) == ["jours"]
    assert accepted.current_convention().version == 1
    accepted.refresh_from_db()
    assert accepted.dates == ahead(5)


def test_a_signed_convention_changed_goes_back_to_signature(accepted):
    for signature in accepted.current_convention().signatures.all():
        services.sign(signature, signature.nom, "192.0.2.40")
    accepted.refresh_from_db()
    assert accepted.statut == S.SIGNEE
    assert rows(accepted, "immersion_rappel_debut").count() == 2
    services.update(accepted, days=ahead(4, months=6))
    accepted.refresh_from_db()
    assert accepted.statut == S.EN_SIGNATURE
    assert accepted.current_convention().version == 2
    # The days reminders of the voided version wait for the new one to be signed.
    assert not rows(accepted, "immersion_rappel_debut", statut=Notification.Statut.EN_ATTENTE)
    assert not rows(accepted, "immersion_demande_retour", statut=Notification.Statut.EN_ATTENTE)


# --- Registry entry -----------------------------------------------------------------------


def test_registry_gives_the_agent_a_card_and_a_signing_action(accepted, cadre):
    scheme = registry.get("immersion")
    assert scheme is not None and scheme.dispositif == Dispositif.IMMERSION
    (card,) = scheme.programmes_for(cadre.user)
    assert card.titre == "Immersion – Préfecture de la Gironde"
    assert card.statut == "Convention en signature"
    assert card.url == reverse("immersion:detail", args=[accepted.pk])
    assert card.detail == "5 jour(s) ouvré(s)"
    (action,) = scheme.actions_for(cadre.user)
    assert action.titre.startswith("Signer la convention")
    assert action.url == reverse("immersion:detail", args=[accepted.pk])
    # Other parties signing does not remove the agent's action; the agent's own does.
    convention = accepted.current_convention()
    for partie in (Signature.Partie.EMPLOYEUR, Signature.Partie.ACCUEIL):
        services.sign(convention.signatures.get(partie=partie), "Représentant", "192.0.2.1")
    assert len(scheme.actions_for(cadre.user)) == 1
    services.sign(convention.signatures.get(partie=Signature.Partie.AGENT), "Claire Martin", None)
    assert scheme.actions_for(cadre.user) == []
    (card,) = scheme.programmes_for(cadre.user)
    assert card.statut == "Convention signée"


def test_registry_before_acceptance_and_for_others(immersion, cadre, m):
    scheme = registry.get("immersion")
    (card,) = scheme.programmes_for(cadre.user)
    assert card.statut == "Demandée"
    assert scheme.actions_for(cadre.user) == []
    assert scheme.programmes_for(m["delegue_a"]) == []
    other = make_cadre_user(structure=m["a_srv"])
    assert scheme.programmes_for(other.user) == [] and scheme.actions_for(other.user) == []


def test_a_new_version_asks_the_agent_to_sign_again(accepted, cadre):
    scheme = registry.get("immersion")
    agent = accepted.current_convention().signatures.get(partie=Signature.Partie.AGENT)
    services.sign(agent, "Claire Martin", None)
    assert scheme.actions_for(cadre.user) == []
    services.update(accepted, lieu="Sous-préfecture de Libourne")
    assert len(scheme.actions_for(cadre.user)) == 1
    assert Convention.objects.filter(immersion=accepted).count() == 2
