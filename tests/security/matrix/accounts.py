"""Sign-in, MFA and account pages (django-allauth), and the invitation link.

Self sign-up is closed (the page says so); MFA pages ask for a recent authentication
first (``REDIRECT`` to ``/compte/reauthenticate/``) and answer 404 for what the user
does not have (no TOTP to deactivate, no recovery codes to show).
"""

from . import LOGIN, NOT_FOUND, OK, REDIRECT, Row, everyone, public, route_key

OPEN_TO_ANONYMOUS = {"anonymous": OK, "tutor": OK}
STAFF_TOTP = {"delegue": REDIRECT, "other_delegue": REDIRECT, "admin": REDIRECT}


def _legacy(route):
    """allauth's old ``/social/`` addresses, kept as redirects to ``/3rdparty/``."""
    return Row(route_key(route), url=lambda w: "/" + route, expect=public(REDIRECT))


ROWS = [
    Row("account_login", expect=everyone(REDIRECT, **OPEN_TO_ANONYMOUS)),
    Row("account_logout", expect=everyone(OK)),
    Row("account_logout", method="post", expect=public(LOGIN)),
    Row("account_inactive", expect=public(OK)),
    Row("account_signup", expect=everyone(REDIRECT, **OPEN_TO_ANONYMOUS)),
    Row("account_reauthenticate", expect=everyone(OK)),
    Row("account_email", expect=everyone(OK)),
    Row("account_email_verification_sent", expect=public(OK)),
    Row("account_change_password", expect=everyone(OK)),
    Row("account_set_password", expect=everyone(REDIRECT)),
    Row("account_reset_password", expect=public(OK)),
    Row("account_reset_password_done", expect=public(OK)),
    Row("account_reset_password_from_key_done", expect=public(OK)),
    Row(
        "account_reset_password_from_key",
        lambda w: {"uidb36": "1", "key": "forged-key"},
        public(OK),
        variant="forged",
    ),
    Row("account_confirm_login_code", expect=everyone(REDIRECT)),
    # A forged key shows allauth's "invalid or expired link" page.
    Row("account_confirm_email", lambda w: {"key": "forged"}, public(OK), variant="forged"),
    Row("mfa_index", expect=everyone(OK)),
    Row("mfa_authenticate", expect=everyone(REDIRECT)),
    Row("mfa_reauthenticate", expect=everyone(REDIRECT, delegue=OK, other_delegue=OK, admin=OK)),
    Row("mfa_activate_totp", expect=everyone(REDIRECT)),
    Row("mfa_deactivate_totp", expect=everyone(NOT_FOUND, **STAFF_TOTP)),
    Row("mfa_view_recovery_codes", expect=everyone(NOT_FOUND)),
    Row("mfa_generate_recovery_codes", expect=everyone(REDIRECT)),
    Row("mfa_download_recovery_codes", expect=everyone(NOT_FOUND)),
    Row("socialaccount_login_cancelled", expect=public(OK)),
    Row("socialaccount_login_error", expect=public(401)),
    Row("socialaccount_signup", expect=public(LOGIN)),
    Row("socialaccount_connections", expect=everyone(OK)),
    _legacy("compte/social/login/cancelled/"),
    _legacy("compte/social/login/error/"),
    _legacy("compte/social/signup/"),
    _legacy("compte/social/connections/"),
    Row("openid_connect_login", lambda w: {"provider_id": "proconnect"}, public(NOT_FOUND)),
    Row("openid_connect_callback", lambda w: {"provider_id": "proconnect"}, public(NOT_FOUND)),
    # The invitation link (uid + one-time token) is the credential.
    Row(
        "invitation_accept",
        lambda w: {"uidb64": w.invitation_uid, "token": w.invitation_token},
        public(OK),
        variant="own link",
    ),
    Row(
        "invitation_accept",
        lambda w: {"uidb64": w.invitation_uid, "token": "forged-token"},
        public(NOT_FOUND),
        variant="forged",
    ),
]
