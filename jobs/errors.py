"""The one base class of errors a member may read."""

from typing import ClassVar


class MemberError(Exception):
    """A request that cannot be served, for a reason the member can act on.

    `reply` is what they read: the message itself, after the class's `preface`. Everything that turns
    an error into an answer (the bot's `replies.reply_for`) relies on it being safe to show.
    """

    preface: ClassVar[str] = ""

    @property
    def reply(self) -> str:
        return f"{self.preface}{self}"
