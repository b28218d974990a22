"""The batcher on its own, with a stand-in model call, so batch composition is deterministic:
while the worker is held, requests pile up, and the next batches are taken from the pile."""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime

import pytest
from prometheus_client import CollectorRegistry

from eswi_assets.serving.batching import Batcher, QueueFullError
from eswi_assets.serving.metrics import ServingMetrics
from eswi_assets.serving.registry import ServedModel
from eswi_assets.serving.sampling import Completion, SamplingParams

PARAMS = SamplingParams(max_new_tokens=4, temperature=0, top_p=1, top_k=0)


def stand_in(variant: str = "candidate") -> ServedModel:
    return ServedModel(variant, "ppo_model", "v1", None, None, datetime.now(UTC))


class HeldWorker:
    """A model call that answers each prompt with a text naming it, and blocks until released."""

    def __init__(self, fail_on: str | None = None) -> None:
        self.release = threading.Event()
        self.started = threading.Event()
        self.calls: list[tuple[ServedModel, list[str]]] = []
        self.fail_on = fail_on

    def __call__(self, model, prompts, params) -> list[Completion]:
        self.calls.append((model, prompts))
        self.started.set()
        self.release.wait(timeout=30)
        if self.fail_on in prompts:
            raise RuntimeError("model call failed")
        return [Completion(f"answer to {p}", 1, 2) for p in prompts]


def batcher(worker: HeldWorker, max_batch_size=16, max_queue=256) -> Batcher:
    metrics = ServingMetrics(CollectorRegistry())
    return Batcher(max_batch_size, 0.005, max_queue, metrics, run_batch=worker)


async def hold_worker(b: Batcher, worker: HeldWorker, model: ServedModel) -> asyncio.Task:
    first = asyncio.create_task(b.submit(model, "first", PARAMS))
    await asyncio.to_thread(worker.started.wait, 10)
    return first


def test_waiting_requests_are_served_in_full_batches_each_with_its_own_answer():
    async def scenario():
        worker = HeldWorker()
        b = batcher(worker)
        b.start()
        model = stand_in()
        first = await hold_worker(b, worker, model)
        rest = [asyncio.create_task(b.submit(model, f"p{i}", PARAMS)) for i in range(40)]
        await asyncio.sleep(0.05)
        worker.release.set()
        answers = await asyncio.gather(first, *rest)
        await b.stop()
        return worker, answers

    worker, answers = asyncio.run(scenario())
    assert [len(prompts) for _, prompts in worker.calls] == [1, 16, 16, 8]
    assert [a.text for a in answers] == ["answer to first"] + [f"answer to p{i}" for i in range(40)]


def test_a_full_queue_refuses_new_requests_and_serves_the_queued_ones():
    async def scenario():
        worker = HeldWorker()
        b = batcher(worker, max_queue=4)
        b.start()
        model = stand_in()
        first = await hold_worker(b, worker, model)
        queued = [asyncio.create_task(b.submit(model, f"q{i}", PARAMS)) for i in range(4)]
        await asyncio.sleep(0)
        with pytest.raises(QueueFullError):
            await b.submit(model, "one too many", PARAMS)
        worker.release.set()
        answers = await asyncio.gather(first, *queued)
        await b.stop()
        return answers

    assert [a.text for a in asyncio.run(scenario())][1:] == [f"answer to q{i}" for i in range(4)]


def test_requests_for_different_models_share_a_batch_but_not_a_model_call():
    async def scenario():
        worker = HeldWorker()
        b = batcher(worker)
        b.start()
        candidate, baseline = stand_in("candidate"), stand_in("baseline")
        first = await hold_worker(b, worker, candidate)
        mixed = [
            asyncio.create_task(b.submit(candidate if i % 2 else baseline, f"m{i}", PARAMS))
            for i in range(6)
        ]
        await asyncio.sleep(0.05)
        worker.release.set()
        await asyncio.gather(first, *mixed)
        await b.stop()
        return worker.calls, candidate, baseline

    calls, candidate, baseline = asyncio.run(scenario())
    assert [(model, prompts) for model, prompts in calls[1:]] == [
        (baseline, ["m0", "m2", "m4"]),
        (candidate, ["m1", "m3", "m5"]),
    ]


def test_a_failed_model_call_fails_its_own_callers_and_the_next_batch_is_served():
    async def scenario():
        worker = HeldWorker(fail_on="bad")
        b = batcher(worker)
        b.start()
        model = stand_in()
        first = await hold_worker(b, worker, model)
        bad = asyncio.create_task(b.submit(model, "bad", PARAMS))
        await asyncio.sleep(0.05)
        worker.release.set()
        await first
        with pytest.raises(RuntimeError, match="model call failed"):
            await bad
        later = await b.submit(model, "later", PARAMS)
        await b.stop()
        return later

    assert asyncio.run(scenario()).text == "answer to later"
