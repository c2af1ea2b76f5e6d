"""Cohort programmes: creation (from a vivier, a selection or a list), the mentoring
campaign run on the cohort, the co-development groups composed from it. The admin
calls these; every refusal is a French ``ValidationError`` and changes nothing.

A cohort sits above the schemes: it uses the mentoring campaigns
(``mentorat.services``) and the composition engine (``codev.composition``) as they
are, restricted to its members."""

import re

from dateutil.relativedelta import relativedelta
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from cadres.models import Cadre, Role, Structure
from cadres.perimeter import filter_for_user
from codev import composition
from codev import services as codev_services
from codev.models import Groupe
from mentorat import services as mentorat_services
from mentorat.models import Campagne, Mentore

from .models import Cohorte, MembreCohorte

MIN_MONTHS, MAX_MONTHS = 3, 12
# Sizes of the composed groups: at most 8 peers (the co-development rule), at least 5
# when the cohort allows it (codev.composition bends it only when it must).
MAX_SIZE, MIN_SIZE = 8, 5


# --- Creation ------------------------------------------------------------------------


def check_dates(date_debut, date_fin):
    if not date_debut or not date_fin:
        raise ValidationError({"date_fin": "Indiquez le début et la fin du programme."})
    if not (
        date_debut + relativedelta(months=MIN_MONTHS)
        <= date_fin
        <= date_debut + relativedelta(months=MAX_MONTHS)
    ):
        raise ValidationError(
            {
                "date_fin": f"Un programme de cohorte dure de {MIN_MONTHS} à {MAX_MONTHS} mois : "
                "ajustez la date de fin."
            }
        )


def in_subtree(queryset, structure, path="structure"):
    return queryset.filter(**{f"{path}__chemin__startswith": structure.chemin})


def _check_structure(user, structure):
    inside = filter_for_user(Structure.objects.filter(pk=structure.pk), user, "").exists()
    if not inside:
        raise ValidationError({"structure": "Cette structure n'est pas dans votre périmètre."})


def cadres_from_vivier(vivier, structure):
    """The active cadres of the vivier inside the organising structure's subtree."""
    if vivier is None:
        raise ValidationError({"vivier": "Choisissez le vivier de la cohorte."})
    return list(in_subtree(vivier.cadres.filter(actif=True), structure))


def cadres_from_filter(structure, filtre_structure, categorie=""):
    """The active cadres of a structure's subtree (inside the organising structure),
    of one category if given."""
    if filtre_structure is None:
        raise ValidationError({"filtre_structure": "Choisissez la structure à sélectionner."})
    if not filtre_structure.chemin.startswith(structure.chemin):
        raise ValidationError(
            {
                "filtre_structure": "Choisissez une structure de la structure organisatrice "
                "ou de ses sous-structures."
            }
        )
    cadres = in_subtree(Cadre.objects.filter(actif=True), filtre_structure)
    if categorie:
        cadres = cadres.filter(categorie=categorie)
    return list(cadres)


def parse_identifiers(text):
    """Matricules or email addresses, one per line (or separated by commas, semicolons,
    spaces), in order, without repeats."""
    return list(dict.fromkeys(part for part in re.split(r"[\s,;]+", text or "") if part))


