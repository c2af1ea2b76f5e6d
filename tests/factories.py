import factory
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from dateutil.relativedelta import relativedelta

from cadres.models import Cadre, Role, Structure, User, Vivier
from cadres.services import grant_role

PASSWORD = "mot-de-passe-de-test-2026"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"agent{n}@example.gouv.fr")
    first_name = factory.Faker("first_name", locale="fr_FR")
    last_name = factory.Faker("last_name", locale="fr_FR")
    password = factory.django.Password(PASSWORD)


class StructureFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Structure

    nom = factory.Sequence(lambda n: f"Ministère n° {n}")
    sigle = factory.Sequence(lambda n: f"M{n}")
    type = Structure.Type.MINISTERE
    parent = None


class VivierFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Vivier

    nom = factory.Sequence(lambda n: f"Vivier {n}")


class CadreFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Cadre

    civilite = Cadre.Civilite.MADAME
    nom = factory.Faker("last_name", locale="fr_FR")
    prenom = factory.Faker("first_name", locale="fr_FR")
    email = factory.Sequence(lambda n: f"cadre{n}@example.gouv.fr")
    structure = factory.SubFactory(StructureFactory)
    fonction = "Sous-directrice"


def with_totp(user):
    if not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists():
        TOTP.activate(user, generate_totp_secret())
    return user


def make_delegue(*structures, mfa=True, **kwargs):
    user = UserFactory(**kwargs)
    grant_role(user, Role.Kind.DELEGUE, structures)
    user.refresh_from_db()
    return with_totp(user) if mfa else user


def make_admin(mfa=True, **kwargs):
    user = UserFactory(**kwargs)
    grant_role(user, Role.Kind.ADMINISTRATEUR)
    user.refresh_from_db()
    return with_totp(user) if mfa else user


def make_cadre_user(**kwargs):
    cadre = CadreFactory(**kwargs)
    cadre.user = UserFactory(email=cadre.email)
    cadre.save()
    return cadre


