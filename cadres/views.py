from django.contrib import messages
from django.contrib.auth.forms import SetPasswordForm
from django.shortcuts import redirect, render
from django.utils.encoding import force_str
from django.utils.http import urlsafe_base64_decode
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters

from .forms import DsfrFormMixin
from .models import User
from .services import mark_invitation_accepted
from .tokens import invitation_token


class InvitationPasswordForm(DsfrFormMixin, SetPasswordForm):
    submit_label = "Activer mon compte"


def _user_from_link(uidb64, token):
    try:
        user = User.objects.get(pk=force_str(urlsafe_base64_decode(uidb64)), is_active=True)
    except (ValueError, TypeError, OverflowError, User.DoesNotExist):
        return None
    return user if invitation_token.check_token(user, token) else None


@never_cache
@sensitive_post_parameters()
def accept_invitation(request, uidb64, token):
    """The invitation link: the invitee chooses a password, then signs in."""
    user = _user_from_link(uidb64, token)
    if user is None:
        return render(request, "cadres/invitation_invalid.html", status=404)
    form = InvitationPasswordForm(user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        form.save()
        mark_invitation_accepted(user)
        messages.success(request, "Votre mot de passe est enregistré. Vous pouvez vous connecter.")
        return redirect("account_login")
    return render(request, "cadres/invitation_accept.html", {"form": form, "invited": user})
