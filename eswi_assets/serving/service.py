"""What the endpoints do, independent of HTTP: assign, generate, remember, rate.

Routers and the LINE handler call this one object, so a rating from a LINE button and one from
the HTTP API take the same path into the feedback store. Blocking work (SQLite, the feedback
store, hashing with a salt read from disk) runs in the thread pool, generation in the batcher.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime

from starlette.concurrency import run_in_threadpool

from eswi_assets.serving.batching import Batcher
from eswi_assets.serving.experiments import assign
from eswi_assets.serving.metrics import ServingMetrics
from eswi_assets.serving.records import Generation, ServingRecords
from eswi_assets.serving.registry import ModelRegistry, ServedModel, Variant
from eswi_assets.serving.sampling import SamplingParams, prompt_length
from eswi_assets.serving.schemas import (
    FeedbackResponse,
    GenerateRequest,
    GenerateResponse,
    ModelInfo,
    ModelsResponse,
)
from eswi_assets.serving.settings import ServingSettings
from eswi_assets.stores.feedback import Channel, Feedback, FeedbackStore
from eswi_assets.training.data import format_prompt


class NotReadyError(RuntimeError):
    """The variant a user is assigned has no model loaded (yet); the message says why."""


class UnknownGenerationError(LookupError):
    """No remembered generation has this id (never issued, or pruned after the retention)."""


class PromptTooLongError(ValueError):
    """Prompt plus max_new_tokens exceed what the model can attend to."""


def feedback_id(generation_id: str, user_hash: str) -> str:
    """One rating per (generation, user): the same pair always maps to the same id."""
    return hashlib.sha256(f"{generation_id}\x1f{user_hash}".encode()).hexdigest()[:32]


class ServingService:
    def __init__(
        self,
        settings: ServingSettings,
        registry: ModelRegistry,
        batcher: Batcher,
        records: ServingRecords,
        feedback_store: FeedbackStore,
        metrics: ServingMetrics,
    ) -> None:
        self.settings = settings
        self.registry = registry
        self.batcher = batcher
        self.records = records
        self.feedback_store = feedback_store
        self.metrics = metrics

    def shares(self) -> dict[Variant, float]:
        share = self.settings.candidate_share
        return {"candidate": share, "baseline": 1 - share}

    def variant_for(self, user_id: str) -> Variant:
        s = self.settings
        return assign(s.assignment_salt(), s.experiment_name, user_id, s.candidate_share)

    async def generate(self, request: GenerateRequest, channel: Channel) -> GenerateResponse:
        variant = self.variant_for(request.user_id)
        models = self.registry.current
        served = models.models.get(variant)
        if served is None:
            raise NotReadyError(f"variant {variant}: {models.problems.get(variant, 'loading')}")
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
        completion = await self.batcher.submit(served, prompt, params)
        generation_id = uuid.uuid4().hex
        await run_in_threadpool(
            self._remember, generation_id, request.user_id, channel, served, prompt, completion.text
        )
        self.metrics.generations.labels(variant=variant, channel=channel).inc()
        return GenerateResponse(
            generation_id=generation_id,
            text=completion.text,
            model_version=served.model_version,
            variant=variant,
            prompt_tokens=completion.prompt_tokens,
            completion_tokens=completion.completion_tokens,
        )

    def _remember(
        self,
        generation_id: str,
        user_id: str,
        channel: Channel,
        served: ServedModel,
        prompt: str,
        response: str,
    ) -> None:
        user_hash = self.feedback_store.hash_user(user_id)
        self.records.record_assignment(self.settings.experiment_name, user_hash, served.variant)
        self.records.add_generation(
            Generation(
                generation_id=generation_id,
                created_at=datetime.now(UTC),
                user_hash=user_hash,
                channel=channel,
                variant=served.variant,
                model_version=served.model_version,
                prompt=prompt,
                response=response,
            )
        )

    async def rate(
        self,
        generation_id: str,
        user_id: str,
        rating: int,
        comment: str | None,
        channel: Channel,
    ) -> FeedbackResponse:
        return await run_in_threadpool(self._rate, generation_id, user_id, rating, comment, channel)

    def _rate(
        self,
        generation_id: str,
        user_id: str,
        rating: int,
        comment: str | None,
        channel: Channel,
    ) -> FeedbackResponse:
        generation = self.records.generation(generation_id)
        if generation is None:
            raise UnknownGenerationError(f"no generation {generation_id!r} (unknown or expired)")
        fid = feedback_id(generation_id, self.feedback_store.hash_user(user_id))
        rated_at = self.records.stamp_rating(fid, rating, comment)
        changed = self.feedback_store.upsert(
            [
                Feedback(
                    feedback_id=fid,
                    generation_id=generation_id,
                    model_version=generation.model_version,
                    prompt=generation.prompt,
                    response=generation.response,
                    rating=rating,
                    user_id=user_id,
                    channel=channel,
                    created_at=rated_at,
                )
            ]
        )
        if changed:
            self.metrics.ratings.labels(
                variant=generation.variant, rating=str(rating), channel=channel
            ).inc()
        return FeedbackResponse(
            feedback_id=fid,
            generation_id=generation_id,
            rating=rating,
            model_version=generation.model_version,
            changed=bool(changed),
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
