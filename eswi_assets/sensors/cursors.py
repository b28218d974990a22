"""Sensor cursors made of counters, kept as JSON that an operator can read and reset in the UI."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Self


@dataclass(frozen=True)
class CounterCursor:
    """Base for a frozen dataclass of int fields; an empty cursor is all zeros."""

    @classmethod
    def parse(cls, raw: str | None) -> Self:
        if not raw:
            return cls()
        try:
            return cls(**{k: int(v) for k, v in json.loads(raw).items()})
        except (ValueError, TypeError) as error:
            raise ValueError(f"{cls.__name__} {raw!r} is not valid: {error}") from error

    def dump(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)
