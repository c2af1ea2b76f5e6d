from allauth.account.adapter import DefaultAccountAdapter
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request):
        # Accounts are opened by an administrator's invitation, never by self sign-up.
        return False

    def get_login_redirect_url(self, request):
        # Délégués and administrators land on their dashboard; everyone else on the
        # portal. An explicit ?next= still wins (allauth reads it before asking here).
        from django.urls import reverse

        if request.user.is_staff:
            return reverse("admin_dashboard")
        return super().get_login_redirect_url(request)


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    def is_open_for_signup(self, request, sociallogin):
        # ProConnect signs in people already known by their email, nobody else.
        return False

    def pre_social_login(self, request, sociallogin):
        from .models import User

        if sociallogin.is_existing:
            return
        email = (sociallogin.user.email or "").lower()
        user = User.objects.filter(email=email, is_active=True).first() if email else None
        if user is not None:
            sociallogin.connect(request, user)
