"""Dynamic batching: concurrent generate requests share one `model.generate` call per model.

Requests wait in a bounded queue (full -> `QueueFullError`, which the API answers with 429). One
collector task takes the first waiting request, gathers more until the batch is full or
`max_wait` has passed, and runs each model's share of the batch on a single worker thread, so
the event loop keeps accepting requests while torch computes. Whatever arrives meanwhile forms
the next batch. Each request carries its own future, so every caller gets its own completion.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from eswi_assets.serving.metrics import ServingMetrics
from eswi_assets.serving.registry import ServedModel
from eswi_assets.serving.sampling import Completion, SamplingParams, generate_batch


class QueueFullError(RuntimeError):
    """More requests are waiting than the queue holds; the client should retry later."""


@dataclass
class _Job:
    model: ServedModel
    prompt: str
    params: SamplingParams
    future: asyncio.Future[Completion] = field(repr=False)


BatchFn = Callable[[ServedModel, list[str], list[SamplingParams]], list[Completion]]


def _run_on_model(
    model: ServedModel, prompts: list[str], params: list[SamplingParams]
) -> list[Completion]:
    return generate_batch(model.model, model.tokenizer, prompts, params)


class Batcher:
    def __init__(
        self,
        max_batch_size: int,
        max_wait_s: float,
        max_queue: int,
        metrics: ServingMetrics,
        run_batch: BatchFn = _run_on_model,
    ) -> None:
        self.max_batch_size = max_batch_size
        self.max_wait_s = max_wait_s
        self.metrics = metrics
        self.run_batch = run_batch
        self._queue: asyncio.Queue[_Job] = asyncio.Queue(maxsize=max_queue)
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="eswi-generate")
        self._task: asyncio.Task | None = None
        metrics.queue_depth.set_function(self._queue.qsize)

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._collect(), name="eswi-batcher")

    async def stop(self) -> None:
        """Stops collecting; a batch already on the worker thread finishes first."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        while not self._queue.empty():
            job = self._queue.get_nowait()
            if not job.future.done():
                job.future.set_exception(RuntimeError("the service is shutting down"))
        self._executor.shutdown(wait=True)

    async def submit(self, model: ServedModel, prompt: str, params: SamplingParams) -> Completion:
        future: asyncio.Future[Completion] = asyncio.get_running_loop().create_future()
        try:
            self._queue.put_nowait(_Job(model, prompt, params, future))
        except asyncio.QueueFull:
            self.metrics.rejected.labels(reason="queue_full").inc()
            raise QueueFullError(
                f"{self._queue.maxsize} requests are already waiting; retry shortly"
            ) from None
        return await future

    async def _next_batch(self) -> list[_Job]:
        batch = [await self._queue.get()]
        deadline = time.monotonic() + self.max_wait_s
        while len(batch) < self.max_batch_size:
            if not self._queue.empty():
                batch.append(self._queue.get_nowait())
                continue
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            try:
                batch.append(await asyncio.wait_for(self._queue.get(), remaining))
            except TimeoutError:
                break
        return [job for job in batch if not job.future.done()]  # callers that gave up

    async def _collect(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            batch = await self._next_batch()
            groups: dict[int, list[_Job]] = {}
            for job in batch:
                groups.setdefault(id(job.model), []).append(job)
            try:
                for jobs in groups.values():
                    await self._run(loop, jobs)
            finally:  # cancelled by stop(): nobody may wait forever
                for job in batch:
                    if not job.future.done():
                        job.future.set_exception(RuntimeError("the service is shutting down"))

    async def _run(self, loop: asyncio.AbstractEventLoop, jobs: list[_Job]) -> None:
        model = jobs[0].model
        started = time.perf_counter()
        try:
            completions = await loop.run_in_executor(
                self._executor,
                self.run_batch,
                model,
                [job.prompt for job in jobs],
                [job.params for job in jobs],
            )
        except Exception as error:
            for job in jobs:
                if not job.future.done():
                    job.future.set_exception(error)
            return
        elapsed = time.perf_counter() - started
        tokens = sum(c.completion_tokens for c in completions)
        self.metrics.observe_batch(model.variant, len(jobs), tokens, elapsed)
        for job, completion in zip(jobs, completions, strict=True):
            if not job.future.done():
                job.future.set_result(completion)
