"""Senior-staff profiles, the organisation tree, talent pools and roles."""

from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Q
from django.db.models.functions import Concat, Lower, Substr
from django.urls import reverse
from django.utils import timezone


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email, password, **extra):
        if not email:
            raise ValueError("L'adresse électronique est obligatoire.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra):
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email, password=None, **extra):
        extra.update(is_staff=True, is_superuser=True)
        return self._create_user(email, password, **extra)


class User(AbstractUser):
    """A person who signs in. Identified by email; the HR profile is ``Cadre``."""

    username = None
    email = models.EmailField("adresse électronique", unique=True)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS = []

    objects = UserManager()

    class Meta:
        verbose_name = "utilisateur"
        verbose_name_plural = "utilisateurs"
        ordering = ["email"]

    def __str__(self):
        full = self.get_full_name()
        return f"{full} <{self.email}>" if full else self.email

    def save(self, *args, **kwargs):
        self.email = (self.email or "").strip().lower()
        super().save(*args, **kwargs)


CYCLE_ERROR = (
    "Une structure ne peut pas être rattachée à elle-même ni à l'une de ses sous-structures."
)


class StructureQuerySet(models.QuerySet):
    def subtree_of(self, structures):
        """The given structures and every structure below them."""
        paths = [s.chemin for s in structures]
        if not paths:
            return self.none()
        q = Q()
        for path in paths:
            q |= Q(chemin__startswith=path)
        return self.filter(q)


class Structure(models.Model):
    """A node of the organisation tree: ministère > direction > service, or an operator."""

    class Type(models.TextChoices):
        MINISTERE = "ministere", "Ministère"
        SECRETARIAT_GENERAL = "secretariat_general", "Secrétariat général"
        DIRECTION = "direction", "Direction"
        SOUS_DIRECTION = "sous_direction", "Sous-direction"
        SERVICE = "service", "Service"
        BUREAU = "bureau", "Bureau"
        SERVICE_DECONCENTRE = "service_deconcentre", "Service déconcentré"
        OPERATEUR = "operateur", "Opérateur"
        ETABLISSEMENT = "etablissement", "Établissement public"

    nom = models.CharField("nom", max_length=255)
    sigle = models.CharField("sigle", max_length=50, blank=True)
    code = models.CharField(
        "code RH",
        max_length=50,
        blank=True,
        default="",
        help_text="Identifiant de la structure dans le système d'information RH, utilisé "
        "pour les imports.",
    )
    type = models.CharField("type", max_length=30, choices=Type.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name="structure de rattachement",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="enfants",
    )
    # Materialised path ("12/40/311/"): a subtree is one indexed prefix query.
    chemin = models.CharField(max_length=512, editable=False, db_index=True, default="")
    niveau = models.PositiveSmallIntegerField(editable=False, default=0)

    objects = StructureQuerySet.as_manager()

    class Meta:
        verbose_name = "structure"
        verbose_name_plural = "structures"
        ordering = ["chemin"]
        constraints = [
            models.UniqueConstraint(
                fields=["code"],
                condition=~Q(code=""),
                name="structure_code_unique",
                violation_error_message="Une structure avec ce code RH existe déjà.",
            ),
        ]
        indexes = [
            models.Index(
                fields=["chemin"], name="structure_chemin_like", opclasses=["varchar_pattern_ops"]
            ),
        ]

    def __str__(self):
        return f"{self.sigle} – {self.nom}" if self.sigle else self.nom

    @transaction.atomic
    def save(self, *args, **kwargs):
        if self._creates_cycle():
            raise ValidationError({"parent": CYCLE_ERROR})
        old_path = self.chemin
        if self.pk is None:
            super().save(*args, **kwargs)  # the path is made of primary keys
            self.chemin, self.niveau = self._path_from_parent()
            Structure.objects.filter(pk=self.pk).update(chemin=self.chemin, niveau=self.niveau)
            return
        self.chemin, self.niveau = self._path_from_parent()
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "chemin", "niveau"}
        super().save(*args, **kwargs)
        if old_path and old_path != self.chemin:
            # Moving a node moves its whole subtree, in one UPDATE.
            shift = self.niveau - (old_path.count("/") - 1)
            Structure.objects.filter(chemin__startswith=old_path).exclude(pk=self.pk).update(
                chemin=Concat(models.Value(self.chemin), Substr("chemin", len(old_path) + 1)),
                niveau=models.F("niveau") + shift,
            )

    def clean(self):
        if self._creates_cycle():
            raise ValidationError({"parent": CYCLE_ERROR})

    def _creates_cycle(self):
        if not (self.parent_id and self.pk):
            return False
        return self.parent_id == self.pk or (
            bool(self.chemin) and self._parent_path().startswith(self.chemin)
        )

    def _parent_path(self):
        # Read from the database: the parent may have moved since it was loaded.
        if not self.parent_id:
            return ""
        return Structure.objects.values_list("chemin", flat=True).get(pk=self.parent_id)

    def _path_from_parent(self):
        path = f"{self._parent_path()}{self.pk}/"
        return path, path.count("/") - 1


