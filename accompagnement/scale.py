"""A realistic dataset at the scale of the French State, built in bulk (``manage.py
seed_scale --cadres N``), for the benchmarks of ``bench/`` and for sizing.

Proportions, for N cadres (all of them with an account):

- structures: 30 ministries, each with 3-8 directions (the first is its secretariat
  general) of 2-5 sub-directions; below N = 20,000 both counts shrink by sqrt(N/20,000)
  (at least one direction), so about 800 structures at N = 20,000, 150 at 2,000.
  A cadre sits in a sub-direction (60 %), a direction (30 %) or at ministry level
  (10 %); ministries differ in size (weights 0.5-2).
- staff: one délégué per ministry (perimeter: the ministry, TOTP device) and one
  national administrator, made through ``grant_role`` like real ones.
- coaches N/50 (at least 2; 60 % external), each with an account, a valid
  accreditation and the charter signed; mentors N/8 (85 % of them cadres, the others
  outside any structure); animateurs N/300 (at least 1).
- coaching engagements N, of 6 to 14 sessions (every 3-5 weeks);
  mentoring relations 1.3 N, of 8 to 16 meetings (every 2-4 weeks);
  co-development groups N/20 (N/60 of them under way, the others over the history;
  6 to 8 members of one ministry, one séance per member, every 3-4 weeks), with the
  attendance of the séances held;
  immersions N/20 (2 to 10 working days); a quarter of the groups led by a
  provider (on a quote); three years of supervision hours per coach.
  About 25 sessions per cadre in all (N = 20,000: about 500,000), over 6 years of
  history and up to a year ahead: programmes whose dates cover today are under way,
  with sessions planned in the future.
- the persona: the first cadre of the run has a programme of every scheme under way
  (a coaching and a mentoring relation started 60 days ago, a place in a group under
  way, an immersion ahead), so that the benchmarks visit the same kind of portal home
  at every size.
- requests: one accepted request behind each coaching, mentoring relation and
  immersion, plus 3 % of N open (some overdue) and 2 % of N refused.
- evaluations of the finished coachings and relations (70 % answered);
  mentees waiting for a mentor N/40; a confirmed matching campaign per ministry and
  year; 10 % of the cadres in one of 5 talent pools.
- the outbox as ``sync_session_notifications`` and the request deadlines leave it:
  the reminders of every planned session (one per configured delay and participant),
  pending; those of the last 60 days, sent.

Everything is written with explicit primary keys (from the table's current maximum
on), by PostgreSQL ``COPY`` (``executemany`` on other databases), in one transaction;
the sequences are moved past the new keys at the end. Every account shares one
password hash computed once (``SHARED_PASSWORD``): never use this on a real
database. Model signals do not run (no audit trail, no outbox sweep), as for any
bulk load. Deterministic for a given seed and day.
"""

import json
import math
import time
import unicodedata
from bisect import bisect
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from datetime import time as dtime
from decimal import Decimal
from itertools import accumulate

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.contenttypes.models import ContentType
from django.core.management.color import no_style
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models, transaction
from django.utils import timezone

SHARED_PASSWORD = "bench-accompagnement-2026"
HISTORY_YEARS = 6
SQLITE_MAX_CADRES = 2_000

MINISTRIES = [
    ("Ministère de l'Intérieur et des Outre-mer", "MIOM"),
    ("Ministère de l'Économie et des Finances", "MEF"),
    ("Ministère des Armées", "MINARM"),
    ("Ministère de la Justice", "MJ"),
    ("Ministère de l'Éducation nationale", "MEN"),
    ("Ministère de l'Enseignement supérieur et de la Recherche", "MESR"),
    ("Ministère de la Santé et de l'Accès aux soins", "MSAS"),
    ("Ministère du Travail et de l'Emploi", "MTE"),
    ("Ministère de la Transition écologique", "MTECT"),
    ("Ministère de l'Agriculture et de la Souveraineté alimentaire", "MASA"),
    ("Ministère de la Culture", "MC"),
    ("Ministère de l'Europe et des Affaires étrangères", "MEAE"),
    ("Ministère des Sports, de la Jeunesse et de la Vie associative", "MSJVA"),
    ("Ministère de la Fonction publique", "MFP"),
    ("Ministère du Logement", "MLOG"),
    ("Ministère des Transports", "MTR"),
    ("Ministère de l'Aménagement du territoire", "MAT"),
    ("Ministère des Outre-mer", "MOM"),
    ("Ministère de l'Industrie et de l'Énergie", "MIE"),
    ("Ministère du Commerce extérieur", "MCE"),
    ("Ministère des Solidarités et des Familles", "MSF"),
    ("Ministère des Anciens combattants", "MAC"),
    ("Ministère de la Mer et de la Pêche", "MMP"),
    ("Ministère du Numérique et de l'Intelligence artificielle", "MNIA"),
    ("Ministère des Comptes publics", "MCP"),
    ("Ministère de la Ville", "MV"),
    ("Ministère de l'Égalité entre les femmes et les hommes", "MEFH"),
    ("Ministère des Relations avec le Parlement", "MRP"),
    ("Services du Premier ministre", "SPM"),
    ("Ministère de la Recherche spatiale", "MRS"),
]
DIRECTIONS = [
    "Direction générale de l'administration",
    "Direction des affaires juridiques",
    "Direction du budget et des achats",
    "Direction des ressources humaines",
    "Direction du numérique",
    "Direction des politiques publiques",
    "Direction de la stratégie",
    "Direction des relations internationales",
]
SOUS_DIRECTIONS = [
    "Sous-direction du pilotage",
    "Sous-direction des moyens",
    "Sous-direction des études",
    "Sous-direction de la synthèse",
    "Sous-direction des opérations",
]
CITIES = ["Paris"] * 8 + ["Lyon", "Marseille", "Lille", "Bordeaux", "Nantes", "Rennes"]
ORGANISMES = ["Cabinet Trajectoires", "Alter Coaching", "Cap Dirigeants", "Sens & Cap"]
HOSTS = ["Préfecture de la Gironde", "Cour des comptes", "Conseil d'État", "ARS Bretagne"]


