"""Mails of the immersion paperwork (templates in immersion/templates/immersion/email/).

Targets: the request's mails (received, deadline, decision, days reminders, feedback)
are about the ``Immersion``; the signature mails are about one ``Signature``, so that
each signatory's personal link is computed when the mail leaves."""

from django.conf import settings
from django.urls import NoReverseMatch, reverse

from accompagnement.services.outbox import Kind, register_kind

from . import rules, services


def _url(name, *args):
    try:
        return settings.SITE_URL + reverse(name, args=args)
    except NoReverseMatch:
        return ""


def _admin_url(immersion):
    return _url("admin:immersion_immersion_change", immersion.pk)


def _immersion_context(notification, immersion):
    jours = sorted(immersion.dates)
    return {
        "immersion": immersion,
        "jours": jours,
        "nb_jours": len(jours),
        "admin_url": _admin_url(immersion),
        "portal_url": _url("immersion:detail", immersion.pk),
        "echeance": rules.decision_deadline(immersion.recue_le),
    }


def _decision_context(notification, immersion):
    # Accepting moves on at once to the convention's signature: the mail states the
    # decision, not the status the immersion has reached when it leaves.
    Statut = immersion.Statut
    acceptee = immersion.statut not in (Statut.DEMANDEE, Statut.REFUSEE, Statut.REPORTEE)
    return {
        **_immersion_context(notification, immersion),
        "statut": Statut.ACCEPTEE.label if acceptee else immersion.get_statut_display(),
        "acceptee": acceptee,
        "motif": immersion.motif_decision,
    }


def _is_tutor(notification, immersion):
    return notification.email.lower() == (immersion.tuteur_email or "").lower()


def _days_context(notification, immersion):
    """Days reminder and feedback request: to the agent (portal) or the tutor (link)."""
    context = _immersion_context(notification, immersion)
    tuteur = _is_tutor(notification, immersion)
    context["pour_tuteur"] = tuteur
    if tuteur:
        # The tutor has no account: a signed link to the public feedback page.
        context["retour_url"] = _url("immersion_public:retour", services.feedback_token(immersion))
    else:
        context["retour_url"] = context["portal_url"]
    return context


def _signature_context(notification, signature):
    convention = signature.convention
    immersion = convention.immersion
    return {
        "signature": signature,
        "convention": convention,
        "immersion": immersion,
        "jours": sorted(immersion.dates),
        "url": services.signature_url(signature),
        "expire_le": signature.expire_le,
        "admin_url": _admin_url(immersion),
        "relances": len(services.RELANCES),
    }


def _pdf(notification, signature):
    convention = signature.convention
    return [(f"convention-v{convention.version}.pdf", bytes(convention.pdf), "application/pdf")]


KINDS = {
    "immersion_demande_recue": Kind("immersion/email/demande_recue", _immersion_context),
    "immersion_echeance": Kind("immersion/email/echeance", _immersion_context),
    "immersion_decision": Kind("immersion/email/decision", _decision_context),
    "immersion_signature": Kind("immersion/email/signature", _signature_context, _pdf),
    "immersion_relance_signature": Kind(
        "immersion/email/relance_signature", _signature_context, _pdf
    ),
    "immersion_alerte_signature": Kind("immersion/email/alerte_signature", _signature_context),
    "immersion_convention_annulee": Kind("immersion/email/convention_annulee", _signature_context),
    "immersion_convention_signee": Kind(
        "immersion/email/convention_signee", _signature_context, _pdf
    ),
    "immersion_rappel_debut": Kind("immersion/email/rappel_debut", _days_context),
    "immersion_demande_retour": Kind("immersion/email/demande_retour", _days_context),
}


def register_all():
    for name, kind in KINDS.items():
        register_kind(name, kind)
