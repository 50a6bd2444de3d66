"""Who is acting: the application itself (Platform API), one of its chat users, or an operator."""

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

    from .models import Application, ChatUser


@dataclass(frozen=True, slots=True)
class Actor:
    application: "Application"
    user: "ChatUser | None" = None
    operator: "AbstractBaseUser | None" = None

    @property
    def is_application(self) -> bool:
        """The application's backend (or an operator acting for it): sees and may do everything."""
        return self.user is None

    @property
    def label(self) -> str:
        if self.operator is not None:
            return f"operator:{self.operator.get_username()}"
        if self.user is not None:
            return f"user:{self.user.name}"
        return f"application:{self.application.pk}"

    @classmethod
    def for_application(cls, application: "Application") -> "Actor":
        return cls(application=application)

    @classmethod
    def for_user(cls, user: "ChatUser") -> "Actor":
        return cls(application=user.application, user=user)

    @classmethod
    def for_operator(cls, application: "Application", operator: "AbstractBaseUser") -> "Actor":
        return cls(application=application, operator=operator)
