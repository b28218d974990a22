"""Where an event comes from, and whether a message in a group is meant for the bot.

In a one-on-one chat every text is a title to write about. In a group or room the bot answers
only when addressed: a mention of the bot itself (the webhook marks it `isSelf`) or the prefix
(`/寫` by default) at the start; what is left after removing them is the title.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from linebot.v3.webhooks import (
    Event,
    GroupSource,
    RoomSource,
    TextMessageContent,
    UserMentionee,
    UserSource,
)


@dataclass(frozen=True)
class Chat:
    kind: Literal["user", "group", "room"]
    chat_id: str
    """Where a push message goes: the user, group or room id."""
    sender: str | None
    """The LINE user id of whoever sent the event (absent for some group events)."""

    @property
    def one_on_one(self) -> bool:
        return self.kind == "user"

    @property
    def user_id(self) -> str | None:
        """Namespaced, so a LINE user never shares an A/B bucket or hash with an API user id."""
        return f"line:{self.sender}" if self.sender else None


def chat_of(event: Event) -> Chat | None:
    source = event.source
    if isinstance(source, UserSource) and source.user_id:
        return Chat("user", source.user_id, source.user_id)
    if isinstance(source, GroupSource):
        return Chat("group", source.group_id, source.user_id)
    if isinstance(source, RoomSource):
        return Chat("room", source.room_id, source.user_id)
    return None


def _without_self_mentions(message: TextMessageContent) -> str | None:
    """The text with the bot's mentions cut out; None when it does not mention the bot.

    Mention positions count UTF-16 code units (LINE's clients are Java, Swift and JavaScript),
    so they are applied to the UTF-16 form; for text without emoji that is the same as str.
    """
    mentionees = message.mention.mentionees if message.mention else []
    mine = [m for m in mentionees if isinstance(m, UserMentionee) and m.is_self]
    if not mine:
        return None
    units = message.text.encode("utf-16-le", errors="surrogatepass")
    for mention in sorted(mine, key=lambda m: m.index, reverse=True):
        units = units[: 2 * mention.index] + units[2 * (mention.index + mention.length) :]
    return units.decode("utf-16-le", errors="replace")


def prompt_for_bot(chat: Chat, message: TextMessageContent, prefix: str) -> str | None:
    """The title a text asks for (maybe empty), or None when it is not meant for the bot."""
    if chat.one_on_one:
        return message.text.strip()
    mentioned = _without_self_mentions(message)
    text = (message.text if mentioned is None else mentioned).strip()
    if prefix and text.startswith(prefix):
        return text[len(prefix) :].strip()
    return None if mentioned is None else text
