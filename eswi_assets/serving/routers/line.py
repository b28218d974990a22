from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Header, HTTPException, Request, status
from linebot.v3.exceptions import InvalidSignatureError

from eswi_assets.serving.line import LineBot

router = APIRouter(prefix="/line", tags=["line"])


@router.post(
    "/webhook",
    responses={
        400: {"description": "Bad signature or body; nothing is handled."},
        503: {"description": "No LINE channel configured."},
    },
)
async def webhook(
    request: Request,
    background: BackgroundTasks,
    x_line_signature: Annotated[str, Header()] = "",
) -> str:
    """LINE Messaging API webhook: answers at once, handles the events after the response."""
    bot: LineBot | None = request.app.state.line_bot
    if bot is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "no LINE channel configured")
    try:
        events = bot.parse((await request.body()).decode("utf-8"), x_line_signature)
    except InvalidSignatureError:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "invalid X-Line-Signature") from None
    except ValueError as error:  # also UnicodeDecodeError
        raise HTTPException(status.HTTP_400_BAD_REQUEST, str(error)) from None
    background.add_task(bot.handle, await bot.first_deliveries(events))
    return "OK"
