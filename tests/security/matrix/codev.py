"""Co-development (``/codev/``): members see their group; only its animateur acts on
it and runs its séances; creating a group is the animateurs' (403 for others)."""

from . import DONE, FORBIDDEN, NOT_ALLOWED, OK, Row, everyone, only

ANIMATES = {"animateur": DONE}
SEANCE_ACTIONS = [
    "codev:seance_pause",
    "codev:seance_client",
    "codev:seance_reschedule",
    "codev:seance_phase",
    "codev:seance_presences",
    "codev:seance_probleme",
    "codev:seance_contrat",
    "codev:seance_plan",
    "codev:seance_suivi",
    "codev:seance_apprentissages",
    "codev:seance_regulation",
]

ROWS = [
    Row("codev:groupes", expect=everyone(OK)),
    Row("codev:groupe_create", expect=only(FORBIDDEN, animateur=OK, other_animateur=OK)),
    Row(
        "codev:groupe_create",
        method="post",
        expect=only(FORBIDDEN, animateur=DONE, other_animateur=DONE),
    ),
    Row("codev:groupe", {"pk": "groupe"}, only(animateur=OK, cadre=OK)),
    Row(
        "codev:groupe",
        {"pk": "other_groupe"},
        only(other_animateur=OK, other_cadre=OK),
        variant="other's",
    ),
    Row("codev:groupe_edit", {"pk": "groupe"}, only(animateur=OK)),
    Row("codev:groupe_edit", {"pk": "groupe"}, only(**ANIMATES), method="post"),
    Row("codev:membre_add", {"pk": "groupe"}, only(**ANIMATES), method="post"),
    Row("codev:membre_add", {"pk": "groupe"}, everyone(NOT_ALLOWED)),
    Row("codev:cycle_generate", {"pk": "groupe"}, only(**ANIMATES), method="post"),
    Row("codev:cycle_generate", {"pk": "groupe"}, everyone(NOT_ALLOWED)),
    Row("codev:membre_remove", {"pk": "peer_membre"}, only(**ANIMATES), method="post"),
    Row("codev:membre_remove", {"pk": "peer_membre"}, everyone(NOT_ALLOWED)),
    Row("codev:seance", {"pk": "seance"}, only(animateur=OK)),
    Row("codev:seance", {"pk": "other_seance"}, only(other_animateur=OK), variant="other's"),
    *[Row(name, {"pk": "seance"}, only(**ANIMATES), method="post") for name in SEANCE_ACTIONS],
    *[Row(name, {"pk": "seance"}, everyone(NOT_ALLOWED)) for name in SEANCE_ACTIONS],
    # The four-A evaluation: the séance's members only (not even its animateur).
    Row("codev:seance_evaluation", {"pk": "seance"}, only(cadre=OK)),
    Row("codev:seance_evaluation", {"pk": "seance"}, only(cadre=DONE), method="post"),
    Row(
        "codev:seance_evaluation",
        {"pk": "other_seance"},
        only(other_cadre=OK),
        variant="other's",
    ),
]
