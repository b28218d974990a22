"""Sensor cursors made of counters, kept as JSON that an operator can read and reset in the UI."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from typing import Self


@dataclass(frozen=True)
class CounterCursor:
    """Base for a frozen dataclass of int fields; an empty cursor is all zeros."""

    @classmethod
    def parse(cls, raw: str | None) -> Self:
        """The cursor in `raw`; fields an older or newer version wrote but this one lacks are
        dropped, missing ones start at zero, and a bare number (a one-counter cursor) is the
        first field. Anything else raises, so the tick fails and Dagster keeps the cursor."""
        if not raw:
            return cls()
        try:
            data = json.loads(raw)
            if isinstance(data, int):
                data = {fields(cls)[0].name: data}
            known = {f.name for f in fields(cls)}
            return cls(**{k: int(v) for k, v in data.items() if k in known})
        except (ValueError, TypeError, AttributeError) as error:
            raise ValueError(f"{cls.__name__} {raw!r} is not valid: {error}") from error

    def dump(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)
