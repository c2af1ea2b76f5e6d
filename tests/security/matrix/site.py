"""Public pages, the health check, the root redirect and the secret calendar feed."""

from . import NOT_FOUND, OK, REDIRECT, Row, public, route_key

ROWS = [
    Row(route_key(""), url=lambda w: "/", expect=public(REDIRECT)),
    Row("pages:accessibilite", expect=public(OK)),
    Row("pages:mentions_legales", expect=public(OK)),
    Row("pages:donnees_personnelles", expect=public(OK)),
    Row("health", expect=public(OK)),
    # The feed's address is the secret: whoever holds it reads it, nobody guesses one.
    Row("calendar_feed", lambda w: {"token": w.feed.token}, public(OK), variant="own token"),
    Row("calendar_feed", lambda w: {"token": w.forged_token}, public(NOT_FOUND), variant="forged"),
]
