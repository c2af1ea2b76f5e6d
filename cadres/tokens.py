from django.contrib.auth.tokens import PasswordResetTokenGenerator


class InvitationTokenGenerator(PasswordResetTokenGenerator):
    """Single use: the token hashes the password, which the invitee then sets."""

    key_salt = "cadres.tokens.InvitationTokenGenerator"


invitation_token = InvitationTokenGenerator()