class Vivier(models.Model):
    """A talent pool (vivier): a cadre can belong to several."""

    nom = models.CharField("nom", max_length=255, unique=True)
    description = models.TextField("description", blank=True)
    actif = models.BooleanField("actif", default=True)

    class Meta:
        verbose_name = "vivier"
        verbose_name_plural = "viviers"
        ordering = ["nom"]

    def __str__(self):
        return self.nom


class CadreQuerySet(models.QuerySet):
    def visible_to(self, user):
        from .perimeter import filter_for_user

        return filter_for_user(self, user, "structure")


class Cadre(models.Model):
    """The senior civil servant's HR profile."""

    class Civilite(models.TextChoices):
        MADAME = "mme", "Madame"
        MONSIEUR = "m", "Monsieur"

    class Categorie(models.TextChoices):
        A_PLUS = "A+", "A+ (encadrement supérieur)"
        A = "A", "A"
        CONTRACTUEL = "contractuel", "Contractuel"

    civilite = models.CharField("civilité", max_length=3, choices=Civilite.choices)
    nom = models.CharField("nom", max_length=150)
    prenom = models.CharField("prénom", max_length=150)
    email = models.EmailField("adresse électronique professionnelle")
    matricule = models.CharField(
        "identifiant RH",
        max_length=50,
        blank=True,
        null=True,
        unique=True,
        help_text="Identifiant dans le système d'information RH, utilisé pour les imports.",
    )
    telephone = models.CharField("téléphone", max_length=30, blank=True)
    categorie = models.CharField(
        "catégorie", max_length=12, choices=Categorie.choices, default=Categorie.A_PLUS
    )
    corps = models.CharField("corps", max_length=150, blank=True)
    grade = models.CharField("grade", max_length=150, blank=True)
    fonction = models.CharField("fonction", max_length=255, blank=True)
    structure = models.ForeignKey(
        Structure, verbose_name="structure", on_delete=models.PROTECT, related_name="cadres"
    )
    responsable = models.ForeignKey(
        "self",
        verbose_name="supérieur hiérarchique",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="collaborateurs",
    )
    date_prise_poste = models.DateField("date de prise de poste", null=True, blank=True)
    viviers = models.ManyToManyField(
        Vivier, verbose_name="viviers", blank=True, related_name="cadres"
    )
    user = models.OneToOneField(
        User,
        verbose_name="compte",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="cadre",
    )
    actif = models.BooleanField("actif", default=True)
    cree_le = models.DateTimeField("créé le", auto_now_add=True)
    modifie_le = models.DateTimeField("modifié le", auto_now=True)
    # Set by rgpd.services.anonymise_cadre: the identity is gone, the figures stay.
    anonymise_le = models.DateTimeField("anonymisé le", null=True, blank=True, editable=False)

    objects = CadreQuerySet.as_manager()

    class Meta:
        verbose_name = "cadre"
        verbose_name_plural = "cadres"
        ordering = ["nom", "prenom"]
        constraints = [
            models.UniqueConstraint(
                Lower("email"),
                name="cadre_email_unique_ci",
                violation_error_message="Un cadre avec cette adresse électronique existe déjà.",
            ),
        ]
        indexes = [
            models.Index(fields=["nom", "prenom"]),
            # The admin list's date filter (by year, by month).
            models.Index(fields=["date_prise_poste"], name="cadre_date_prise_poste"),
        ]

    def __str__(self):
        return f"{self.prenom} {self.nom.upper()}"

    def save(self, *args, **kwargs):
        self.email = (self.email or "").strip().lower()
        self.matricule = (self.matricule or "").strip() or None
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("admin:cadres_cadre_change", args=[self.pk])

    def clean(self):
        if self.responsable_id and self.responsable_id == self.pk:
            raise ValidationError(
                {"responsable": "Un cadre ne peut pas être son propre supérieur hiérarchique."}
            )


