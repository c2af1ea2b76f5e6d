"""What the audit trail records, and about whom.

Every model holding personal data is registered with django-auditlog here, in one
place, so that the scheme apps need no change. Confidential content is never
recorded: coaching notes (``NoteCoach``), mentoring private notes (``NotePrivee``),
co-development content (problem, contract, action plans, learnings) and the
individual answers to evaluations are either not registered at all or left out
field by field (``include`` lists: a field added later is not recorded until
someone decides it may be).
"""

from functools import reduce

from auditlog.registry import auditlog
from auditlog.signals import accessed
from django.apps import apps
from django.core.exceptions import ObjectDoesNotExist

# model label -> (how to reach the cadre concerned, auditlog options).
# The path is a chain of attributes from the instance to the cadre's id; None when
# the object concerns no cadre in particular (a coach's profile, a group).
REGISTERED = {
    "cadres.user": (
        "cadre.pk",
        {"include_fields": ["email", "first_name", "last_name", "is_active", "is_staff"]},
    ),
    "cadres.cadre": (
        "pk",
        {"exclude_fields": ["cree_le", "modifie_le"], "m2m_fields": {"viviers"}},
    ),
    "cadres.role": (None, {"include_fields": ["user", "kind"], "m2m_fields": {"structures"}}),
    "accompagnement.demande": ("cadre_id", {}),
    # HR sees evaluations in aggregate only: when it was asked and answered, not what.
    "accompagnement.evaluation": (
        "cadre_id",
        {"include_fields": ["dispositif", "participant", "demandee_le", "remplie_le"]},
    ),
    "coaching.coach": (None, {}),
    "coaching.coaching": ("cadre_id", {}),
    "coaching.seancecoaching": (
        "coaching.cadre_id",
        {"exclude_fields": ["sequence", "modifiee_le"]},
    ),
    "mentorat.mentor": ("cadre_id", {"m2m_fields": {"domaines"}}),
    "mentorat.mentore": ("cadre_id", {"m2m_fields": {"besoins"}}),
    "mentorat.mentorat": ("mentore_id", {"exclude_fields": ["criteres"]}),
    "mentorat.rencontre": (
        "mentorat.mentore_id",
        {"exclude_fields": ["sequence", "modifiee_le"]},
    ),
    "codev.groupe": (None, {}),
    "codev.membre": ("cadre_id", {}),
    # What is said in a group stays in the group: dates, client and status only.
    "codev.seance": (
        "client.cadre_id",
        {"include_fields": ["groupe", "numero", "debut", "duree", "mode", "statut", "client"]},
    ),
    "codev.presence": ("membre.cadre_id", {}),
    "immersion.immersion": ("cadre_id", {}),
    "immersion.jourimmersion": ("immersion.cadre_id", {}),
    "immersion.convention": (
        "immersion.cadre_id",
        {"include_fields": ["immersion", "version", "sha256", "annulee_le"]},
    ),
    # Who signed which version, when, from where; never the link's secret.
    "immersion.signature": (
        "convention.immersion.cadre_id",
        {
            "include_fields": [
                "convention",
                "partie",
                "nom",
                "fonction",
                "email",
                "expire_le",
                "signe_le",
                "nom_signe",
                "ip",
                "document_sha256",
            ]
        },
    ),
    "immersion.retour": ("immersion.cadre_id", {}),
    "immersion.signataire": ("immersion.cadre_id", {}),
    # The coach register, shortlists, discovery meetings and allowance extensions.
    "coaching.certification": (None, {}),
    "coaching.supervisionannuelle": (None, {}),
    "coaching.extensionforfait": ("coaching.cadre_id", {}),
    "coaching.preselection": ("coaching.cadre_id", {}),
    "coaching.proposition": ("preselection.coaching.cadre_id", {}),
    "coaching.entretiendecouverte": (
        "proposition.preselection.coaching.cadre_id",
        {"exclude_fields": ["sequence", "modifiee_le"]},
    ),
    # Campaigns, their proposals and the queue's offers: who decided, not the scoring.
    "mentorat.campagne": (None, {"m2m_fields": {"structures"}}),
    "mentorat.proposition": ("mentore.cadre_id", {"exclude_fields": ["criteres"]}),
    "mentorat.offre": ("mentore.cadre_id", {"exclude_fields": ["criteres"]}),
    # A health check: sent and answered, the scores (signals for HR); not the comment.
    "mentorat.pointetape": ("mentorat.mentore_id", {"exclude_fields": ["commentaire"]}),
    # The bilan de parcours and the plan individuel of the cadre's file: who added or
    # removed which one, when; not the file's bytes.
    "parcours.documentparcours": ("cadre_id", {"exclude_fields": ["contenu"]}),
    # Cohort programmes: who organised what for whom; not the engine's working proposal.
    "cohortes.cohorte": (None, {"exclude_fields": ["composition"], "m2m_fields": {"groupes"}}),
    "cohortes.membrecohorte": ("cadre_id", {}),
}

# Never registered, whatever happens to the list above (checked by the tests).
CONFIDENTIAL = {
    "codev.evaluationseance",
    "coaching.notecoach",
    "mentorat.noteprivee",
    "codev.planaction",
    "codev.apprentissage",
    # Who answered a séance's evaluation, kept apart from the answers: its dates would
    # let a reader pair them.
    "codev.evaluationrendue",
}

# Models that hold no personal data worth a trail: referentials, technical rows (the
# outbox, calendar tokens, import files, whose own rows say who did what), rows derived
# by a computation, proxies of registered models, and the trail itself. Every project
# model is in one of the three sets (checked by the tests), so a new one needs a choice.
NOT_AUDITED = {
    "cadres.structure",
    "cadres.vivier",
    "cadres.invitation",
    "cadres.importjob",
    "accompagnement.notification",
    "accompagnement.calendarfeed",
    "coaching.specialite",
    "mentorat.domaine",
    "mentorat.nonapparie",
    "mentorat.mentoreenattente",
    "rgpd.trace",
}

_paths = {}


def register_models():
    for label, (path, options) in REGISTERED.items():
        assert label not in CONFIDENTIAL, label
        try:
            model = apps.get_model(label)
        except LookupError:  # an app left out of INSTALLED_APPS
            continue
        _paths[model] = path
        if not auditlog.contains(model):
            auditlog.register(model, **options)


def cadre_id_of(instance):
    """The id of the cadre an audited object concerns, or None."""
    path = _paths.get(type(instance))
    if path is None:
        return None
    try:
        return reduce(getattr, path.split("."), instance)
    except (ObjectDoesNotExist, AttributeError):  # no cadre (yet), or a dangling link
        return None


def record_access(instance):
    """Record that the current user (set by the middleware) viewed ``instance``.

    Only registered models are recorded; nothing happens for the others."""
    accessed.send(sender=type(instance), instance=instance)
