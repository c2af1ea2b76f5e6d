"""The cadre's portal (``/espace/``): home, requests, evaluations, calendar."""

from . import DONE, NOT_ALLOWED, OK, REDIRECT, Row, everyone, only

CADRES = {"cadre": OK, "other_cadre": OK}  # pages of anyone with a cadre profile

ROWS = [
    Row("portal:home", expect=everyone(OK)),
    Row("portal:demande_list", expect=only(**CADRES)),
    Row("portal:demande_create", expect=only(**CADRES)),
    Row("portal:demande_create", method="post", expect=only(cadre=DONE, other_cadre=DONE)),
    Row("portal:demande_detail", {"pk": "demande"}, only(cadre=OK), variant="own"),
    Row("portal:demande_detail", {"pk": "other_demande"}, only(other_cadre=OK), variant="other's"),
    Row("portal:evaluation", {"pk": "evaluation"}, only(cadre=OK)),
    Row("portal:evaluation", {"pk": "evaluation"}, only(cadre=DONE), method="post"),
    Row("portal:agenda", expect=everyone(OK)),
    Row("portal:agenda_revoke", expect=everyone(NOT_ALLOWED)),
    Row("portal:agenda_revoke", method="post", expect=everyone(REDIRECT)),
]