def _ascii(text):
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(c for c in text.lower() if c.isalnum())


class RowWriter:
    """Rows of one model with explicit primary keys, written in batches.

    Fields a row leaves out take their default (``auto_now``/``auto_now_add`` fields:
    the run's time); a field with no default and no value is an error, so that a new
    required field of a model shows at once."""

    BATCH = 20_000
    _REQUIRED = object()
    _CALL = object()

    def __init__(self, model, now):
        self.model = model
        self.fields = list(model._meta.concrete_fields)
        self.index = {}
        for i, field in enumerate(self.fields):
            self.index[field.attname] = i
            self.index[field.name] = i
        self.template, self.callables = [], {}
        for i, field in enumerate(self.fields):
            if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
                value = now if isinstance(field, models.DateTimeField) else now.date()
            elif field.has_default():
                default = field.default
                if default is timezone.now:
                    value = now
                elif default is timezone.localdate:
                    value = timezone.localdate(now)
                elif callable(default):
                    value = self._CALL
                    self.callables[i] = default
                else:
                    value = default
            elif field.null:
                value = None
            elif field.empty_strings_allowed and field.blank:
                value = ""
            else:
                value = self._REQUIRED
            self.template.append(value)
        postgres = connection.vendor == "postgresql"
        self.prep = []
        for i, field in enumerate(self.fields):
            if isinstance(field, models.JSONField):
                self.prep.append((i, self._json if postgres else self._db_prep(field)))
            elif not postgres:
                self.prep.append((i, self._db_prep(field)))
        self.rows = []
        self.count = 0
        pk = model._meta.pk
        current = model._base_manager.aggregate(m=models.Max(pk.attname))["m"]
        self.next_id = (current or 0) + 1

    @staticmethod
    def _json(value):
        return None if value is None else json.dumps(value, cls=DjangoJSONEncoder)

    def _db_prep(self, field):
        def prep(value):
            return field.get_db_prep_save(value, connection)

        return prep

    def new_id(self):
        value = self.next_id
        self.next_id += 1
        return value

    def add(self, **values):
        """Queue a row; returns its primary key (a new one unless ``id`` is given)."""
        row = list(self.template)
        if "id" not in values:
            values["id"] = self.new_id()
        elif values["id"] >= self.next_id:  # a key read from ``next_id`` beforehand
            self.next_id = values["id"] + 1
        index = self.index
        for key, value in values.items():
            row[index[key]] = value
        for i, default in self.callables.items():
            if row[i] is self._CALL:
                row[i] = default()
        if self._REQUIRED in row:
            missing = [f.name for f, v in zip(self.fields, row, strict=True) if v is self._REQUIRED]
            raise ValueError(
                f"{self.model._meta.label} : aucune valeur pour {', '.join(missing)} "
                "(champ obligatoire sans valeur par défaut) : complétez accompagnement/scale.py."
            )
        for i, prep in self.prep:
            row[i] = prep(row[i])
        self.rows.append(row)
        self.count += 1
        if len(self.rows) >= self.BATCH:
            self.flush()
        return values["id"]

    def flush(self):
        if not self.rows:
            return
        table = connection.ops.quote_name(self.model._meta.db_table)
        columns = ", ".join(connection.ops.quote_name(f.column) for f in self.fields)
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                    for row in self.rows:
                        copy.write_row(row)
            else:
                marks = ", ".join(["%s"] * len(self.fields))
                cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", self.rows)
        self.rows = []