class Role(models.Model):
    """A role held by a user. Roles are data: the perimeter of a délégué is a set of
    structures (their subtrees included)."""

    class Kind(models.TextChoices):
        ADMINISTRATEUR = "administrateur", "Administrateur national"
        DELEGUE = "delegue", "Délégué à l'encadrement supérieur"
        COACH = "coach", "Coach"
        MENTOR = "mentor", "Mentor"
        ANIMATEUR = "animateur", "Animateur de codéveloppement"

    STAFF_KINDS = {Kind.ADMINISTRATEUR, Kind.DELEGUE}

    user = models.ForeignKey(
        User, verbose_name="utilisateur", on_delete=models.CASCADE, related_name="roles"
    )
    kind = models.CharField("rôle", max_length=20, choices=Kind.choices)
    structures = models.ManyToManyField(
        Structure,
        verbose_name="périmètre",
        blank=True,
        related_name="roles",
        help_text="Structures couvertes, sous-structures comprises (délégués).",
    )
    cree_le = models.DateTimeField("attribué le", default=timezone.now)

    class Meta:
        verbose_name = "rôle"
        verbose_name_plural = "rôles"
        constraints = [
            models.UniqueConstraint(fields=["user", "kind"], name="role_unique_per_user")
        ]

    def __str__(self):
        return f"{self.get_kind_display()} – {self.user}"


class Invitation(models.Model):
    """An invitation to create one's account. The row is the durable record: the
    mail is sent by a task after commit, and a periodic sweep retries any invitation
    still unsent (broker down, worker killed)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="invitations")
    invite_par = models.ForeignKey(
        User, verbose_name="invité par", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    cree_le = models.DateTimeField("créée le", default=timezone.now)
    envoyee_le = models.DateTimeField("envoyée le", null=True, blank=True)
    acceptee_le = models.DateTimeField("acceptée le", null=True, blank=True)

    class Meta:
        verbose_name = "invitation"
        verbose_name_plural = "invitations"
        ordering = ["-cree_le"]
        indexes = [
            models.Index(
                fields=["cree_le"], name="invitation_unsent", condition=Q(envoyee_le__isnull=True)
            ),
            # The admin list's order, once invitations reach tens of thousands.
            models.Index(fields=["-cree_le", "-id"], name="invitation_cree_le"),
        ]

    def __str__(self):
        return f"Invitation de {self.user.email}"


class ImportJobQuerySet(models.QuerySet):
    def visible_to(self, user):
        """A job is seen by its author and by national administrators."""
        from .perimeter import is_national_admin

        return self if is_national_admin(user) else self.filter(cree_par=user)


class ImportJob(models.Model):
    """An import of cadres or structures from a file exported by an HR information
    system. The file itself is stored in the row, so that any worker can read it and
    nothing is lost if one dies; the rules live in ``cadres.importing``."""

    class Nature(models.TextChoices):
        CADRES = "cadres", "Cadres"
        STRUCTURES = "structures", "Structures"

    class Statut(models.TextChoices):
        EN_ATTENTE = "en_attente", "En attente d'analyse"
        ANALYSE = "analyse", "Analyse en cours"
        A_CONFIRMER = "a_confirmer", "À confirmer"
        A_LANCER = "a_lancer", "Import demandé"
        IMPORT = "import", "Import en cours"
        TERMINE = "termine", "Terminé"
        ECHEC = "echec", "Échec"

    RUNNING = {Statut.EN_ATTENTE, Statut.ANALYSE, Statut.A_LANCER, Statut.IMPORT}

    nature = models.CharField("type de fichier", max_length=12, choices=Nature.choices)
    nom_fichier = models.CharField("fichier", max_length=255)
    contenu = models.BinaryField("contenu du fichier")
    cree_par = models.ForeignKey(
        User, verbose_name="déposé par", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    cree_le = models.DateTimeField("déposé le", default=timezone.now)
    statut = models.CharField(
        "statut", max_length=12, choices=Statut.choices, default=Statut.EN_ATTENTE, db_index=True
    )
    # Last sign of life (status change or progress): the sweep restarts silent jobs.
    maj_le = models.DateTimeField("mis à jour le", default=timezone.now)
    nb_lignes = models.PositiveIntegerField("lignes du fichier", default=0)
    nb_traitees = models.PositiveIntegerField("lignes traitées", default=0)
    erreurs = models.JSONField("erreurs", default=list, blank=True)
    apercu = models.JSONField("aperçu", default=dict, blank=True)
    rapport = models.JSONField("rapport", default=dict, blank=True)
    message = models.TextField("message", blank=True)
    termine_le = models.DateTimeField("terminé le", null=True, blank=True)

    objects = ImportJobQuerySet.as_manager()

    class Meta:
        verbose_name = "import de fichier"
        verbose_name_plural = "imports de fichiers"
        ordering = ["-cree_le"]

    def __str__(self):
        return f"Import de {self.get_nature_display().lower()} « {self.nom_fichier} »"

    @property
    def en_cours(self):
        return self.statut in self.RUNNING

    @property
    def pourcentage(self):
        if not self.nb_lignes:
            return 0
        return min(100, round(100 * self.nb_traitees / self.nb_lignes))