def cadres_from_list(user, structure, text, nothing_done="aucune cohorte n'a été créée"):
    """The cadres named by matricule or email address. Unknown identifiers, and those
    of cadres outside the délégué's perimeter (which must not reveal that they exist),
    are refused together; so are cadres outside the organising structure."""
    identifiers = parse_identifiers(text)
    if not identifiers:
        raise ValidationError({"liste": "Collez au moins un identifiant RH ou une adresse."})
    emails = [i.lower() for i in identifiers if "@" in i]
    matricules = [i for i in identifiers if "@" not in i]
    visible = filter_for_user(Cadre.objects.all(), user, "structure").select_related("structure")
    found = {}
    for cadre in visible.filter(email__in=emails):
        found[cadre.email] = cadre
    for cadre in visible.filter(matricule__in=matricules):
        found[cadre.matricule] = cadre
    unknown = [i for i in identifiers if (i.lower() if "@" in i else i) not in found]
    if unknown:
        raise ValidationError(
            {
                "liste": "Identifiants inconnus ou hors de votre périmètre : "
                + ", ".join(unknown)
                + f". Corrigez la liste : {nothing_done}."
            }
        )
    cadres = list({c.pk: c for c in found.values()}.values())
    outside = [c for c in cadres if not c.structure.chemin.startswith(structure.chemin)]
    if outside:
        raise ValidationError(
            {
                "liste": f"Ces cadres n'appartiennent pas à « {structure} » ni à ses "
                "sous-structures : " + ", ".join(str(c) for c in outside) + "."
            }
        )
    inactive = [c for c in cadres if not c.actif]
    if inactive:
        raise ValidationError(
            {"liste": "Ces cadres sont inactifs : " + ", ".join(str(c) for c in inactive) + "."}
        )
    return cadres


@transaction.atomic
def create_cohort(
    user,
    *,
    nom,
    structure,
    origine,
    date_debut,
    date_fin,
    vivier=None,
    filtre_structure=None,
    categorie="",
    liste="",
    droit_coaching=False,
    droit_immersion=False,
):
    """A cohort and its members, all inside the délégué's perimeter, or nothing."""
    if structure is None:
        raise ValidationError({"structure": "Choisissez la structure organisatrice."})
    _check_structure(user, structure)
    check_dates(date_debut, date_fin)
    if origine == Cohorte.Origine.VIVIER:
        cadres = cadres_from_vivier(vivier, structure)
    elif origine == Cohorte.Origine.FILTRE:
        cadres = cadres_from_filter(structure, filtre_structure, categorie)
    elif origine == Cohorte.Origine.LISTE:
        cadres = cadres_from_list(user, structure, liste)
    else:
        raise ValidationError({"origine": "Choisissez comment constituer la cohorte."})
    if not cadres:
        raise ValidationError(
            {"origine": f"Aucun cadre actif de « {structure} » ne répond à ce choix."}
        )
    # Belt and braces: every member inside the perimeter, whatever the origin.
    ids = {c.pk for c in cadres}
    if filter_for_user(Cadre.objects.filter(pk__in=ids), user, "structure").count() != len(ids):
        raise ValidationError("Des cadres de la cohorte sont hors de votre périmètre.")
    cohorte = Cohorte.objects.create(
        nom=nom.strip(),
        structure=structure,
        origine=origine,
        vivier=vivier if origine == Cohorte.Origine.VIVIER else None,
        date_debut=date_debut,
        date_fin=date_fin,
        droit_coaching=droit_coaching,
        droit_immersion=droit_immersion,
        creee_par=user,
    )
    MembreCohorte.objects.bulk_create(MembreCohorte(cohorte=cohorte, cadre=c) for c in cadres)
    return cohorte


@transaction.atomic
def add_members(user, cohorte, liste):
    """Late members, named by matricule or email address, under the same rules as at
    creation (perimeter, organising structure, active), or nobody. Once the mentoring
    campaign is launched, they join it on the waiting list, to be matched by a new
    computation or the waiting list's offers; groups already created are not changed.
    Returns the cadres added (those already members are left as they are)."""
    cohorte = Cohorte.objects.select_for_update().get(pk=cohorte.pk)
    cadres = cadres_from_list(
        user, cohorte.structure, liste, nothing_done="aucun membre n'a été ajouté"
    )
    already = set(cohorte.membres.values_list("cadre_id", flat=True))
    added = [c for c in cadres if c.pk not in already]
    MembreCohorte.objects.bulk_create(MembreCohorte(cohorte=cohorte, cadre=c) for c in added)
    if cohorte.campagne_id and added:
        for cadre in added:
            mentorat_services.enlist(cadre, Mentore.Contexte.CYCLE)
        cohorte.campagne.reservee_a.add(*added)
    if added:
        _forget_composition(cohorte)
    return added


