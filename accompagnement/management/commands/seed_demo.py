"""Believable demo data: two ministries, ~50 cadres, one délégué per ministry, an
administrator, a coach, a mentor and an animateur, then whatever each scheme app adds
through its registry entry (``Scheme.seed_demo``). Safe to run twice."""

import random
from datetime import date, timedelta

from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from accompagnement import registry
from accompagnement.models import Demande, Dispositif
from cadres.models import Cadre, Role, Structure, User, Vivier
from cadres.services import grant_role

DEMO_PASSWORD = "demo-accompagnement-2026"

TREE = {
    ("Ministère de l'Intérieur et des Outre-mer", "MIOM"): {
        ("Secrétariat général", "SG"): [
            ("Direction des ressources et des compétences de la police nationale", "DRCPN"),
            ("Direction du numérique", "DNUM"),
        ],
        ("Direction générale des collectivités locales", "DGCL"): [
            ("Sous-direction des finances locales", "SDFL"),
        ],
        ("Direction générale de la sécurité civile et de la gestion des crises", "DGSCGC"): [],
        ("Préfecture de la région Auvergne-Rhône-Alpes", "PR-ARA"): [],
    },
    ("Ministère de l'Économie, des Finances et de la Souveraineté industrielle", "MEF"): {
        ("Secrétariat général", "SG-MEF"): [("Service des ressources humaines", "SRH")],
        ("Direction générale des finances publiques", "DGFiP"): [
            ("Service de la gestion fiscale", "GF"),
            ("Direction régionale des finances publiques d'Île-de-France", "DRFiP-IDF"),
        ],
        ("Direction générale du Trésor", "DG Trésor"): [],
        ("Direction générale des entreprises", "DGE"): [],
    },
}

PRENOMS_F = [
    "Claire",
    "Sophie",
    "Isabelle",
    "Nathalie",
    "Camille",
    "Hélène",
    "Anne",
    "Julie",
    "Marion",
    "Céline",
    "Agnès",
    "Laure",
    "Émilie",
    "Caroline",
    "Sandrine",
]
PRENOMS_M = [
    "Thomas",
    "Nicolas",
    "Julien",
    "Pierre",
    "Antoine",
    "François",
    "Olivier",
    "Marc",
    "Laurent",
    "Benoît",
    "Sébastien",
    "Guillaume",
    "Vincent",
    "Xavier",
    "Jérôme",
]
NOMS = [
    "Martin",
    "Bernard",
    "Dubois",
    "Durand",
    "Lefèvre",
    "Moreau",
    "Laurent",
    "Simon",
    "Michel",
    "Garnier",
    "Faure",
    "Rousseau",
    "Blanc",
    "Guérin",
    "Muller",
    "Henry",
    "Roussel",
    "Nicolas",
    "Perrin",
    "Morin",
    "Mathieu",
    "Clément",
    "Gauthier",
    "Dumont",
    "Lopez",
    "Fontaine",
    "Chevalier",
    "Robin",
    "Masson",
    "Sanchez",
    "Boyer",
    "Denis",
]
FONCTIONS = [
    "Sous-directeur",
    "Chef de service",
    "Directeur de projet",
    "Expert de haut niveau",
    "Secrétaire général adjoint",
    "Directeur adjoint",
    "Chef de bureau",
    "Directeur régional",
    "Sous-préfet",
    "Adjoint au directeur",
]
CORPS = [
    ("Administrateur de l'État", "Administrateur de l'État hors classe"),
    ("Ingénieur des ponts, des eaux et des forêts", "Ingénieur en chef"),
    ("Administrateur des finances publiques", "Administrateur général"),
    ("Commissaire de police", "Commissaire général"),
    ("Attaché d'administration de l'État", "Attaché hors classe"),
]
VIVIERS = [
    "Vivier des futurs directeurs d'administration centrale",
    "Vivier des sous-directeurs et chefs de service",
    "Cycle de développement des cadres dirigeants 2026",
]


