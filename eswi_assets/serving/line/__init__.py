"""The LINE channel: signed webhook events in, generated answers and rating buttons out.

- `chat`: where an event comes from, and whether a group message is meant for the bot;
- `postback`: what a button's postback data asks for (an `action` field per kind of button);
- `messages`: everything the bot says, in Traditional Chinese;
- `client`: the async Messaging API calls, with deadlines and a bounded connection pool;
- `bot`: what each event gets.
"""

from eswi_assets.serving.line.bot import LineBot
from eswi_assets.serving.line.client import LineClient

__all__ = ["LineBot", "LineClient"]
