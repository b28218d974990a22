"""Document-level quality rules: too short, too long, or too little Chinese to learn from."""

from __future__ import annotations

from dataclasses import dataclass

from eswi_assets.cleaning.chinese import cjk_share


@dataclass(frozen=True)
class QualityRules:
    min_chars: int = 40
    max_chars: int = 20_000
    min_cjk_share: float = 0.5

    def problem(self, body: str) -> str | None:
        """Why `body` should be dropped, or None when it passes every rule."""
        if len(body) < self.min_chars:
            return f"body too short: {len(body)} < {self.min_chars} chars"
        if len(body) > self.max_chars:
            return f"body too long: {len(body)} > {self.max_chars} chars"
        share = cjk_share(body)
        if share < self.min_cjk_share:
            return f"too little Chinese: CJK share {share:.2f} < {self.min_cjk_share}"
        return None
