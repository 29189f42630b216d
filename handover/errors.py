"""The project's own error type.

Every failure a user can cause (bad input, unknown deal, missing model) is a
``HandoverError`` whose message is one line saying what went wrong and what to do
next. The CLI prints it as ``error: <message>`` and exits non-zero; anything else
escaping is a bug.
"""

from __future__ import annotations


class HandoverError(Exception):
    """A failure with a one-line message meant for the user."""

    exit_code = 1

    def __init__(self, message: str) -> None:
        # One line, always: multi-line messages break log scrapers and cron mail.
        super().__init__(" ".join(str(message).split()))

    @property
    def message(self) -> str:
        return str(self)


class InputError(HandoverError):
    """A file the product cannot accept: wrong type, corrupt, empty, too big, undecodable."""


class NotFound(HandoverError):
    """An unknown deal, source, item or clause."""


class Conflict(HandoverError):
    """The thing already exists (a deal slug) or is locked by another run."""


class ModelError(HandoverError):
    """A model could not be found, assembled or loaded."""
