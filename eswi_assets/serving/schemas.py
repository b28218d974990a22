"""Request and response bodies. The limits live here, so the OpenAPI document shows them and
FastAPI answers 422 before a request reaches a model."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from eswi_assets.serving.registry import Variant
from eswi_assets.stores.feedback import Choice

MAX_PROMPT_CHARS = 500
MAX_SUMMARY_CHARS = 1000
MAX_NEW_TOKENS = 256
MAX_COMMENT_CHARS = 1000


def _encodable(value: str) -> str:
    """JSON may carry lone surrogates; they cannot be tokenized or stored, so refuse them."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as error:
        raise ValueError("text must be valid Unicode (no lone surrogates)") from error
    return value


Text = Annotated[str, AfterValidator(_encodable)]
UserId = Annotated[
    Text,
    Field(
        min_length=1,
        max_length=128,
        description="Your user's id; stored only as a salted hash, and it fixes the A/B variant.",
    ),
]
GenerationId = Annotated[Text, Field(min_length=1, max_length=64)]
FeedbackToken = Annotated[
    Text,
    Field(
        min_length=1,
        max_length=128,
        description="The feedback_token of the answer; without an API key a rating needs it.",
    ),
]
RatingUserId = Annotated[
    Text,
    Field(
        min_length=1,
        max_length=128,
        description="Who rates: required with an API key (the user the answer was served to), "
        "optional with a feedback_token (then it must be that user).",
    ),
]
TOKEN_DESCRIPTION = (
    "Proof that you were served this answer: send it back with your rating (keep it private)."
)


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class GenerateRequest(_Body):
    prompt: Text = Field(
        min_length=1,
        max_length=MAX_PROMPT_CHARS,
        description="The title (topic) to write about; it is put into the prompt format the "
        "models were trained on.",
        examples=["社區長照據點開幕"],
    )
    summary: Text = Field(default="", max_length=MAX_SUMMARY_CHARS)
    max_new_tokens: int = Field(default=64, ge=1, le=MAX_NEW_TOKENS)
    temperature: float = Field(default=0.7, ge=0, le=2, description="0 decodes greedily.")
    top_p: float = Field(default=1.0, gt=0, le=1)
    top_k: int = Field(default=0, ge=0, le=1000, description="0 turns top-k off.")
    user_id: UserId


class GenerateResponse(BaseModel):
    generation_id: str = Field(description="Pass it to /v1/feedback to rate this text.")
    feedback_token: str = Field(description=TOKEN_DESCRIPTION)
    text: str
    model_version: str = Field(description="<asset>/<run id> of the model that wrote it.")
    variant: Variant
    prompt_tokens: int
    completion_tokens: int


class FeedbackRequest(_Body):
    generation_id: GenerationId
    rating: int = Field(ge=1, le=5, description="1 (bad) to 5 (good).")
    comment: Text | None = Field(default=None, max_length=MAX_COMMENT_CHARS)
    feedback_token: FeedbackToken | None = None
    user_id: RatingUserId | None = None


class FeedbackResponse(BaseModel):
    feedback_id: str = Field(description="One per generation: a repeat replaces the rating.")
    generation_id: str
    rating: int
    model_version: str
    changed: bool = Field(description="False when the same rating was already stored.")
    seq: int = Field(description="Version of the stored rating: the larger one is the later.")


class CompareAnswer(BaseModel):
    text: str
    completion_tokens: int


class CompareResponse(BaseModel):
    comparison_id: str = Field(description="Pass it to /v1/comparisons/{id}/choice.")
    feedback_token: str = Field(description=TOKEN_DESCRIPTION)
    first: CompareAnswer
    second: CompareAnswer = Field(
        description="Two models answered; which wrote which is not shown, and the order is "
        "random per comparison."
    )
    prompt_tokens: int


class ChoiceRequest(_Body):
    choice: Choice = Field(description="The better answer, or both_bad.")
    feedback_token: FeedbackToken | None = None
    user_id: RatingUserId | None = None


class ChoiceResponse(BaseModel):
    comparison_id: str
    choice: Choice
    changed: bool = Field(description="False when the same choice was already stored.")
    seq: int = Field(description="Version of the stored choice: the larger one is the later.")


class ModelInfo(BaseModel):
    variant: Variant
    asset: str
    version: str
    model_version: str
    share: float = Field(description="Share of users assigned this variant.")
    loaded_at: datetime
    parameters: int


class ModelsResponse(BaseModel):
    ready: bool
    experiment: str
    models: list[ModelInfo]
    problems: dict[str, str] = Field(description="Why a variant is not served, by variant.")


class Readiness(BaseModel):
    ready: bool
    problems: dict[str, str]


class Health(BaseModel):
    status: str = "ok"


class ErrorResponse(BaseModel):
    detail: str


BODY_ERRORS: dict[int | str, dict] = {
    400: {"model": ErrorResponse, "description": "The body is not JSON (or not UTF-8)."},
    413: {"model": ErrorResponse, "description": "The body is larger than the limit."},
}
RATE_LIMITED: dict[int | str, dict] = {
    429: {
        "model": ErrorResponse,
        "description": "Too many requests for this user (see Retry-After), or the queue is full.",
    },
}
# The client key is optional: anonymous callers are served too (with plain user ids), which
# OpenAPI says with an empty requirement next to the key's.
OPTIONAL_CLIENT_KEY = {"security": [{}, {"ClientKey": []}]}
CALLER_ERRORS: dict[int | str, dict] = {
    401: {"model": ErrorResponse, "description": "Unknown X-API-Key."},
    403: {
        "model": ErrorResponse,
        "description": "A namespaced user id ('line:...', '<namespace>:...') without the "
        "namespace's API key.",
    },
}
