"""FastAPI's 422 for a body that fails validation, made safe to send.

FastAPI echoes each error's `input`; JSON may carry lone surrogates (`"\\ud800"`), which Python
decodes into a str that cannot be encoded as UTF-8, so the default handler's response raises and
the client gets a 500 and a dropped connection. Every string in the errors (inputs, messages,
locations) is made encodable, unencodable characters becoming U+FFFD; the shape stays FastAPI's.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import Request, status
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

# A str holds a surrogate code point only when it is lone: json.loads joins valid pairs.
_SURROGATE = re.compile("[\ud800-\udfff]")


def encodable(value: Any) -> Any:
    """`value` with every string (also dict keys) encodable as UTF-8."""
    if isinstance(value, str):
        return _SURROGATE.sub("\ufffd", value)
    if isinstance(value, dict):
        return {encodable(key): encodable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [encodable(item) for item in value]
    return value


async def validation_error(request: Request, error: RequestValidationError) -> JSONResponse:
    detail = encodable(jsonable_encoder(error.errors()))
    return JSONResponse({"detail": detail}, status_code=status.HTTP_422_UNPROCESSABLE_CONTENT)
