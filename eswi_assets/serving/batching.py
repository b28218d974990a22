"""Continuous batching: concurrent generate requests share decoding steps, per model version.

Each model version in use has an engine: a thread that keeps its `StepDecoder`'s running batch
going one step (one token for every row) after another, without a round trip through the event
loop between steps, so the loop only accepts requests and hands out answers. Requests that
arrive meanwhile wait and join the running batch at the next step, up to `max_batch_size` rows;
an idle engine waits up to `max_wait` for company before its first step. Engines run side by
side, so the A/B variants decode concurrently, and an engine ends when it has nothing left,
releasing a swapped-out model. Each request carries its own future, so every caller gets its
own completion.

At most `max_queue` requests wait to join (more -> `QueueFullError`, which the API answers
with 429).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from eswi_assets.serving.decoding import StepDecoder
from eswi_assets.serving.metrics import ServingMetrics
from eswi_assets.serving.registry import ServedModel
from eswi_assets.serving.sampling import Completion, SamplingParams

SHUTTING_DOWN = "the service is shutting down"


class QueueFullError(RuntimeError):
    """More requests are waiting than the queue holds; the client should retry later."""


@dataclass(eq=False)
class _Job:
    model: ServedModel
    prompt: str
    params: SamplingParams
    future: asyncio.Future[Completion] = field(repr=False)
    loop: asyncio.AbstractEventLoop = field(repr=False)

    def settle(self, completion: Completion | None, error: Exception | None = None) -> None:
        """Resolves the caller's future from any thread (skipped if the caller gave up)."""

        def resolve() -> None:
            if self.future.done():
                return
            if error is None:
                self.future.set_result(completion)
            else:
                self.future.set_exception(error)

        self.loop.call_soon_threadsafe(resolve)


class Decoder(Protocol):
    """A running batch of one model: `step` admits jobs, advances all, returns the finished."""

    @property
    def active(self) -> int: ...

    def step(self, admitted: list[_Job]) -> list[tuple[_Job, Completion]]: ...

    def reset(self) -> list[_Job]: ...


DecoderFactory = Callable[[ServedModel], Decoder]


@dataclass(eq=False)
class _Engine:
    model: ServedModel
    decoder: Decoder
    waiting: deque[_Job] = field(default_factory=deque)
    thread: threading.Thread | None = None


class Batcher:
    def __init__(
        self,
        max_batch_size: int,
        max_wait_s: float,
        max_queue: int,
        metrics: ServingMetrics,
        new_decoder: DecoderFactory = StepDecoder,
    ) -> None:
        self.max_batch_size = max_batch_size
        self.max_wait_s = max_wait_s
        self.max_queue = max_queue
        self.metrics = metrics
        self.new_decoder = new_decoder
        # Guards everything below; held only to move jobs, never during a step.
        self._lock = threading.Condition()
        self._engines: dict[int, _Engine] = {}  # by id(ServedModel); an engine holds its model
        self._waiting = 0
        self._stopping = False
        metrics.queue_depth.set_function(lambda: self._waiting)

    def start(self) -> None:
        """Engines start on demand, one per model version; nothing runs until a request comes."""
        with self._lock:
            self._stopping = False

    async def stop(self) -> None:
        """Fails what still waits; a step already running finishes first, then its rows fail."""
        with self._lock:
            self._stopping = True
            threads = [e.thread for e in self._engines.values()]
            self._lock.notify_all()
        await asyncio.gather(*(asyncio.to_thread(t.join) for t in threads))
        await asyncio.sleep(0)  # let the failures the engines sent reach their callers

    async def submit(self, model: ServedModel, prompt: str, params: SamplingParams) -> Completion:
        loop = asyncio.get_running_loop()
        job = _Job(model, prompt, params, loop.create_future(), loop)
        with self._lock:
            if self._stopping:
                raise RuntimeError(SHUTTING_DOWN)
            if self._waiting >= self.max_queue:
                self.metrics.rejected.labels(reason="queue_full").inc()
                raise QueueFullError(
                    f"{self.max_queue} requests are already waiting; retry shortly"
                )
            engine = self._engines.get(id(model))
            if engine is None:
                engine = self._engines[id(model)] = _Engine(model, self.new_decoder(model))
                engine.thread = threading.Thread(
                    target=self._run, args=(engine,), name="eswi-generate", daemon=True
                )
                engine.thread.start()
            engine.waiting.append(job)
            self._waiting += 1
            self._lock.notify_all()
        return await job.future

    def _admit(self, engine: _Engine) -> list[_Job] | None:
        """The jobs that join at the next step, under the lock; None when the engine should end."""
        if not engine.decoder.active:
            if not engine.waiting:
                return None
            deadline = time.monotonic() + self.max_wait_s
            while not self._stopping and len(engine.waiting) < self.max_batch_size:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._lock.wait(remaining)
        if self._stopping:
            return None
        admitted = []
        while engine.waiting and engine.decoder.active + len(admitted) < self.max_batch_size:
            job = engine.waiting.popleft()
            self._waiting -= 1
            if not job.future.done():  # callers that gave up
                admitted.append(job)
        return admitted

    def _run(self, engine: _Engine) -> None:
        while True:
            with self._lock:
                admitted = self._admit(engine)
                if admitted is None:  # idle or stopping: ends, and frees its model
                    del self._engines[id(engine.model)]
                    self._waiting -= len(engine.waiting)
                    leftover = list(engine.waiting) + engine.decoder.reset()
                    break
            started = time.perf_counter()
            try:
                finished = engine.decoder.step(admitted)
            except Exception as error:
                for job in admitted + engine.decoder.reset():
                    job.settle(None, error)
                continue
            elapsed = time.perf_counter() - started
            tokens = engine.decoder.active + len(finished)  # one per row stepped
            self.metrics.observe_batch(engine.model.variant, len(admitted), tokens, elapsed)
            for job, completion in finished:
                job.settle(completion)
        for job in leftover:
            job.settle(None, RuntimeError(SHUTTING_DOWN))
