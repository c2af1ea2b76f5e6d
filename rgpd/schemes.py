"""Per-scheme personal data: what a cadre gets in their export, what anonymisation
wipes, and when a programme counts as closed for the retention task.

Keyed by scheme code (``accompagnement.models.Dispositif``). They live here because
the scheme apps could not be changed at the time; a scheme may take its functions
over by setting ``personal_data`` / ``anonymise`` / ``retention`` on its
``registry.Scheme`` (see ``for_scheme``), and its entry here can then go.

- ``export(cadre) -> list[dict]``: the cadre's programmes in that scheme, as JSON-ready
  data (their sessions' dates and status, what they wrote themselves).
- ``anonymise(cadre)``: replaces free text about the cadre by a placeholder and deletes
  private notes; keeps the rows, dates and statuses the figures count.
- ``Retention(active, known, erase_closed)``: ``active(cutoff)`` are the cadre ids with a
  programme open or closed after ``cutoff``; ``known()`` those with any programme;
  ``erase_closed(cutoff)`` deletes the private notes (and confidential content) of the
  programmes closed before ``cutoff`` and returns how many rows it changed.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.db import models
from django.db.models import Max, Q
from django.db.models.functions import Coalesce, TruncDate

from accompagnement import registry

PLACEHOLDER = "[anonymisé]"
ANONYMOUS_EMAIL = "anonyme@anonymise.invalid"


def serialize(obj, exclude=()):
    """The concrete fields of ``obj`` as JSON-ready values: choices by their label,
    relations by their text when loaded (``select_related``), else by their id;
    binary content and secrets (listed in ``exclude``) left out."""
    data = {}
    for field in obj._meta.concrete_fields:
        if field.name in exclude or isinstance(field, models.BinaryField):
            continue
        if field.is_relation:
            if field.is_cached(obj):
                related = getattr(obj, field.name)
                data[field.name] = str(related) if related is not None else None
            else:
                data[field.name] = getattr(obj, field.attname)
        elif field.choices:
            data[field.name] = getattr(obj, f"get_{field.name}_display")()
        else:
            data[field.name] = getattr(obj, field.attname)
    return data


def _blank(queryset, **fields):
    """Set each non-empty field to its replacement, in one UPDATE per field."""
    count = 0
    for name, value in fields.items():
        count += queryset.exclude(**{name: ""}).update(**{name: value})
    return count


SESSION_INTERNALS = {"sequence", "modifiee_le"}


# --- coaching --------------------------------------------------------------------


def coaching_export(cadre):
    from coaching.models import Coaching

    rows = Coaching.objects.filter(cadre=cadre).select_related("coach").prefetch_related("seances")
    return [
        {
            **serialize(c, exclude={"cadre", "demande"}),
            "seances": [
                serialize(s, exclude={"coaching", *SESSION_INTERNALS}) for s in c.seances.all()
            ],
        }
        for c in rows
    ]


def coaching_anonymise(cadre):
    from coaching.models import Coaching, NoteCoach, SeanceCoaching

    NoteCoach.objects.filter(coaching__cadre=cadre).delete()
    _blank(Coaching.objects.filter(cadre=cadre), objectifs=PLACEHOLDER)
    _blank(SeanceCoaching.objects.filter(coaching__cadre=cadre), report_motif="")


def _coaching_closed(cutoff):
    from coaching.models import Coaching

    closed = [Coaching.Statut.TERMINE, Coaching.Statut.INTERROMPU]
    return Coaching.objects.filter(statut__in=closed).annotate(
        fin=Coalesce("date_fin", TruncDate("cree_le"))
    ), Q(fin__lt=cutoff)


def coaching_retention():
    from coaching.models import Coaching, NoteCoach

    def active(cutoff):
        queryset, old = _coaching_closed(cutoff)
        closed = queryset.filter(old).values("pk")
        return Coaching.objects.exclude(pk__in=closed).values_list("cadre_id", flat=True)

    def erase_closed(cutoff):
        queryset, old = _coaching_closed(cutoff)
        deleted, _ = NoteCoach.objects.filter(
            coaching__in=queryset.filter(old).values("pk")
        ).delete()
        return deleted

    return Retention(
        active, lambda: Coaching.objects.values_list("cadre_id", flat=True), erase_closed
    )


# --- mentorat --------------------------------------------------------------------


def mentorat_export(cadre):
    from mentorat.models import Mentor, Mentorat, Mentore, NotePrivee

    data = {}
    mentore = Mentore.objects.filter(cadre=cadre).prefetch_related("besoins").first()
    if mentore:
        data["inscription"] = {
            **serialize(mentore, exclude={"cadre", "demande"}),
            "besoins": [str(d) for d in mentore.besoins.all()],
        }
    mentor = Mentor.objects.filter(cadre=cadre).first()
    if mentor:
        data["profil_de_mentor"] = serialize(mentor, exclude={"cadre", "user"})
    relations = (
        Mentorat.objects.filter(Q(mentore=cadre) | Q(mentor__cadre=cadre))
        .select_related("mentor", "mentore")
        .prefetch_related("rencontres")
    )
    notes = {}
    if cadre.user_id:
        for note in NotePrivee.objects.filter(auteur_id=cadre.user_id):
            notes.setdefault(note.rencontre_id, []).append(note.texte)
    data["relations"] = [
        {
            **serialize(m, exclude={"criteres", "campagne"}),
            "mentore": str(m.mentore),
            "rencontres": [
                {
                    **serialize(r, exclude={"mentorat", "saisie_par", *SESSION_INTERNALS}),
                    "mes_notes_privees": notes.get(r.pk, []),
                }
                for r in m.rencontres.all()
            ],
        }
        for m in relations
    ]
    return [data] if mentore or mentor or data["relations"] else []


def mentorat_anonymise(cadre):
    from mentorat.models import Mentor, Mentorat, Mentore, NotePrivee

    NotePrivee.objects.filter(rencontre__mentorat__mentore=cadre).delete()
    if cadre.user_id:
        NotePrivee.objects.filter(auteur_id=cadre.user_id).delete()
    _blank(Mentore.objects.filter(cadre=cadre), objectifs=PLACEHOLDER, motif_attente="", ville="")
    _blank(Mentorat.objects.filter(mentore=cadre), objectifs=PLACEHOLDER, motif_fin="")
    for mentor in Mentor.objects.filter(cadre=cadre):
        mentor.nom, mentor.prenom = "ANONYME", f"Mentor {mentor.pk}"
        mentor.email = f"mentor-{mentor.pk}@anonymise.invalid"
        mentor.fonction = mentor.ville = mentor.presentation = ""
        mentor.actif = False
        mentor.save()


def mentorat_retention():
    from mentorat.models import Mentorat, Mentore, NotePrivee

    closed = Q(statut__in=["termine", "interrompu", "decline"])

    def old(cutoff):
        return Mentorat.objects.filter(closed).filter(
            Q(date_fin__lt=cutoff) | Q(date_fin__isnull=True, date_fin_prevue__lt=cutoff)
        )

    def active(cutoff):
        relations = Mentorat.objects.exclude(pk__in=old(cutoff).values("pk"))
        waiting = Mentore.objects.filter(statut__in=["en_attente", "propose"])
        return {
            *relations.values_list("mentore_id", flat=True),
            *waiting.values_list("cadre_id", flat=True),
        }

    def erase_closed(cutoff):
        deleted, _ = NotePrivee.objects.filter(
            rencontre__mentorat__in=old(cutoff).values("pk")
        ).delete()
        return deleted

    return Retention(
        active, lambda: Mentore.objects.values_list("cadre_id", flat=True), erase_closed
    )


# --- codev -----------------------------------------------------------------------


def codev_export(cadre):
    from codev.models import Membre

    members = (
        Membre.objects.filter(cadre=cadre)
        .select_related("groupe")
        .prefetch_related("groupe__seances", "presences", "plans_action", "apprentissages")
    )
    result = []
    for membre in members:
        presence = {p.seance_id: p.present for p in membre.presences.all()}
        result.append(
            {
                "groupe": membre.groupe.nom,
                "date_entree": membre.date_entree,
                "date_sortie": membre.date_sortie,
                # Dates, status and own presence only: the group's content stays in it.
                "seances": [
                    {
                        "numero": s.numero,
                        "debut": s.debut,
                        "statut": s.get_statut_display(),
                        "client": s.client_id == membre.pk,
                        "present": presence.get(s.pk),
                    }
                    for s in membre.groupe.seances.all()
                ],
                "mes_plans_d_action": [
                    {"seance": p.seance_id, "actions": p.actions, "suivi": p.suivi}
                    for p in membre.plans_action.all()
                ],
                "mes_apprentissages": [
                    {"seance": a.seance_id, "texte": a.texte} for a in membre.apprentissages.all()
                ],
            }
        )
    return result


def codev_anonymise(cadre):
    from codev.models import Apprentissage, PlanAction, Seance

    _blank(PlanAction.objects.filter(membre__cadre=cadre), actions=PLACEHOLDER, suivi="")
    _blank(Apprentissage.objects.filter(membre__cadre=cadre), texte=PLACEHOLDER)
    _blank(Seance.objects.filter(client__cadre=cadre), probleme="", contrat="")


def codev_retention():
    from codev.models import Apprentissage, Membre, PlanAction, Seance

    def active(cutoff):
        return Membre.objects.filter(groupe__date_fin__gte=cutoff).values_list(
            "cadre_id", flat=True
        )

    def erase_closed(cutoff):
        old = Seance.objects.filter(groupe__date_fin__lt=cutoff)
        count = _blank(PlanAction.objects.filter(seance__in=old), actions=PLACEHOLDER, suivi="")
        count += _blank(Apprentissage.objects.filter(seance__in=old), texte=PLACEHOLDER)
        return count + _blank(old, probleme="", contrat="")

    return Retention(
        active, lambda: Membre.objects.values_list("cadre_id", flat=True), erase_closed
    )


# --- immersion -------------------------------------------------------------------


def immersion_export(cadre):
    from immersion.models import Immersion

    rows = Immersion.objects.filter(cadre=cadre).prefetch_related(
        "jours", "conventions__signatures", "retours"
    )
    return [
        {
            **serialize(i, exclude={"cadre"}),
            "jours": [j.date for j in i.jours.all()],
            "conventions": [
                {
                    **serialize(c, exclude={"immersion", "contenu"}),
                    "signatures": [
                        serialize(s, exclude={"convention", "nonce", "ip"})
                        for s in c.signatures.all()
                    ],
                }
                for c in i.conventions.all()
            ],
            "retours": [serialize(r, exclude={"immersion"}) for r in i.retours.all()],
        }
        for i in rows
    ]


def immersion_anonymise(cadre):
    from immersion.models import Convention, Immersion, Retour, Signature

    immersions = Immersion.objects.filter(cadre=cadre)
    # The tutor and the representatives are third parties named only for this cadre.
    _blank(
        immersions,
        motivation=PLACEHOLDER,
        projet_professionnel=PLACEHOLDER,
        fonctions_observees=PLACEHOLDER,
        tuteur_nom=PLACEHOLDER,
        tuteur_fonction="",
        tuteur_email=ANONYMOUS_EMAIL,
        tuteur_telephone="",
        accueil_representant_nom=PLACEHOLDER,
        accueil_representant_email=ANONYMOUS_EMAIL,
        employeur_representant_nom=PLACEHOLDER,
        employeur_representant_email=ANONYMOUS_EMAIL,
        motif_decision=PLACEHOLDER,
        commentaire_interne="",
    )
    signatures = Signature.objects.filter(convention__immersion__cadre=cadre)
    _blank(signatures, nom=PLACEHOLDER, email=ANONYMOUS_EMAIL, nom_signe=PLACEHOLDER)
    signatures.update(ip=None)
    # The signed PDF names everyone; its SHA-256 stays as the proof it existed.
    Convention.objects.filter(immersion__cadre=cadre).update(pdf=b"")
    _blank(Retour.objects.filter(immersion__cadre=cadre), suite=PLACEHOLDER)


def immersion_retention():
    from immersion.models import Immersion

    closed = [
        Immersion.Statut.TERMINEE,
        Immersion.Statut.ANNULEE,
        Immersion.Statut.REFUSEE,
    ]

    def active(cutoff):
        last_day = Immersion.objects.annotate(dernier=Coalesce(Max("jours__date"), "recue_le"))
        return last_day.exclude(statut__in=closed, dernier__lt=cutoff).values_list(
            "cadre_id", flat=True
        )

    return Retention(
        active, lambda: Immersion.objects.values_list("cadre_id", flat=True), lambda cutoff: 0
    )


@dataclass(frozen=True)
class Retention:
    active: Callable
    known: Callable
    erase_closed: Callable


@dataclass(frozen=True)
class PersonalData:
    export: Callable
    anonymise: Callable
    retention: Callable  # () -> Retention


DEFAULTS = {
    "coaching": PersonalData(coaching_export, coaching_anonymise, coaching_retention),
    "mentorat": PersonalData(mentorat_export, mentorat_anonymise, mentorat_retention),
    "codev": PersonalData(codev_export, codev_anonymise, codev_retention),
    "immersion": PersonalData(immersion_export, immersion_anonymise, immersion_retention),
}


def for_scheme(scheme):
    """The scheme's own functions when it registers them, else the defaults here."""
    default = DEFAULTS.get(scheme.dispositif)
    own = getattr(scheme, "personal_data", None)
    return own or default


def all_personal_data():
    """(scheme, PersonalData) for every registered scheme that has personal data."""
    result = []
    for scheme in registry.all_schemes():
        data = for_scheme(scheme)
        if data is not None:
            result.append((scheme, data))
    return result
