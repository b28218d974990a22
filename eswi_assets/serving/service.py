"""What the endpoints do, independent of HTTP: assign, generate, compare, remember, rate.

Routers and the LINE handler call this one object, so a rating from a LINE button and one from
the HTTP API take the same path into the feedback store, which is the store of record: every
answer is kept there as a unit, and a rating or choice is an atomic update of that unit. Only
the user an answer was served to can rate it: they prove it with the answer's feedback token,
or the caller is trusted to name them (an API client with its namespace's key, or the LINE
webhook with its signed user id). Anything else gets the same "unknown generation" as an id
that never existed, so ids cannot be probed. Blocking work (the store, hashing with a salt read
from disk) runs in the thread pool, generation in the batcher.
"""

from __future__ import annotations

import asyncio
import secrets
import uuid
from datetime import UTC, datetime, timedelta

from starlette.concurrency import run_in_threadpool

from eswi_assets.serving.batching import Batcher
from eswi_assets.serving.experiments import assign
from eswi_assets.serving.metrics import ServingMetrics
from eswi_assets.serving.ratelimit import Rate, RateLimiter
from eswi_assets.serving.registry import ModelRegistry, ServedModel, Variant
from eswi_assets.serving.sampling import Completion, SamplingParams, prompt_length
from eswi_assets.serving.schemas import (
    ChoiceResponse,
    CompareAnswer,
    CompareResponse,
    FeedbackResponse,
    GenerateRequest,
    GenerateResponse,
    ModelInfo,
    ModelsResponse,
)
from eswi_assets.serving.settings import ServingSettings
from eswi_assets.stores.feedback import (
    Channel,
    FeedbackStore,
    Kind,
    Stored,
    Unit,
    Verdict,
    hash_token,
)
from eswi_assets.training.data import format_prompt


class NotReadyError(RuntimeError):
    """The variant a user is assigned has no model loaded (yet); the message says why."""


class UnknownGenerationError(LookupError):
    """No generation (or comparison) with this id that this caller may rate: never issued,
    pruned after the retention, or served to someone else - deliberately indistinguishable."""


class PromptTooLongError(ValueError):
    """Prompt plus max_new_tokens exceed what the model can attend to."""


class ComparisonUnavailableError(RuntimeError):
    """Only one variant is served, so there is nothing to compare."""