class Command(BaseCommand):
    help = "Charge des données de démonstration (deux ministères, ~50 cadres, les rôles)."

    def handle(self, *args, **options):
        rng = random.Random(2026)
        with transaction.atomic():
            ministries = self._structures()
            viviers = [Vivier.objects.get_or_create(nom=n)[0] for n in VIVIERS]
            cadres = self._cadres(rng, ministries, viviers)
            accounts = self._accounts(ministries, cadres)
            for scheme in registry.all_schemes():
                if scheme.seed_demo:
                    scheme.seed_demo(rng)
            self._requests(rng, cadres)
        self._print(accounts)

    def _requests(self, rng, cadres):
        """A year of requests, decided or not, for the dashboard (no programme behind the
        accepted ones: the schemes' own demo data shows programmes)."""
        if Demande.objects.exists():
            return
        now = timezone.now()
        contextes = [Demande.Contexte.PRISE_DE_POSTE, Demande.Contexte.TRANSFORMATION]
        for i in range(60):
            recue_le = now - timedelta(days=rng.randint(3, 330), hours=rng.randint(0, 8))
            statut = rng.choice(
                [*[Demande.Statut.ACCEPTEE] * 3, Demande.Statut.REFUSEE, Demande.Statut.REPORTEE]
                + [Demande.Statut.SOUMISE, Demande.Statut.EN_INSTRUCTION]
            )
            decided = statut in Demande.DECISIONS
            decidee_le = recue_le + timedelta(days=rng.randint(4, 45)) if decided else None
            if decidee_le and decidee_le > now:
                decidee_le = now
            Demande.objects.create(
                cadre=cadres[(i * 7) % len(cadres)],
                dispositif=rng.choice(Dispositif.values),
                contexte=rng.choice(contextes),
                motivation="Demande de démonstration.",
                statut=statut,
                recue_le=recue_le,
                decidee_le=decidee_le,
                motif_decision=""
                if statut == Demande.Statut.ACCEPTEE or not decided
                else "Budget 2026 épuisé.",
            )

    def _structures(self):
        ministries = []
        for (nom, sigle), directions in TREE.items():
            ministry = self._structure(nom, sigle, Structure.Type.MINISTERE, None)
            ministries.append(ministry)
            for (dnom, dsigle), services in directions.items():
                direction = self._structure(dnom, dsigle, Structure.Type.DIRECTION, ministry)
                for snom, ssigle in services:
                    self._structure(snom, ssigle, Structure.Type.SOUS_DIRECTION, direction)
        return ministries

    def _structure(self, nom, sigle, type_, parent):
        obj, _ = Structure.objects.get_or_create(
            nom=nom, parent=parent, defaults={"sigle": sigle, "type": type_}
        )
        return obj

    def _cadres(self, rng, ministries, viviers):
        cadres = []
        for ministry in ministries:
            structures = list(Structure.objects.subtree_of([ministry]))
            domain = "interieur" if "Intérieur" in ministry.nom else "finances"
            for i in range(25):
                feminine = i % 2 == 0
                prenom = rng.choice(PRENOMS_F if feminine else PRENOMS_M)
                nom = rng.choice(NOMS)
                corps, grade = rng.choice(CORPS)
                email = f"{prenom}.{nom}.{i}@{domain}.demo.gouv.fr".lower()
                email = email.replace("é", "e").replace("è", "e").replace("ç", "c")
                cadre, _ = Cadre.objects.get_or_create(
                    matricule=f"{domain[:3].upper()}{i:05d}",
                    defaults={
                        "email": email,
                        "civilite": Cadre.Civilite.MADAME if feminine else Cadre.Civilite.MONSIEUR,
                        "prenom": prenom,
                        "nom": nom,
                        "structure": rng.choice(structures),
                        "fonction": rng.choice(FONCTIONS),
                        "corps": corps,
                        "grade": grade,
                        "date_prise_poste": date(2026, 9, 1) - timedelta(days=rng.randint(0, 1500)),
                    },
                )
                if rng.random() < 0.4:
                    cadre.viviers.add(rng.choice(viviers))
                cadres.append(cadre)
        return cadres

    def _user(self, email, first, last):
        user, created = User.objects.get_or_create(
            email=email, defaults={"first_name": first, "last_name": last}
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save()
        return user

    def _accounts(self, ministries, cadres):
        interieur, economie = ministries
        accounts = []
        admin = self._user("admin@demo.gouv.fr", "Alice", "Administratrice")
        grant_role(admin, Role.Kind.ADMINISTRATEUR)
        accounts.append((admin, "administrateur national"))
        for ministry, email, first in [
            (interieur, "delegue.interieur@demo.gouv.fr", "Denise"),
            (economie, "delegue.economie@demo.gouv.fr", "Didier"),
        ]:
            user = self._user(email, first, "Délégué")
            grant_role(user, Role.Kind.DELEGUE, [ministry])
            accounts.append((user, f"délégué, périmètre {ministry.sigle}"))
        for email, first, kind in [
            ("coach@demo.gouv.fr", "Corinne", Role.Kind.COACH),
            ("mentor@demo.gouv.fr", "Marc", Role.Kind.MENTOR),
            ("animateur@demo.gouv.fr", "Arnaud", Role.Kind.ANIMATEUR),
        ]:
            user = self._user(email, first, Role.Kind(kind).label)
            grant_role(user, kind)
            accounts.append((user, Role.Kind(kind).label.lower()))
        cadre_user = self._user("cadre@demo.gouv.fr", cadres[0].prenom, cadres[0].nom)
        Cadre.objects.filter(pk=cadres[0].pk).update(user=cadre_user, email="cadre@demo.gouv.fr")
        accounts.append((cadre_user, "cadre"))
        mentor_cadre = cadres[-1]
        Cadre.objects.filter(pk=mentor_cadre.pk).update(
            user=User.objects.get(email="mentor@demo.gouv.fr"), email="mentor@demo.gouv.fr"
        )
        return accounts

    def _print(self, accounts):
        out = self.stdout
        out.write(self.style.SUCCESS("Données de démonstration chargées."))
        out.write(f"Mot de passe de tous les comptes : {DEMO_PASSWORD}")
        for user, label in accounts:
            line = f"  {user.email:34} {label}"
            if user.is_staff:
                line += f"  (TOTP, secret {self._totp_secret(user)})"
            out.write(line)
        out.write(
            "Code TOTP du moment : .venv/bin/python manage.py demo_totp EMAIL "
            "(ou ajoutez le secret dans une application d'authentification)."
        )

    def _totp_secret(self, user):
        from allauth.mfa.utils import decrypt

        authenticator = Authenticator.objects.filter(
            user=user, type=Authenticator.Type.TOTP
        ).first()
        if authenticator is None:
            secret = generate_totp_secret()
            TOTP.activate(user, secret)
            return secret
        return decrypt(authenticator.data["secret"])