def totp_code(user):
    """The code an authenticator app would show now for the user's TOTP secret."""
    from allauth.mfa.totp.internal.auth import (
        format_hotp_value,
        hotp_value,
        yield_hotp_counters_from_time,
    )
    from allauth.mfa.utils import decrypt

    authenticator = Authenticator.objects.get(user=user, type=Authenticator.Type.TOTP)
    secret = decrypt(authenticator.data["secret"])
    counters = list(yield_hotp_counters_from_time())
    return format_hotp_value(hotp_value(secret, counters[len(counters) // 2]))


# --- coaching -----------------------------------------------------------------


def _in_a_week():
    from datetime import timedelta

    from django.utils import timezone

    return timezone.now() + timedelta(days=7)


def _a_month_ago():
    from datetime import timedelta

    from django.utils import timezone

    return timezone.localdate() - timedelta(days=30)


class CoachFactory(factory.django.DjangoModelFactory):
    """An external coach (a provider) with no account; pass ``user=`` to give one.
    In good standing in the register (charter signed, an ICF PCC accreditation valid
    two years) unless ``charte_signee_le=None`` or ``accreditation=False``."""

    class Meta:
        model = "coaching.Coach"
        skip_postgeneration_save = True

    type = "externe"
    civilite = Cadre.Civilite.MADAME
    nom = factory.Faker("last_name", locale="fr_FR")
    prenom = factory.Faker("first_name", locale="fr_FR")
    email = factory.Sequence(lambda n: f"coach{n}@cabinet.example.fr")
    organisme = "Cabinet Horizons"
    capacite = 3
    actif = True
    charte_signee_le = factory.LazyFunction(_a_month_ago)

    @factory.post_generation
    def accreditation(obj, create, extracted, **kwargs):
        from datetime import timedelta

        from django.utils import timezone

        from coaching.models import Certification

        if create and extracted is not False:
            Certification.objects.create(
                coach=obj,
                organisme="icf",
                niveau="PCC",
                expire_le=timezone.localdate() + timedelta(days=730),
            )


class CoachingFactory(factory.django.DjangoModelFactory):
    """A coaching to assign (no coach) unless ``coach=`` and ``statut=`` are given."""

    class Meta:
        model = "coaching.Coaching"

    cadre = factory.SubFactory(CadreFactory)
    coach = None
    motif = "prise_de_poste"
    statut = "a_affecter"


class SeanceCoachingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "coaching.SeanceCoaching"

    coaching = factory.SubFactory(CoachingFactory)
    numero = factory.Sequence(lambda n: n + 1)
    debut = factory.LazyFunction(_in_a_week)
    duree = 60
    mode = "presentiel"


# --- codev --------------------------------------------------------------------


def _in_two_weeks():
    from datetime import timedelta

    from django.utils import timezone

    return timezone.localdate() + timedelta(days=14)


def _months_later(groupe):
    from datetime import timedelta

    return groupe.date_debut + timedelta(days=240)


def _two_pm():
    from datetime import time

    return time(14, 0)


def _today():
    from django.utils import timezone

    return timezone.localdate()


class GroupeFactory(factory.django.DjangoModelFactory):
    """A présentiel group starting in two weeks, a séance every 3 weeks over 8 months,
    led by a new animateur account."""

    class Meta:
        model = "codev.Groupe"

    nom = factory.Sequence(lambda n: f"Groupe de codéveloppement {n}")
    theme = "Manager en période de transformation"
    structure = factory.SubFactory(StructureFactory)
    animateur = factory.SubFactory(UserFactory)
    mode = "presentiel"
    lieu = "Salle Lumière, 20 avenue de Ségur, Paris"
    date_debut = factory.LazyFunction(_in_two_weeks)
    date_fin = factory.LazyAttribute(_months_later)
    rythme_semaines = 3
    nb_seances_cible = 8
    heure = factory.LazyFunction(_two_pm)
    duree = 120


class MembreFactory(factory.django.DjangoModelFactory):
    """A member written directly (no size check): go through
    ``codev.services.add_member`` to apply the rules."""

    class Meta:
        model = "codev.Membre"

    groupe = factory.SubFactory(GroupeFactory)
    cadre = factory.SubFactory(CadreFactory)
    date_entree = factory.LazyFunction(_today)


class SeanceFactory(factory.django.DjangoModelFactory):
    """A planned séance in a week, written directly (no cycle, no client): use
    ``codev.services.generate_cycle`` for a group's real calendar."""

    class Meta:
        model = "codev.Seance"

    groupe = factory.SubFactory(GroupeFactory)
    numero = factory.Sequence(lambda n: n + 1)
    debut = factory.LazyFunction(_in_a_week)
    duree = 120
    mode = "presentiel"


# --- immersion ----------------------------------------------------------------


class ImmersionFactory(factory.django.DjangoModelFactory):
    """A request written directly (no rule checked, no outbox row): go through
    ``immersion.services.submit`` to apply the décret's rules. ``jours=[dates]``
    gives its days."""

    class Meta:
        model = "immersion.Immersion"
        skip_postgeneration_save = True

    cadre = factory.SubFactory(CadreFactory)
    motivation = "Découvrir le pilotage d'une politique publique au plus près du terrain."
    projet_professionnel = "Prendre un poste de sous-préfet dans les trois ans."
    structure_accueil = "Préfecture de la Gironde"
    lieu = "2 esplanade Charles-de-Gaulle, Bordeaux"
    fonctions_observees = "Direction de cabinet du préfet, gestion de crise"
    tuteur_nom = "Hélène Garnier"
    tuteur_fonction = "Directrice de cabinet"
    tuteur_email = factory.Sequence(lambda n: f"tuteur{n}@gironde.gouv.fr")
    accueil_representant_nom = "Paul Mercier"
    accueil_representant_email = factory.Sequence(lambda n: f"accueil{n}@gironde.gouv.fr")
    employeur_representant_nom = "Sophie Lemaire"
    employeur_representant_email = factory.Sequence(lambda n: f"rh{n}@example.gouv.fr")
    recue_le = factory.LazyFunction(_today)

    @factory.post_generation
    def jours(self, create, extracted, **kwargs):
        if create and extracted:
            from immersion.models import JourImmersion

            JourImmersion.objects.bulk_create(
                [JourImmersion(immersion=self, date=d) for d in sorted(set(extracted))]
            )


# --- Mentoring -------------------------------------------------------------------------


class DomaineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "mentorat.Domaine"
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"domaine-{n}")
    libelle = factory.Sequence(lambda n: f"Domaine {n}")


class MentorFactory(factory.django.DjangoModelFactory):
    """An active mentor attached to no structure (the shared pool), no account; pass
    ``structure=``, ``cadre=`` or ``user=`` as needed."""

    class Meta:
        model = "mentorat.Mentor"
        skip_postgeneration_save = True

    civilite = Cadre.Civilite.MADAME
    nom = factory.Faker("last_name", locale="fr_FR")
    prenom = factory.Faker("first_name", locale="fr_FR")
    email = factory.Sequence(lambda n: f"mentor{n}@example.gouv.fr")
    annees_experience = 15
    capacite = 2
    actif = True

    @factory.post_generation
    def domaines(self, create, extracted, **kwargs):
        if create and extracted:
            self.domaines.set(extracted)


class MentoreFactory(factory.django.DjangoModelFactory):
    """A cadre waiting for a mentor."""

    class Meta:
        model = "mentorat.Mentore"
        skip_postgeneration_save = True

    cadre = factory.SubFactory(CadreFactory)
    contexte = "prise_de_poste"
    annees_experience = 2

    @factory.post_generation
    def besoins(self, create, extracted, **kwargs):
        if create and extracted:
            self.besoins.set(extracted)


def _start():
    from django.utils import timezone

    return timezone.localdate()


class MentoratFactory(factory.django.DjangoModelFactory):
    """A proposed relation starting today for 9 months; pass ``statut=`` for others."""

    class Meta:
        model = "mentorat.Mentorat"

    mentor = factory.SubFactory(MentorFactory)
    mentore = factory.SubFactory(CadreFactory)
    contexte = "prise_de_poste"
    statut = "propose"
    date_debut = factory.LazyFunction(_start)
    date_fin_prevue = factory.LazyAttribute(lambda o: o.date_debut + relativedelta(months=9))
