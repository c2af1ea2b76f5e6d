"""The accessibility statement's facts (templates/pages/accessibilite.html), kept with
the audit that backs them: ``tests/a11y/`` opens every page listed here with axe-core
and fails when a page it audits is missing from this list, or the other way round."""

STATUS = "partiellement conforme"
AUDIT_DATE = "novembre 2026"

# (section, [(URL name, page)]): every HTML page of the audit, as its users name it.
AUDITED_PAGES = [
    (
        "Pages publiques et compte",
        [
            ("account_login", "Connexion"),
            ("mfa_authenticate", "Connexion : code de double authentification"),
            ("account_logout", "Déconnexion"),
            ("account_inactive", "Compte inactif"),
            ("account_signup", "Inscription (fermée : accès sur invitation)"),
            ("account_reauthenticate", "Confirmation du mot de passe"),
            ("account_email", "Adresses électroniques du compte"),
            ("account_email_verification_sent", "Vérification de l'adresse électronique"),
            ("account_confirm_email", "Confirmation de l'adresse électronique"),
            ("account_change_password", "Changement du mot de passe"),
            ("account_reset_password", "Mot de passe oublié"),
            ("account_reset_password_done", "Mot de passe oublié : courriel envoyé"),
            ("account_reset_password_from_key", "Nouveau mot de passe"),
            ("account_reset_password_from_key_done", "Nouveau mot de passe enregistré"),
            ("mfa_index", "Double authentification"),
            ("mfa_reauthenticate", "Confirmation par code de double authentification"),
            ("socialaccount_login_cancelled", "Connexion ProConnect annulée"),
            ("socialaccount_connections", "Comptes ProConnect associés"),
            ("invitation_accept", "Activation du compte (lien d'invitation)"),
            ("pages:accessibilite", "Déclaration d'accessibilité"),
            ("pages:mentions_legales", "Mentions légales"),
            ("pages:donnees_personnelles", "Données personnelles"),
        ],
    ),
    (
        "Espace personnel",
        [
            ("portal:home", "Accueil de l'espace"),
            ("portal:demande_list", "Mes demandes"),
            ("portal:demande_create", "Nouvelle demande d'accompagnement"),
            ("portal:demande_detail", "Détail d'une demande"),
            ("portal:evaluation", "Évaluation d'un accompagnement"),
            ("portal:agenda", "Agenda et abonnement au calendrier"),
            ("rgpd:mes_donnees", "Mes données personnelles"),
            ("parcours:mon_dossier", "Mon dossier"),
        ],
    ),
    (
        "Coaching",
        [
            ("coaching:list", "Mes coachings"),
            ("coaching:detail", "Détail d'un coaching"),
            ("coaching:schedule", "Planification d'une séance (coach)"),
            ("coaching:preselection", "Choix du coach dans la présélection"),
            ("coaching:entretien_reserver", "Réservation d'un entretien de découverte"),
            ("coaching:entretien", "Entretien de découverte"),
        ],
    ),
    (
        "Mentorat",
        [
            ("mentorat:list", "Mes mentorats"),
            ("mentorat:besoins", "Mes souhaits de mentorat"),
            ("mentorat:detail", "Détail d'un mentorat et journal des rencontres"),
            ("mentorat:point_etape", "Point d'étape"),
        ],
    ),
    (
        "Codéveloppement",
        [
            ("codev:groupes", "Groupes de codéveloppement"),
            ("codev:groupe_create", "Création d'un groupe (animateur)"),
            ("codev:groupe", "Page d'un groupe"),
            ("codev:groupe_edit", "Modification d'un groupe (animateur)"),
            ("codev:seance", "Animation d'une séance (animateur)"),
            ("codev:seance_evaluation", "Évaluation d'une séance"),
        ],
    ),
    (
        "Immersion professionnelle",
        [
            ("immersion:list", "Mes immersions"),
            ("immersion:new", "Demande d'immersion"),
            ("immersion:detail", "Détail d'une immersion"),
            ("immersion_public:signer", "Signature de la convention (lien envoyé)"),
            ("immersion_public:retour", "Retour de la structure d'accueil (lien envoyé)"),
        ],
    ),
    (
        "Administration",
        [("admin_dashboard", "Tableau de bord des délégués")],
    ),
]

# What the audit does not cover, or what it found and is not fixed yet.
KNOWN_LIMITS = [
    "Les pages de l'interface d'administration (listes, fiches, import de fichiers RH), "
    "qui reposent sur l'interface standard du cadriciel Django et non sur le système de "
    "design de l'État, ne sont pas auditées, à l'exception du tableau de bord des "
    "délégués.",
    "Les documents PDF (conventions d'immersion, synthèse des données personnelles, "
    "relevé d'activité des mentors) ne sont pas structurés pour les technologies "
    "d'assistance ; leur contenu est repris dans les pages du service.",
    "L'activation de la double authentification présente un code QR ; la clé secrète "
    "correspondante est affichée sous forme de texte et peut être saisie à la place.",
    "Les tests automatiques (axe-core) ne couvrent qu'une partie des critères du RGAA : "
    "la pertinence des alternatives textuelles, l'ordre de lecture et la restitution par "
    "les lecteurs d'écran n'ont pas encore fait l'objet d'un audit manuel.",
]