class Generator:
    def __init__(self, n, rng, out=None):
        self.n = n
        self.rng = rng
        self.out = out or (lambda line: None)
        self.now = timezone.now().replace(microsecond=0)
        self.today = timezone.localdate(self.now)
        self.start = self.today - timedelta(days=365 * HISTORY_YEARS)
        self.tz = timezone.get_current_timezone()
        self.writers = {}
        self.user_email = {}  # user id -> address, for the outbox rows
        self.timings = []
        self.password = make_password(SHARED_PASSWORD)  # hashed once for every account
        self.reminders = {
            f"session_rappel_{name}": delay for name, delay in settings.SESSION_REMINDERS.items()
        }

    # --- helpers ----------------------------------------------------------------
    def w(self, model):
        if model not in self.writers:
            self.writers[model] = RowWriter(model, self.now)
        return self.writers[model]

    def at(self, day, hour=10, minute=0):
        return timezone.make_aware(datetime.combine(day, dtime(hour, minute)), self.tz)

    def working_day(self, day):
        while day.weekday() >= 5:
            day += timedelta(days=1)
        return day

    def random_day(self, start, end):
        return start + timedelta(days=self.rng.randint(0, max(0, (end - start).days)))

    def person(self):
        from accompagnement.management.commands.seed_demo import NOMS, PRENOMS_F, PRENOMS_M

        if self.rng.random() < 0.5:
            return "mme", self.rng.choice(PRENOMS_F), self.rng.choice(NOMS)
        return "m", self.rng.choice(PRENOMS_M), self.rng.choice(NOMS)

    @contextmanager
    def section(self, label):
        started = time.perf_counter()
        yield
        seconds = time.perf_counter() - started
        self.timings.append((label, seconds))
        self.out(f"  {label:<32} {seconds:7.1f} s")

    def user(self, email, prenom, nom, **extra):
        return self.w(self.User).add(
            email=email,
            password=self.password,
            first_name=prenom,
            last_name=nom,
            date_joined=self.now,
            **extra,
        )

    # --- the dataset ------------------------------------------------------------
    def run(self):
        from cadres.models import Cadre, Role, Structure, User, Vivier

        self.User, self.Cadre, self.Role, self.Structure = User, Cadre, Role, Structure
        self.Vivier = Vivier
        with self.section("structures, délégués"):
            self.structures()
            self.staff()
        with self.section("cadres et comptes"):
            self.cadres()
        with self.section("coaching"):
            self.coaching()
        with self.section("mentorat"):
            self.mentorat()
        with self.section("codéveloppement"):
            self.codev()
        with self.section("immersion"):
            self.immersion()
        with self.section("demandes ouvertes et refusées"):
            self.open_demandes()
        with self.section("écriture des derniers lots"):
            for writer in self.writers.values():
                writer.flush()
            self.reset_sequences()
        return {w.model._meta.label: w.count for w in self.writers.values()}

    def structures(self):
        """Ministries > directions > sub-directions, with their materialised paths
        computed as ``Structure.save`` does ("12/40/311/", level = depth)."""
        Structure = self.Structure
        writer = self.w(Structure)
        shrink = min(1.0, math.sqrt(self.n / 20_000))
        self.ministries = []  # (id, chemin, sigle)
        self.directions_of = {}  # ministry index -> its directions
        self.places = []  # (structure id, ministry index), weighted below
        weights = []
        for m_index, (nom, sigle) in enumerate(MINISTRIES):
            size = self.rng.uniform(0.5, 2.0)
            m_id = writer.new_id()
            m_path = f"{m_id}/"
            writer.add(
                id=m_id,
                nom=nom,
                sigle=sigle,
                code=f"S{m_id:07d}",
                type=Structure.Type.MINISTERE,
                chemin=m_path,
                niveau=0,
            )
            self.ministries.append((m_id, m_path, sigle))
            levels = [(m_id, 0.10)]  # (structure, share of the ministry's cadres)
            n_dirs = max(1, round(self.rng.randint(3, 8) * shrink))
            directions = []
            for d in range(n_dirs):
                d_id = writer.new_id()
                d_path = f"{m_path}{d_id}/"
                writer.add(
                    id=d_id,
                    nom="Secrétariat général" if d == 0 else DIRECTIONS[d % len(DIRECTIONS)],
                    sigle=f"{sigle}-D{d + 1}",
                    code=f"S{d_id:07d}",
                    type=Structure.Type.SECRETARIAT_GENERAL if d == 0 else Structure.Type.DIRECTION,
                    parent_id=m_id,
                    chemin=d_path,
                    niveau=1,
                )
                directions.append(d_id)
                subs = []
                for s in range(round(self.rng.randint(2, 5) * shrink)):
                    s_id = writer.new_id()
                    writer.add(
                        id=s_id,
                        nom=SOUS_DIRECTIONS[s % len(SOUS_DIRECTIONS)],
                        sigle=f"{sigle}-D{d + 1}-SD{s + 1}",
                        code=f"S{s_id:07d}",
                        type=Structure.Type.SOUS_DIRECTION,
                        parent_id=d_id,
                        chemin=f"{d_path}{s_id}/",
                        niveau=2,
                    )
                    subs.append(s_id)
                if subs:
                    levels.append((d_id, 0.30 / n_dirs))
                    levels += [(s_id, 0.60 / n_dirs / len(subs)) for s_id in subs]
                else:
                    levels.append((d_id, 0.90 / n_dirs))
            self.directions_of[m_index] = directions
            for structure_id, share in levels:
                self.places.append((structure_id, m_index))
                weights.append(size * share)
        self.place_cumulative = list(accumulate(weights))

    def random_place(self):
        total = self.place_cumulative[-1]
        return self.places[bisect(self.place_cumulative, self.rng.random() * total)]

    def staff(self):
        """Délégués (one per ministry) and a national administrator, made like real
        ones (roles, permissions group, TOTP), before the bulk rows take their keys."""
        from allauth.mfa.models import Authenticator
        from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

        from cadres.services import grant_role

        User, Role = self.User, self.Role
        self.delegues = []
        # One key per run keeps --append runs apart (the emails are unique).
        run = (User.objects.aggregate(m=models.Max("pk"))["m"] or 0) + 1
        accounts = [(f"admin.{run}@bench.gouv.fr", "Administration", "Nationale", None)]
        for m_id, _path, sigle in self.ministries:
            email = f"delegue.{_ascii(sigle)}.{run}@bench.gouv.fr"
            accounts.append((email, "Délégué", sigle, m_id))
        structures = {}
        for email, prenom, nom, m_id in accounts:
            user = User.objects.create_user(email=email, first_name=prenom, last_name=nom)
            User.objects.filter(pk=user.pk).update(password=self.password)
            structures[user.pk] = m_id
            self.user_email[user.pk] = email
            if m_id is None:
                grant_role(user, Role.Kind.ADMINISTRATEUR)
                self.admin_id = user.pk
            else:
                self.delegues.append(user.pk)
            if not Authenticator.objects.filter(user=user).exists():
                TOTP.activate(user, generate_totp_secret())
        # Structures are still in the writer's buffer: write them before the roles.
        self.w(self.Structure).flush()
        for user_id in self.delegues:
            grant_role(
                User.objects.get(pk=user_id),
                Role.Kind.DELEGUE,
                [self.Structure.objects.get(pk=structures[user_id])],
            )

    def cadres(self):
        from accompagnement.management.commands.seed_demo import CORPS, FONCTIONS, VIVIERS

        Cadre, Vivier = self.Cadre, self.Vivier
        cadres = self.w(Cadre)
        vivier_ids = [Vivier.objects.get_or_create(nom=nom)[0].pk for nom in VIVIERS]
        vivier_ids.append(
            Vivier.objects.get_or_create(nom="Vivier des experts de haut niveau")[0].pk
        )
        vivier_ids.append(Vivier.objects.get_or_create(nom="Vivier des cadres territoriaux")[0].pk)
        links = self.w(Cadre.viviers.through)
        self.cadre_ids, self.cadre_user, self.cadre_ministry = [], {}, {}
        self.cadre_structure, self.cadre_names = {}, {}
        self.by_ministry = {i: [] for i in range(len(MINISTRIES))}
        heads = {}
        for _ in range(self.n):
            structure_id, m_index = self.random_place()
            civilite, prenom, nom = self.person()
            cadre_id = cadres.next_id
            domain = _ascii(MINISTRIES[m_index][1])
            email = f"{_ascii(prenom)}.{_ascii(nom)}.{cadre_id}@{domain}.gouv.fr"
            user_id = self.user(email, prenom, nom)
            corps, grade = self.rng.choice(CORPS)
            head = heads.setdefault(structure_id, cadre_id)
            cadres.add(
                id=cadre_id,
                civilite=civilite,
                nom=nom,
                prenom=prenom,
                email=email,
                matricule=f"RH{cadre_id:08d}",
                categorie=Cadre.Categorie.A_PLUS
                if self.rng.random() < 0.85
                else Cadre.Categorie.CONTRACTUEL,
                corps=corps,
                grade=grade,
                fonction=self.rng.choice(FONCTIONS),
                structure_id=structure_id,
                responsable_id=None if head == cadre_id else head,
                date_prise_poste=self.random_day(self.today - timedelta(days=8 * 365), self.today),
                user_id=user_id,
                actif=self.rng.random() > 0.02,
            )
            self.cadre_ids.append(cadre_id)
            self.cadre_user[cadre_id] = user_id
            self.cadre_ministry[cadre_id] = m_index
            self.cadre_structure[cadre_id] = structure_id
            self.cadre_names[cadre_id] = (civilite, prenom, nom)
            self.user_email[user_id] = email
            self.by_ministry[m_index].append(cadre_id)
            if self.rng.random() < 0.10:
                links.add(cadre_id=cadre_id, vivier_id=self.rng.choice(vivier_ids))
        # The persona: the first cadre, with a programme of every scheme under way.
        self.persona = self.cadre_ids[0]

    def role(self, user_id, kind):
        self.w(self.Role).add(user_id=user_id, kind=kind, cree_le=self.now)

    def demande(self, cadre_id, dispositif, contexte, recue, statut, programme=None):
        """A request of the cadre, decided by their ministry's délégué when it is."""
        from accompagnement.models import Demande, add_one_month

        delegue = self.delegues[self.cadre_ministry[cadre_id]]
        decided = statut in Demande.DECISIONS
        decidee_le = recue + timedelta(days=self.rng.randint(3, 40)) if decided else None
        if decidee_le is not None and decidee_le > self.now:
            decidee_le = self.now
        return self.w(Demande).add(
            cadre_id=cadre_id,
            dispositif=dispositif,
            contexte=contexte,
            motivation="Demande formulée dans le cadre de l'entretien annuel.",
            origine=Demande.Origine.CADRE,
            statut=statut,
            motif_decision="Demande conforme aux orientations du ministère." if decided else "",
            delegue_id=delegue,
            decidee_par_id=delegue if decided else None,
            decidee_le=decidee_le,
            recue_le=recue,
            echeance=add_one_month(timezone.localtime(recue, self.tz)).date(),
            cree_par_id=self.cadre_user[cadre_id],
            programme_type_id=programme[0] if programme else None,
            programme_id=programme[1] if programme else None,
        )

    def notify(self, kind, ct_id, object_id, user_id, due_at, reference_at=None):
        """An outbox row as ``outbox.notify`` writes it: pending if due later, else sent."""
        from accompagnement.models import Notification

        sent = due_at <= self.now
        self.w(Notification).add(
            kind=kind,
            object_type_id=ct_id,
            object_id=object_id,
            recipient_id=user_id,
            email=self.user_email[user_id],
            due_at=due_at,
            reference_at=reference_at or due_at,
            statut=Notification.Statut.ENVOYEE if sent else Notification.Statut.EN_ATTENTE,
            attempts=1 if sent else 0,
            sent_at=due_at if sent else None,
            created_at=min(self.now, due_at - timedelta(days=14)),
        )

    def reminders_for(self, ct_id, session_id, debut, statut, user_ids):
        """The reminders ``sync_session_notifications`` keeps for a planned session,
        and those sent in the last 60 days for sessions held since."""
        if statut == "planifiee" or (self.now - timedelta(days=60) < debut <= self.now):
            for kind, delay in self.reminders.items():
                due_at = debut - delay
                if statut == "planifiee" and due_at <= self.now:
                    continue
                for user_id in user_ids:
                    self.notify(kind, ct_id, session_id, user_id, due_at)

    def session_dates(self, first_day, count, every_days):
        """``count`` dates from ``first_day``, ``every_days`` apart (±3 days), on
        working days, at office hours."""
        day, dates = first_day, []
        for _ in range(count):
            day = self.working_day(day)
            dates.append(self.at(day, self.rng.choice([9, 10, 11, 14, 15, 16])))
            day += timedelta(days=every_days + self.rng.randint(-3, 3))
        return dates

    def session_status(self, debut, interrupted_after=None):
        if interrupted_after is not None and debut > interrupted_after:
            return "annulee"
        if debut > self.now:
            return "planifiee"
        draw = self.rng.random()
        return "realisee" if draw < 0.9 else ("annulee" if draw < 0.95 else "reportee")

    def coaching(self):
        from accompagnement.models import Dispositif, Evaluation
        from coaching.models import (
            Certification,
            Coach,
            Coaching,
            SeanceCoaching,
            Specialite,
            SupervisionAnnuelle,
        )

        coaches = self.w(Coach)
        # The referential comes with a migration, and goes with a flush.
        if not Specialite.objects.exists():
            for code, label in Coaching.Motif.choices:
                Specialite.objects.create(code=code, libelle=label)
        specialites = list(Specialite.objects.values_list("pk", flat=True))
        ct_coaching = ContentType.objects.get_for_model(Coaching).pk
        ct_seance = ContentType.objects.get_for_model(SeanceCoaching).pk
        self.coach_ids, coach_user, coach_tarif = [], {}, {}
        for _ in range(max(2, self.n // 50)):
            civilite, prenom, nom = self.person()
            coach_id = coaches.next_id
            email = f"{_ascii(prenom)}.{_ascii(nom)}.coach{coach_id}@coaching.bench.fr"
            user_id = self.user(email, prenom, nom)
            self.user_email[user_id] = email
            self.role(user_id, self.Role.Kind.COACH)
            external = self.rng.random() < 0.6
            tarif = Decimal(self.rng.choice([300, 350, 400, 450, 500, 600])) if external else None
            coaches.add(
                id=coach_id,
                type=Coach.Type.EXTERNE if external else Coach.Type.INTERNE,
                civilite=civilite,
                nom=nom,
                prenom=prenom,
                email=email,
                user_id=user_id,
                structure_id=None
                if external
                else self.rng.choice(self.directions_of[self.rng.randrange(len(MINISTRIES))]),
                organisme=self.rng.choice(ORGANISMES) if external else "",
                tarif_seance=tarif,
                capacite=self.rng.randint(3, 10),
                charte_signee_le=self.random_day(self.start, self.today - timedelta(days=30)),
            )
            for spec in self.rng.sample(specialites, min(len(specialites), self.rng.randint(1, 3))):
                self.w(Coach.specialites.through).add(coach_id=coach_id, specialite_id=spec)
            expiring = self.rng.random() < 0.05
            self.w(Certification).add(
                coach_id=coach_id,
                organisme=self.rng.choice(["icf", "emcc", "rncp"]),
                niveau=self.rng.choice(["ACC", "PCC", "MCC"]),
                obtenue_le=self.random_day(self.start, self.today - timedelta(days=365)),
                expire_le=self.today + timedelta(days=self.rng.randint(5, 55))
                if expiring
                else self.today + timedelta(days=self.rng.randint(200, 1100)),
            )
            # Supervision hours declared for each of the last three years.
            for year in range(self.today.year - 3, self.today.year):
                self.w(SupervisionAnnuelle).add(
                    coach_id=coach_id, annee=year, heures=Decimal(self.rng.randint(10, 40))
                )
            self.coach_ids.append(coach_id)
            coach_user[coach_id] = user_id
            coach_tarif[coach_id] = tarif

        writer, seances = self.w(Coaching), self.w(SeanceCoaching)
        motifs = Coaching.Motif.values
        for i in range(self.n):
            cadre_id = self.persona if i == 0 else self.rng.choice(self.cadre_ids)
            coach_id = self.rng.choice(self.coach_ids)
            debut = self.working_day(self.random_day(self.start, self.today + timedelta(days=30)))
            if i == 0:  # the persona's, under way with sessions ahead
                debut = self.working_day(self.today - timedelta(days=60))
            nb = self.rng.randint(6, 14)
            dates = self.session_dates(debut, nb, self.rng.randint(21, 35))
            interrupted = dates[-1] < self.now and self.rng.random() < 0.08
            cut = dates[len(dates) // 2] if interrupted else None
            if debut > self.today:
                statut = Coaching.Statut.CONTRACTUALISE
            elif dates[-1] < self.now:
                statut = Coaching.Statut.INTERROMPU if interrupted else Coaching.Statut.TERMINE
            else:
                statut = Coaching.Statut.EN_COURS
            coaching_id = writer.new_id()
            motif = self.rng.choice(motifs)
            demande_id = self.demande(
                cadre_id,
                Dispositif.COACHING,
                motif,
                self.at(debut - timedelta(days=self.rng.randint(35, 70)), 9),
                "acceptee",
                (ct_coaching, coaching_id),
            )
            tarif = coach_tarif[coach_id]
            writer.add(
                id=coaching_id,
                cadre_id=cadre_id,
                coach_id=coach_id,
                demande_id=demande_id,
                origine=Coaching.Origine.CADRE,
                motif=motif,
                objectifs="Objectifs fixés en réunion tripartite : posture, équipe, priorités.",
                reunion_tripartite_le=debut - timedelta(days=7),
                reunion_cloture_le=dates[-1].date() + timedelta(days=14)
                if statut == Coaching.Statut.TERMINE
                else None,
                nb_seances_prevues=nb,
                date_debut=debut,
                date_fin=dates[-1].date() if statut != Coaching.Statut.EN_COURS else None,
                statut=statut,
                montant_devis=tarif * nb if tarif else None,
                bon_de_commande=f"BC-{debut.year}-{coaching_id:06d}" if tarif else "",
                cree_le=self.at(debut - timedelta(days=30), 9),
            )
            participants = [self.cadre_user[cadre_id], coach_user[coach_id]]
            mode = self.rng.choice(["presentiel", "distanciel"])
            for numero, start in enumerate(dates, start=1):
                s_statut = self.session_status(start, cut)
                seance_id = seances.add(
                    coaching_id=coaching_id,
                    numero=numero,
                    debut=start,
                    duree=90,
                    mode=mode,
                    lieu="Locaux du cabinet" if mode == "presentiel" else "",
                    lien_visio="https://visio.bench.gouv.fr/coaching"
                    if mode != "presentiel"
                    else "",
                    statut=s_statut,
                )
                self.reminders_for(ct_seance, seance_id, start, s_statut, participants)
            if statut == Coaching.Statut.TERMINE:
                answered = self.rng.random() < 0.7
                asked = self.at(dates[-1].date() + timedelta(days=15), 8)
                self.w(Evaluation).add(
                    dispositif=Dispositif.COACHING,
                    programme_type_id=ct_coaching,
                    programme_id=coaching_id,
                    cadre_id=cadre_id,
                    participant_id=self.cadre_user[cadre_id],
                    satisfaction=self.rng.randint(3, 5) if answered else None,
                    objectifs_atteints=self.rng.choice(["oui", "partiellement"])
                    if answered
                    else "",
                    demandee_le=min(asked, self.now),
                    remplie_le=min(asked + timedelta(days=5), self.now) if answered else None,
                )

    def mentorat(self):
        from accompagnement.models import Dispositif, Evaluation
        from mentorat.demo import DOMAINES
        from mentorat.models import Campagne, Domaine, Mentor, Mentorat, Mentore, Rencontre

        domaines = [
            Domaine.objects.get_or_create(code=code, defaults={"libelle": libelle})[0].pk
            for code, libelle in DOMAINES
        ]
        ct_mentorat = ContentType.objects.get_for_model(Mentorat).pk
        ct_rencontre = ContentType.objects.get_for_model(Rencontre).pk
        mentors = self.w(Mentor)
        mentor_ids, mentor_user, mentor_ministry = [], {}, {}
        candidates = self.rng.sample(self.cadre_ids, min(len(self.cadre_ids), self.n // 8))
        for i in range(max(2, self.n // 8)):
            inside = i < len(candidates) and self.rng.random() < 0.85
            mentor_id = mentors.next_id
            if inside:
                cadre_id = candidates[i]
                user_id = self.cadre_user[cadre_id]
                email = self.user_email[user_id]
                civilite, prenom, nom = self.cadre_names[cadre_id]
                structure_id = self.cadre_structure[cadre_id]
                mentor_ministry[mentor_id] = self.cadre_ministry[cadre_id]
            else:
                cadre_id, structure_id = None, None
                civilite, prenom, nom = self.person()
                email = f"{_ascii(prenom)}.{_ascii(nom)}.mentor{mentor_id}@retraite.bench.fr"
                user_id = self.user(email, prenom, nom)
                self.user_email[user_id] = email
                mentor_ministry[mentor_id] = None
            self.role(user_id, self.Role.Kind.MENTOR)
            mentors.add(
                id=mentor_id,
                cadre_id=cadre_id,
                user_id=user_id,
                civilite=civilite,
                nom=nom,
                prenom=prenom,
                email=f"mentor{mentor_id}.{email}",
                fonction="Directeur d'administration centrale",
                structure_id=structure_id,
                ville=self.rng.choice(CITIES),
                annees_experience=self.rng.randint(8, 35),
                capacite=self.rng.randint(1, 5),
            )
            for dom in self.rng.sample(domaines, self.rng.randint(2, min(4, len(domaines)))):
                self.w(Mentor.domaines.through).add(mentor_id=mentor_id, domaine_id=dom)
            mentor_ids.append(mentor_id)
            mentor_user[mentor_id] = user_id

        # One confirmed campaign per ministry and year of the history.
        campagnes, campagne_of = self.w(Campagne), {}
        for m_index, (m_id, _path, sigle) in enumerate(self.ministries):
            for year in range(self.start.year, self.today.year + 1):
                campagne_id = campagnes.add(
                    nom=f"Campagne {year} – {sigle}",
                    date_debut=date(year, 9, 1),
                    duree_mois=9,
                    statut=Campagne.Statut.CONFIRMEE,
                    creee_par_id=self.delegues[m_index],
                    calculee_le=self.at(date(year, 7, 1)),
                    confirmee_par_id=self.delegues[m_index],
                    confirmee_le=self.at(date(year, 7, 3)),
                )
                self.w(Campagne.structures.through).add(campagne_id=campagne_id, structure_id=m_id)
                campagne_of[(m_index, year)] = campagne_id

        relations, rencontres = self.w(Mentorat), self.w(Rencontre)
        mentees = {}  # cadre id -> statut of their Mentore row
        contextes = Mentore.Contexte.values
        for i in range(round(1.3 * self.n)):
            cadre_id = self.persona if i == 0 else self.rng.choice(self.cadre_ids)
            mentor_id = self.rng.choice(mentor_ids)
            if mentor_user[mentor_id] == self.cadre_user[cadre_id]:
                mentor_id = mentor_ids[(mentor_ids.index(mentor_id) + 1) % len(mentor_ids)]
            debut = self.working_day(self.random_day(self.start, self.today + timedelta(days=20)))
            if i == 0:  # the persona's, under way
                debut = self.working_day(self.today - timedelta(days=60))
            fin_prevue = debut + timedelta(days=270)
            draw = self.rng.random()
            if debut > self.today:
                statut = Mentorat.Statut.PROPOSE if draw < 0.5 else Mentorat.Statut.ACCEPTE
            elif fin_prevue < self.today:
                statut = (
                    Mentorat.Statut.TERMINE
                    if draw < 0.85
                    else Mentorat.Statut.INTERROMPU
                    if draw < 0.95
                    else Mentorat.Statut.DECLINE
                )
            else:
                statut = Mentorat.Statut.EN_COURS
            accepted = statut not in (Mentorat.Statut.PROPOSE, Mentorat.Statut.DECLINE)
            mentorat_id = relations.new_id()
            contexte = self.rng.choice(contextes)
            self.demande(
                cadre_id,
                Dispositif.MENTORAT,
                contexte,
                self.at(debut - timedelta(days=self.rng.randint(30, 90)), 9),
                "acceptee",
                (ct_mentorat, mentorat_id),
            )
            m_index = self.cadre_ministry[cadre_id]
            ended = statut in (Mentorat.Statut.TERMINE, Mentorat.Statut.INTERROMPU)
            relations.add(
                id=mentorat_id,
                mentor_id=mentor_id,
                mentore_id=cadre_id,
                campagne_id=campagne_of.get((m_index, debut.year)),
                contexte=contexte,
                objectifs="Prendre du recul sur sa pratique managériale.",
                score=self.rng.randint(100, 160),
                statut=statut,
                charte_mentor_le=self.at(debut - timedelta(days=10)) if accepted else None,
                charte_mentore_le=self.at(debut - timedelta(days=9)) if accepted else None,
                date_debut=debut,
                date_fin_prevue=fin_prevue,
                date_fin=fin_prevue if ended else None,
                decline_par="mentor" if statut == Mentorat.Statut.DECLINE else "",
                motif_fin="Indisponibilité." if statut == Mentorat.Statut.INTERROMPU else "",
                cree_le=self.at(debut - timedelta(days=21), 9),
            )
            live = statut in (Mentorat.Statut.EN_COURS, Mentorat.Statut.ACCEPTE)
            mentees[cadre_id] = (
                Mentore.Statut.ACCOMPAGNE
                if live or mentees.get(cadre_id) == Mentore.Statut.ACCOMPAGNE
                else Mentore.Statut.PROPOSE
                if statut == Mentorat.Statut.PROPOSE
                else Mentore.Statut.RETIRE
            )
            if not accepted:
                continue
            participants = [self.cadre_user[cadre_id], mentor_user[mentor_id]]
            cut = None
            if statut == Mentorat.Statut.INTERROMPU:
                cut = self.at(debut + timedelta(days=120))
            dates = self.session_dates(debut, self.rng.randint(8, 16), self.rng.randint(14, 28))
            for start in dates:
                if cut and start > cut:
                    break
                s_statut = self.session_status(start)
                rencontre_id = rencontres.add(
                    mentorat_id=mentorat_id,
                    saisie_par_id=participants[0],
                    debut=start,
                    duree=60,
                    mode=self.rng.choice(["presentiel", "distanciel"]),
                    statut=s_statut,
                )
                self.reminders_for(ct_rencontre, rencontre_id, start, s_statut, participants)
            if statut == Mentorat.Statut.TERMINE:
                answered = self.rng.random() < 0.7
                asked = self.at(fin_prevue + timedelta(days=7), 8)
                self.w(Evaluation).add(
                    dispositif=Dispositif.MENTORAT,
                    programme_type_id=ct_mentorat,
                    programme_id=mentorat_id,
                    cadre_id=cadre_id,
                    participant_id=self.cadre_user[cadre_id],
                    satisfaction=self.rng.randint(2, 5) if answered else None,
                    objectifs_atteints=self.rng.choice(["oui", "partiellement", "non"])
                    if answered
                    else "",
                    demandee_le=min(asked, self.now),
                    remplie_le=min(asked + timedelta(days=3), self.now) if answered else None,
                )

        # The waiting list: mentees with their needs, and the past mentees' rows.
        writer = self.w(Mentore)
        waiting = [
            c for c in self.rng.sample(self.cadre_ids, len(self.cadre_ids)) if c not in mentees
        ]
        for cadre_id in waiting[: self.n // 40]:
            mentees[cadre_id] = Mentore.Statut.EN_ATTENTE
        for cadre_id, statut in mentees.items():
            mentore_id = writer.add(
                cadre_id=cadre_id,
                contexte=self.rng.choice(contextes),
                objectifs="Élargir mon réseau et préparer une prise de poste.",
                annees_experience=self.rng.randint(0, 12),
                ville=self.rng.choice(CITIES),
                mode_souhaite=self.rng.choice(Mentore.ModeSouhaite.values),
                statut=statut,
                en_attente_depuis=self.at(self.today - timedelta(days=self.rng.randint(3, 200))),
            )
            for dom in self.rng.sample(domaines, self.rng.randint(1, 3)):
                self.w(Mentore.besoins.through).add(mentore_id=mentore_id, domaine_id=dom)

    def codev(self):
        from codev.models import Animation, Groupe, Membre, Presence, Seance

        ct_seance = ContentType.objects.get_for_model(Seance).pk
        animateurs = []
        for _ in range(max(1, self.n // 300)):
            civilite, prenom, nom = self.person()
            email = (
                f"{_ascii(prenom)}.{_ascii(nom)}.animateur{self.w(self.User).next_id}@bench.gouv.fr"
            )
            user_id = self.user(email, prenom, nom)
            self.user_email[user_id] = email
            self.role(user_id, self.Role.Kind.ANIMATEUR)
            animateurs.append(user_id)
        groupes, membres, seances = self.w(Groupe), self.w(Membre), self.w(Seance)
        presences = self.w(Presence)
        # Small datasets have ministries of a few cadres: a group needs three at least.
        ministries = [i for i, ids in self.by_ministry.items() if len(ids) >= 3]
        count = max(1, round(self.n / 20)) if ministries else 0
        persona_ministry = self.cadre_ministry[self.persona]
        for g in range(count):
            m_index = self.rng.choice(ministries)
            if g == 0 and persona_ministry in ministries:  # the persona's, under way
                m_index = persona_ministry
            m_id, _path, sigle = self.ministries[m_index]
            rythme = self.rng.choice([3, 4])
            size = min(self.rng.randint(6, 8), len(self.by_ministry[m_index]))
            # A third of them (N/60) under way today (a séance still ahead), the others
            # over the history.
            if g < max(1, count // 3):
                since = self.today - timedelta(weeks=rythme * (size - 1) - 1)
            else:
                since = self.start
            debut = self.working_day(self.random_day(since, self.today + timedelta(days=30)))
            animateur = self.rng.choice(animateurs)
            mode = self.rng.choice(["presentiel", "distanciel"])
            external = self.rng.random() < 0.25  # a provider's animateur, on a quote
            groupe_id = groupes.add(
                nom=f"Codéveloppement {sigle} {debut.year} n° {g + 1}",
                theme="Piloter une transformation",
                structure_id=m_id,
                animateur_id=animateur,
                mode=mode,
                lieu="Salle du conseil" if mode == "presentiel" else "",
                lien_visio="https://visio.bench.gouv.fr/codev" if mode == "distanciel" else "",
                date_debut=debut,
                date_fin=debut + timedelta(days=270),
                rythme_semaines=rythme,
                animation=Animation.EXTERNE if external else Animation.INTERNE,
                prestataire=self.rng.choice(ORGANISMES) if external else "",
                montant_devis=Decimal(self.rng.choice([4800, 6000, 7200])) if external else None,
                bon_de_commande=f"BC-CODEV-{debut.year}-{g + 1:05d}" if external else "",
                cree_le=self.at(debut - timedelta(days=30), 9),
            )
            members = []
            chosen = self.rng.sample(self.by_ministry[m_index], size)
            if g == 0 and self.persona in self.by_ministry[m_index] and self.persona not in chosen:
                chosen[0] = self.persona
            for cadre_id in chosen:
                left = self.rng.random() < 0.05
                membre_id = membres.add(
                    groupe_id=groupe_id,
                    cadre_id=cadre_id,
                    date_entree=debut - timedelta(days=7),
                    date_sortie=debut + timedelta(days=100) if left else None,
                )
                members.append((membre_id, cadre_id, left))
            dates = self.session_dates(debut, size, rythme * 7)
            for numero, start in enumerate(dates, start=1):
                s_statut = self.session_status(start)
                held = s_statut == "realisee"
                client = members[(numero - 1) % size][0]
                seance_id = seances.add(
                    groupe_id=groupe_id,
                    numero=numero,
                    client_id=client,
                    debut=start,
                    duree=120,
                    mode=mode,
                    statut=s_statut,
                    commencee_le=start if held else None,
                    terminee_le=start + timedelta(minutes=120) if held else None,
                    note_regulation=self.rng.randint(3, 5) if held else None,
                )
                present_members = [
                    (m, c)
                    for m, c, left in members
                    if not (left and start.date() > debut + timedelta(days=100))
                ]
                if held:
                    for membre_id, _cadre_id in present_members:
                        presences.add(
                            seance_id=seance_id,
                            membre_id=membre_id,
                            present=self.rng.random() < 0.9,
                        )
                participants = [animateur] + [self.cadre_user[c] for _m, c in present_members]
                self.reminders_for(ct_seance, seance_id, start, s_statut, participants)

    def immersion(self):
        from accompagnement.models import Dispositif
        from immersion.models import Immersion, JourImmersion

        ct_immersion = ContentType.objects.get_for_model(Immersion).pk
        writer, jours = self.w(Immersion), self.w(JourImmersion)
        for i in range(max(1, self.n // 20)):
            cadre_id = self.persona if i == 0 else self.rng.choice(self.cadre_ids)
            recue = self.random_day(self.start + timedelta(days=3 * 365), self.today)
            if i == 0:  # the persona's, ahead
                recue = self.today - timedelta(days=20)
            first = self.working_day(recue + timedelta(days=self.rng.randint(95, 150)))
            days, day = [], first
            for _ in range(self.rng.randint(2, 10)):
                day = self.working_day(day)
                days.append(day)
                day += timedelta(days=1)
            draw = 0.0 if i == 0 else self.rng.random()
            if days[-1] < self.today:
                statut = Immersion.Statut.TERMINEE if draw < 0.9 else Immersion.Statut.ANNULEE
            else:
                statut = (
                    Immersion.Statut.ACCEPTEE
                    if draw < 0.6
                    else Immersion.Statut.DEMANDEE
                    if draw < 0.9
                    else Immersion.Statut.REFUSEE
                )
            decided = statut != Immersion.Statut.DEMANDEE
            immersion_id = writer.new_id()
            delegue = self.delegues[self.cadre_ministry[cadre_id]]
            self.demande(
                cadre_id,
                Dispositif.IMMERSION,
                "debouche",
                self.at(recue, 9),
                "refusee"
                if statut == Immersion.Statut.REFUSEE
                else "acceptee"
                if decided
                else "en_instruction",
                (ct_immersion, immersion_id) if decided else None,
            )
            done = statut == Immersion.Statut.TERMINEE
            writer.add(
                id=immersion_id,
                cadre_id=cadre_id,
                statut=statut,
                motivation="Découvrir le pilotage territorial des politiques publiques.",
                projet_professionnel="Prendre un poste de sous-préfet.",
                structure_accueil=self.rng.choice(HOSTS),
                lieu=self.rng.choice(CITIES),
                fonctions_observees="Direction de cabinet, gestion de crise.",
                tuteur_nom="Tuteur Désigné",
                tuteur_email=f"tuteur{immersion_id}@accueil.bench.gouv.fr",
                accueil_representant_nom="Représentant de l'accueil",
                accueil_representant_email=f"accueil{immersion_id}@accueil.bench.gouv.fr",
                employeur_representant_nom="Représentant de l'employeur",
                employeur_representant_email=f"employeur{immersion_id}@bench.gouv.fr",
                recue_le=recue,
                motif_decision="Projet cohérent." if decided else "",
                decidee_par_id=delegue if decided else None,
                decidee_le=self.at(recue + timedelta(days=10)) if decided else None,
                commencee_le=self.at(days[0], 9) if done else None,
                realisation="effectuee" if done else "",
                cree_le=self.at(recue, 9),
            )
            for day in days:
                jours.add(immersion_id=immersion_id, date=day, effectue=True if done else None)

    def open_demandes(self):
        from accompagnement.models import Demande, Dispositif, add_one_month

        ct_demande = ContentType.objects.get_for_model(Demande).pk
        choices = [Dispositif.COACHING, Dispositif.MENTORAT, Dispositif.CODEV]
        for _ in range(round(0.03 * self.n)):
            cadre_id = self.rng.choice(self.cadre_ids)
            recue = self.now - timedelta(days=self.rng.randint(0, 45), hours=self.rng.randint(0, 9))
            statut = self.rng.choice(Demande.OPEN_STATUSES)
            demande_id = self.demande(
                cadre_id, self.rng.choice(choices), "prise_de_poste", recue, statut
            )
            # The deadline reminders of the délégué in charge (services.demandes).
            echeance = add_one_month(timezone.localtime(recue, self.tz)).date()
            delegue = self.delegues[self.cadre_ministry[cadre_id]]
            for kind, due_at in (
                ("demande_echeance_proche", self.at(echeance, 8) - timedelta(days=7)),
                ("demande_en_retard", self.at(echeance, 8)),
            ):
                self.notify(kind, ct_demande, demande_id, delegue, due_at)
        for _ in range(round(0.02 * self.n)):
            cadre_id = self.rng.choice(self.cadre_ids)
            recue = self.at(self.random_day(self.start, self.today - timedelta(days=40)), 9)
            self.demande(cadre_id, self.rng.choice(choices), "difficulte", recue, "refusee")

    def reset_sequences(self):
        sql = connection.ops.sequence_reset_sql(
            no_style(), [w.model for w in self.writers.values()]
        )
        with connection.cursor() as cursor:
            for statement in sql:
                cursor.execute(statement)


def is_empty():
    """Whether the database holds no cadre and no account yet."""
    from cadres.models import Cadre, User

    return not (Cadre.objects.exists() or User.objects.exists())


def build(n, seed=1, out=None):
    """Add the dataset for ``n`` cadres; returns (rows per model, [(section, seconds)])."""
    import random

    generator = Generator(n, random.Random(seed), out)
    with transaction.atomic():
        counts = generator.run()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")  # fresh statistics for the planner
    return counts, generator.timings