class ServingService:
    def __init__(
        self,
        settings: ServingSettings,
        registry: ModelRegistry,
        batcher: Batcher,
        records: FeedbackStore,
        metrics: ServingMetrics,
    ) -> None:
        self.settings = settings
        self.registry = registry
        self.batcher = batcher
        self.records = records  # the profile's feedback store: units, assignments, LINE ids
        self.metrics = metrics
        self.limiter = RateLimiter(
            {
                "generate": Rate(settings.generate_per_minute, settings.generate_burst),
                "feedback": Rate(settings.feedback_per_minute, settings.feedback_burst),
            }
        )

    def shares(self) -> dict[Variant, float]:
        share = self.settings.candidate_share
        return {"candidate": share, "baseline": 1 - share}

    def variant_for(self, user_id: str) -> Variant:
        s = self.settings
        return assign(s.assignment_salt(), s.experiment_name, user_id, s.candidate_share)

    def _served(self, variant: Variant) -> ServedModel:
        models = self.registry.current
        served = models.models.get(variant)
        if served is None:
            raise NotReadyError(f"variant {variant}: {models.problems.get(variant, 'loading')}")
        return served

    async def _complete(self, served: ServedModel, request: GenerateRequest) -> Completion:
        prompt = format_prompt(request.prompt, request.summary)
        n_prompt = prompt_length(served.tokenizer, prompt)
        if n_prompt + request.max_new_tokens > served.max_positions:
            raise PromptTooLongError(
                f"the prompt is {n_prompt} tokens; with max_new_tokens={request.max_new_tokens} "
                f"that exceeds the model's {served.max_positions} positions"
            )
        params = SamplingParams(
            max_new_tokens=request.max_new_tokens,
            temperature=request.temperature,
            top_p=request.top_p,
            top_k=request.top_k,
        )
        return await self.batcher.submit(served, prompt, params)

    def _spend(self, action: str, user_id: str, cost: int = 1) -> str:
        """The user's hash, after taking `cost` from their bucket for `action`."""
        user_hash = self.records.hash_user(user_id)
        self.limiter.take(action, user_hash, cost)
        return user_hash

    async def generate(self, request: GenerateRequest, channel: Channel) -> GenerateResponse:
        served = self._served(self.variant_for(request.user_id))
        user_hash = await run_in_threadpool(self._spend, "generate", request.user_id)
        completion = await self._complete(served, request)
        token, generation_id = secrets.token_urlsafe(32), uuid.uuid4().hex
        unit = Unit(  # a generation is its own unit: one rating, by the user it was served to
            feedback_id=generation_id,
            kind="rating",
            generation_id=generation_id,
            model_version=served.model_version,
            variant=served.variant,
            prompt=format_prompt(request.prompt, request.summary),
            response=completion.text,
            user_hash=user_hash,
            channel=channel,
            served_at=datetime.now(UTC),
            token_hash=hash_token(token),
        )
        await run_in_threadpool(self._remember, unit)
        self.metrics.generations.labels(variant=served.variant, channel=channel).inc()
        return GenerateResponse(
            generation_id=generation_id,
            feedback_token=token,
            text=completion.text,
            model_version=served.model_version,
            variant=served.variant,
            prompt_tokens=completion.prompt_tokens,
            completion_tokens=completion.completion_tokens,
        )

    def _remember(self, unit: Unit) -> None:
        assert unit.variant is not None
        self.records.record_assignment(self.settings.experiment_name, unit.user_hash, unit.variant)
        self.records.add_unit(unit)

    async def compare(self, request: GenerateRequest, channel: Channel) -> CompareResponse:
        """The candidate's and the baseline's answer to one prompt, in random order."""
        if not 0 < self.settings.candidate_share < 1:
            raise ComparisonUnavailableError(
                f"comparisons need two served variants; candidate_share="
                f"{self.settings.candidate_share} serves only one"
            )
        models = [self._served("candidate"), self._served("baseline")]
        user_hash = await run_in_threadpool(self._spend, "generate", request.user_id, 2)
        completions = await asyncio.gather(*(self._complete(m, request) for m in models))
        pairs = list(zip(models, completions, strict=True))
        if secrets.randbelow(2):
            pairs.reverse()
        (first, first_text), (second, second_text) = pairs
        token = secrets.token_urlsafe(32)
        comparison_id = uuid.uuid4().hex
        unit = Unit(
            feedback_id=comparison_id,
            kind="comparison",
            generation_id=f"{comparison_id}-1",
            model_version=first.model_version,
            variant=first.variant,
            prompt=format_prompt(request.prompt, request.summary),
            response=first_text.text,
            other_generation_id=f"{comparison_id}-2",
            other_model_version=second.model_version,
            other_variant=second.variant,
            other_response=second_text.text,
            user_hash=user_hash,
            channel=channel,
            served_at=datetime.now(UTC),
            token_hash=hash_token(token),
        )
        await run_in_threadpool(self.records.add_unit, unit)
        self.metrics.comparisons.labels(channel=channel).inc()
        return CompareResponse(
            comparison_id=comparison_id,
            feedback_token=token,
            first=CompareAnswer(
                text=first_text.text, completion_tokens=first_text.completion_tokens
            ),
            second=CompareAnswer(
                text=second_text.text, completion_tokens=second_text.completion_tokens
            ),
            prompt_tokens=first_text.prompt_tokens,
        )

    async def rate(
        self,
        generation_id: str,
        user_id: str | None,
        rating: int,
        comment: str | None,
        channel: Channel,
        token: str | None = None,
    ) -> FeedbackResponse:
        """Store the rating of the user a generation was served to. `user_id` (namespaced,
        as served) is enough for trusted callers; anyone else proves it with `token`."""
        verdict = Verdict(at=datetime.now(UTC), rating=rating, comment=comment)
        unit, stored = await run_in_threadpool(
            self._record, "rating", generation_id, user_id, token, verdict
        )
        if stored.changed:
            self.metrics.ratings.labels(
                variant=unit.variant or "", rating=str(rating), channel=channel
            ).inc()
        return FeedbackResponse(
            feedback_id=unit.feedback_id,
            generation_id=unit.generation_id,
            rating=rating,
            model_version=unit.model_version,
            changed=stored.changed,
            seq=stored.seq,
        )

    async def choose(
        self,
        comparison_id: str,
        user_id: str | None,
        choice: str,
        channel: Channel,
        token: str | None = None,
    ) -> ChoiceResponse:
        """Store the choice ("first", "second" or "both_bad") of the user who was shown the
        comparison; who may choose is decided as for `rate`."""
        verdict = Verdict(at=datetime.now(UTC), choice=choice)
        _, stored = await run_in_threadpool(
            self._record, "comparison", comparison_id, user_id, token, verdict
        )
        if stored.changed:
            self.metrics.choices.labels(choice=choice, channel=channel).inc()
        return ChoiceResponse(
            comparison_id=comparison_id, choice=choice, changed=stored.changed, seq=stored.seq
        )

    def _record(
        self,
        kind: Kind,
        unit_id: str,
        user_id: str | None,
        token: str | None,
        verdict: Verdict,
    ) -> tuple[Unit, Stored]:
        unit = self.records.unit(unit_id)
        if unit is None or unit.kind != kind or not self._may_rate(unit, user_id, token):
            raise UnknownGenerationError(_unknown(kind, unit_id))
        self.limiter.take("feedback", unit.user_hash)
        stored = self.records.record(unit_id, verdict)
        if stored is None:  # pruned in between
            raise UnknownGenerationError(_unknown(kind, unit_id))
        return unit, stored

    def _may_rate(self, unit: Unit, user_id: str | None, token: str | None) -> bool:
        retention = timedelta(days=self.settings.generation_retention_days)
        if unit.served_at < datetime.now(UTC) - retention:
            return False
        if token is None and user_id is None:
            return False
        if token is not None and not secrets.compare_digest(
            hash_token(token), unit.token_hash or ""
        ):
            return False
        return user_id is None or secrets.compare_digest(
            self.records.hash_user(user_id), unit.user_hash
        )

    def models(self) -> ModelsResponse:
        current = self.registry.current
        shares = self.shares()
        return ModelsResponse(
            ready=current.ready,
            experiment=self.settings.experiment_name,
            models=[
                ModelInfo(
                    variant=variant,
                    asset=served.asset,
                    version=served.version,
                    model_version=served.model_version,
                    share=shares[variant],
                    loaded_at=served.loaded_at,
                    parameters=served.model.num_parameters(),
                )
                for variant, served in current.models.items()
            ],
            problems=dict(current.problems),
        )

    async def reload(self) -> ModelsResponse:
        current = await run_in_threadpool(self.registry.reload)
        self.metrics.serving({v: m.model_version for v, m in current.models.items()})
        return self.models()


def _unknown(kind: Kind, unit_id: str) -> str:
    what = "generation" if kind == "rating" else "comparison"
    return f"no {what} {unit_id!r} that you can rate (unknown, expired, or served to another user)"
