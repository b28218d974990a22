"""The batcher on its own, with a stand-in decoder, so batch composition is deterministic:
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
    """Decoders whose every step answers the prompts it admits with a text naming them, finishing
    them at once, and blocks until released (variants in `free` are never held)."""

    def __init__(self, fail_on: str | None = None, free: tuple[str, ...] = ()) -> None:
        self.release = threading.Event()
        self.started = threading.Event()
        self.calls: list[tuple[ServedModel, list[str]]] = []
        self.fail_on = fail_on
        self.free = free

    def __call__(self, model: ServedModel) -> HeldDecoder:
        return HeldDecoder(self, model)


class HeldDecoder:
    active = 0

    def __init__(self, worker: HeldWorker, model: ServedModel) -> None:
        self.worker, self.model = worker, model

    def step(self, admitted) -> list:
        prompts = [job.prompt for job in admitted]
        self.worker.calls.append((self.model, prompts))
        if self.model.variant not in self.worker.free:
            self.worker.started.set()
            self.worker.release.wait(timeout=30)
        if self.worker.fail_on in prompts:
            raise RuntimeError("model call failed")
        return [(job, Completion(f"answer to {job.prompt}", 1, 2)) for job in admitted]

    def reset(self) -> list:
        return []


def batcher(worker: HeldWorker, max_batch_size=16, max_queue=256) -> Batcher:
    metrics = ServingMetrics(CollectorRegistry())
    return Batcher(max_batch_size, 0.005, max_queue, metrics, new_decoder=worker)


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


def test_each_model_version_decodes_on_its_own_while_the_other_is_busy():
    """The A/B variants do not wait for each other: baseline requests are answered while the
    candidate's step is held, and no model call mixes the two."""

    async def scenario():
        worker = HeldWorker(free=("baseline",))
        b = batcher(worker)
        b.start()
        candidate, baseline = stand_in("candidate"), stand_in("baseline")
        first = await hold_worker(b, worker, candidate)
        mixed = [
            asyncio.create_task(b.submit(candidate if i % 2 else baseline, f"m{i}", PARAMS))
            for i in range(6)
        ]
        baseline_answers = await asyncio.gather(*mixed[::2])
        held = not first.done()
        worker.release.set()
        await asyncio.gather(first, *mixed)
        await b.stop()
        return worker.calls, candidate, baseline, baseline_answers, held

    calls, candidate, baseline, baseline_answers, held = asyncio.run(scenario())
    assert held
    assert [a.text for a in baseline_answers] == ["answer to m0", "answer to m2", "answer to m4"]
    assert sorted(p for model, prompts in calls if model is baseline for p in prompts) == [
        "m0",
        "m2",
        "m4",
    ]
    assert [(model, prompts) for model, prompts in calls if model is candidate] == [
        (candidate, ["first"]),
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