def _forget_composition(cohorte):
    """A proposal not yet confirmed was made for other members: it is computed again."""
    if cohorte.composition:
        cohorte.composition = {}
        cohorte.save(update_fields=["composition"])


@transaction.atomic
def remove_member(cohorte, cadre_id):
    """A member leaves the programme (their relations and groups, which are programmes
    of their own, stay as they are); they no longer count in its campaign."""
    removed, _ = MembreCohorte.objects.filter(cohorte=cohorte, cadre_id=cadre_id).delete()
    if not removed:
        raise ValidationError("Cette personne n'est pas membre de la cohorte.")
    if cohorte.campagne_id:
        cohorte.campagne.reservee_a.remove(cadre_id)
    _forget_composition(cohorte)


def member_cadres(cohorte):
    return Cadre.objects.filter(cohortes__cohorte=cohorte).select_related("structure")


# --- Mentoring campaign --------------------------------------------------------------


def campaign_months(cohorte):
    """The relations last as long as the programme, within the 6 to 12 months of a
    mentoring relation."""
    months = relativedelta(cohorte.date_fin, cohorte.date_debut)
    total = months.years * 12 + months.months
    return min(max(total, mentorat_services.MIN_MONTHS), mentorat_services.MAX_MONTHS)


@transaction.atomic
def launch_campaign(cohorte, by=None):
    """A matching campaign reserved to the cohort: its members go on the waiting list
    (those already in a relation stay in it), the mentors are the available ones of the
    organising structure's perimeter and the shared pool. The engine computes the
    proposals; the délégué reviews and confirms them on the campaign's page."""
    cohorte = Cohorte.objects.select_for_update().get(pk=cohorte.pk)
    if cohorte.campagne_id:
        raise ValidationError("La campagne de mentorat de cette cohorte est déjà lancée.")
    cadres = list(member_cadres(cohorte))
    contexte = (
        Mentore.Contexte.VIVIER
        if cohorte.origine == Cohorte.Origine.VIVIER
        else Mentore.Contexte.CYCLE
    )
    for cadre in cadres:
        mentorat_services.enlist(cadre, contexte)
    campagne = Campagne.objects.create(
        nom=f"Mentorat – {cohorte.nom}",
        date_debut=max(cohorte.date_debut, timezone.localdate()),
        duree_mois=campaign_months(cohorte),
        creee_par=by,
    )
    campagne.structures.set([cohorte.structure])
    campagne.reservee_a.set(cadres)
    cohorte.campagne = campagne
    cohorte.statut = Cohorte.Statut.EN_COURS
    cohorte.save(update_fields=["campagne", "statut"])
    mentorat_services.compute(campagne, by=by)
    campagne.refresh_from_db()
    return campagne


# --- Co-development groups -------------------------------------------------------------


def _people(cohorte):
    return composition.people_for(list(member_cadres(cohorte)))


def _store(cohorte, groups, people):
    """The composition after a hand move: explained and costed again."""
    cost, breakdown = composition.evaluate(groups, people)
    cohorte.composition = {
        "groups": [list(g) for g in groups],
        "explanations": list(
            composition.explain(groups, people, max_size=MAX_SIZE, min_size=MIN_SIZE)
        ),
        "cost": cost,
        "breakdown": breakdown,
    }
    cohorte.save(update_fields=["composition"])


def _check_open(cohorte):
    if cohorte.groupes.exists():
        raise ValidationError("Les groupes de cette cohorte sont déjà créés.")


@transaction.atomic
def propose_groups(cohorte):
    """The engine's composition of the cohort, stored until it is confirmed."""
    cohorte = Cohorte.objects.select_for_update().get(pk=cohorte.pk)
    _check_open(cohorte)
    people = _people(cohorte)
    if len(people) < 2:
        raise ValidationError("Il faut au moins deux membres pour composer un groupe.")
    result = composition.compose(people, max_size=MAX_SIZE, min_size=MIN_SIZE)
    cohorte.composition = {
        "groups": [list(g) for g in result.groups],
        "explanations": list(result.explanations),
        "cost": result.cost,
        "breakdown": result.breakdown,
    }
    cohorte.save(update_fields=["composition"])
    return cohorte.composition


