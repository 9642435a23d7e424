from django.conf import settings
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.utils.crypto import constant_time_compare
from django.utils.http import base36_to_int


class InvitationTokenGenerator(PasswordResetTokenGenerator):
    """First-connection links: like reset links (single use: the token dies
    once a password is set) but valid for INVITATION_VALID_DAYS."""

    key_salt = "extranet.tokens.InvitationTokenGenerator"

    def check_token(self, user, token):
        if not (user and token) or token.count("-") != 1:
            return False
        ts_b36, _hash = token.split("-")
        try:
            ts = base36_to_int(ts_b36)
        except ValueError:
            return False
        if not any(
            constant_time_compare(self._make_token_with_timestamp(user, ts, secret), token)
            for secret in [self.secret, *self.secret_fallbacks]
        ):
            return False
        return self._num_seconds(self._now()) - ts <= settings.INVITATION_VALID_DAYS * 86400


invitation_token_generator = InvitationTokenGenerator()
