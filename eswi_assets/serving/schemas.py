"""Request and response bodies. The limits live here, so the OpenAPI document shows them and
FastAPI answers 422 before a request reaches a model."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from eswi_assets.serving.registry import Variant

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
    text: str
    model_version: str = Field(description="<asset>/<run id> of the model that wrote it.")
    variant: Variant
    prompt_tokens: int
    completion_tokens: int


class FeedbackRequest(_Body):
    generation_id: GenerationId
    rating: int = Field(ge=1, le=5, description="1 (bad) to 5 (good).")
    comment: Text | None = Field(default=None, max_length=MAX_COMMENT_CHARS)
    user_id: UserId


class FeedbackResponse(BaseModel):
    feedback_id: str = Field(description="One per (generation, user): a repeat updates it.")
    generation_id: str
    rating: int
    model_version: str
    changed: bool = Field(description="False when the same rating was already stored.")


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