def _violations(groups, people):
    return composition.violations(groups, people, max_size=MAX_SIZE, min_size=MIN_SIZE)


@transaction.atomic
def move_member(cohorte, cadre_id, target):
    """The délégué moves a person to another group (``target``: its index). The rules
    are checked again; on a breach nothing is saved."""
    cohorte = Cohorte.objects.select_for_update().get(pk=cohorte.pk)
    _check_open(cohorte)
    groups = [list(g) for g in cohorte.composition.get("groups", [])]
    if not groups:
        raise ValidationError("Calculez d'abord une composition.")
    if not 0 <= target < len(groups):
        raise ValidationError("Ce groupe n'existe pas dans la composition.")
    source = next((i for i, g in enumerate(groups) if cadre_id in g), None)
    if source is None:
        raise ValidationError("Cette personne n'est dans aucun groupe de la composition.")
    if source == target:
        raise ValidationError("Cette personne est déjà dans ce groupe.")
    groups[source].remove(cadre_id)
    groups[target].append(cadre_id)
    groups = [g for g in groups if g]
    people = _people(cohorte)
    problems = _violations(groups, people)
    if problems:
        raise ValidationError(["Déplacement refusé, la composition reste inchangée :", *problems])
    _store(cohorte, groups, people)
    return cohorte.composition


def is_animateur(user):
    return Role.objects.filter(user=user, kind=Role.Kind.ANIMATEUR).exists()


@transaction.atomic
def confirm_groups(cohorte, *, animateurs, date_debut, date_fin, rythme_semaines=3, by=None):
    """Create the co-development groups of the stored composition: one animateur per
    group (``animateurs``, in the groups' order), the cycle's dates. The composition is
    checked again against the members as they are now."""
    cohorte = Cohorte.objects.select_for_update().get(pk=cohorte.pk)
    _check_open(cohorte)
    groups = cohorte.composition.get("groups") or []
    if not groups:
        raise ValidationError("Calculez d'abord une composition.")
    if len(animateurs) != len(groups) or any(a is None for a in animateurs):
        raise ValidationError("Choisissez un animateur pour chaque groupe.")
    not_animateurs = [str(a) for a in animateurs if not is_animateur(a)]
    if not_animateurs:
        raise ValidationError(
            "Ces personnes n'ont pas le rôle d'animateur : " + ", ".join(not_animateurs) + "."
        )
    members = set(cohorte.membres.values_list("cadre_id", flat=True))
    if any(pk not in members for g in groups for pk in g):
        raise ValidationError(
            "Des personnes de la composition ne sont plus membres de la cohorte : "
            "recalculez la composition."
        )
    problems = _violations(groups, _people(cohorte))
    if problems:
        raise ValidationError(
            ["Rien n'a été créé. Recalculez ou corrigez la composition :", *problems]
        )
    cadres = Cadre.objects.in_bulk([pk for g in groups for pk in g])
    created = []
    for number, (group, animateur) in enumerate(zip(groups, animateurs, strict=True), start=1):
        groupe = Groupe(
            nom=f"{cohorte.nom} – groupe {number}",
            structure=cohorte.structure,
            animateur=animateur,
            date_debut=date_debut,
            date_fin=date_fin,
            rythme_semaines=rythme_semaines,
        )
        groupe.full_clean()
        groupe.save()
        for pk in group:
            codev_services.add_member(groupe, cadres[pk], on=date_debut)
        created.append(groupe)
    cohorte.groupes.set(created)
    cohorte.statut = Cohorte.Statut.EN_COURS
    cohorte.save(update_fields=["statut"])
    return created


def close_finished(today=None):
    """Cohorts whose end date has passed are over ("terminée"); returns how many."""
    today = today or timezone.localdate()
    return (
        Cohorte.objects.filter(date_fin__lt=today)
        .exclude(statut=Cohorte.Statut.TERMINEE)
        .update(statut=Cohorte.Statut.TERMINEE)
    )
