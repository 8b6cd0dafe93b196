"""Password validators added to Django's own (see AUTH_PASSWORD_VALIDATORS)."""

from django.core.exceptions import ValidationError
from django.utils.translation import ngettext


class MaximumLengthValidator:
    """Refuse passwords over 128 characters (ASVS 2.1.2): hashing cost stays bounded."""

    def __init__(self, max_length: int = 128) -> None:
        self.max_length = max_length

    def validate(self, password: str, user: object = None) -> None:
        if len(password) > self.max_length:
            raise ValidationError(
                ngettext(
                    "This password is too long: use at most %(max_length)d character.",
                    "This password is too long: use at most %(max_length)d characters.",
                    self.max_length,
                )
                % {"max_length": self.max_length},
                code="password_too_long",
            )

    def get_help_text(self) -> str:
        return ngettext(
            "Your password can be up to %(max_length)d character long.",
            "Your password can be up to %(max_length)d characters long.",
            self.max_length,
        ) % {"max_length": self.max_length}
