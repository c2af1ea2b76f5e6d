from allauth.mfa.models import Authenticator
from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect
from django.urls import reverse

# Pages a staff member without TOTP may still reach: setting it up (allauth asks to
# confirm the password before activating TOTP), leaving, assets.
_OPEN_PREFIXES = (
    "/compte/2fa/",
    "/compte/reauthenticate/",
    "/compte/logout/",
    "/compte/deconnexion/",
    "/static/",
    "/sante/",
)


class StaffMfaRequiredMiddleware:
    """Staff (délégués, administrators) must have activated TOTP before using anything."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (
            settings.MFA_REQUIRED_FOR_STAFF
            and user is not None
            and user.is_authenticated
            and user.is_staff
            and not request.path.startswith(_OPEN_PREFIXES)
            and not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()
        ):
            messages.warning(
                request,
                "Votre rôle donne accès à des données personnelles : activez la double "
                "authentification (application TOTP) pour continuer.",
            )
            return redirect(f"{reverse('mfa_activate_totp')}?next={request.path}")
        return self.get_response(request)
