"""Continuous batching with the real tiny models: requests join a running batch between
decoding steps, and each still gets the answer `generate` gives it alone."""

from __future__ import annotations

import asyncio
import threading
from types import SimpleNamespace

import pytest
import torch
from prometheus_client import CollectorRegistry

from eswi_assets.serving.batching import Batcher
from eswi_assets.serving.decoding import StepDecoder
from eswi_assets.serving.metrics import ServingMetrics
from eswi_assets.serving.registry import ModelSource, ServedModel, load_model
from eswi_assets.serving.sampling import SamplingParams, generate_batch, prompt_length
from eswi_assets.stores.models import LocalModelStore
from eswi_assets_tests.serving.support import texts


def greedy(max_new_tokens: int) -> SamplingParams:
    return SamplingParams(max_new_tokens=max_new_tokens, temperature=0, top_p=1, top_k=0)


@pytest.fixture(scope="module")
def served(model_store: LocalModelStore) -> dict[str, ServedModel]:
    return {
        "ppo": load_model(model_store, ModelSource("candidate", "ppo_model"), "ppo-run-1", "cpu"),
        "sft": load_model(model_store, ModelSource("baseline", "sft_model"), "sft-run-1", "cpu"),
    }


def alone(model: ServedModel, prompt: str, params: SamplingParams) -> str:
    return generate_batch(model.model, model.tokenizer, [prompt], [params])[0].text


def decode_all(decoder: StepDecoder, waves: list[list]) -> dict[int, str]:
    """Admits one wave per step (later waves join rows already decoding), then drains."""
    answers, step = {}, 0
    while step < len(waves) or decoder.active:
        for request, completion in decoder.step(waves[step] if step < len(waves) else []):
            answers[request.index] = completion.text
        step += 1
    return answers


def test_requests_joining_mid_decode_get_their_single_request_greedy_answer(served):
    model = served["ppo"]
    requests = [
        SimpleNamespace(index=i, prompt=text[: 2 + i % 13], params=greedy(3 + (i * 7) % 17))
        for i, text in enumerate(texts()[:36])
    ]
    waves = [requests[0:1], requests[1:9], [], requests[9:10], requests[10:30], [], requests[30:]]
    answers = decode_all(StepDecoder(model), waves)
    expected = {r.index: alone(model, r.prompt, r.params) for r in requests}
    assert len(set(expected.values())) > 24, "the test model must answer prompts differently"
    assert answers == expected


def test_each_request_keeps_its_own_sampling_settings_in_a_shared_batch(served):
    model = served["ppo"]
    prompt = texts()[5][:6]
    torch.manual_seed(0)
    requests = [
        SimpleNamespace(index=0, prompt=prompt, params=greedy(12)),
        SimpleNamespace(index=1, prompt=prompt, params=SamplingParams(12, 1.0, 1.0, 1)),
        SimpleNamespace(index=2, prompt=prompt, params=SamplingParams(12, 1.0, 1e-6, 0)),
        SimpleNamespace(index=3, prompt=prompt, params=greedy(4)),
    ] + [
        SimpleNamespace(index=4 + i, prompt=prompt, params=SamplingParams(12, 5.0, 1.0, 0))
        for i in range(8)
    ]
    answers = decode_all(StepDecoder(model), [requests])
    assert answers[0] == alone(model, prompt, greedy(12))
    assert answers[1] == answers[0], "top_k=1 keeps the argmax only"
    assert answers[2] == answers[0], "a tiny top_p keeps the most likely token only"
    assert answers[3] == alone(model, prompt, greedy(4))
    assert len(model.tokenizer(answers[3])["input_ids"]) <= 4 < len(answers[0])
    hot = {answers[4 + i] for i in range(8)}
    assert len(hot) > 4 and answers[0] not in hot, "temperature 5 must sample, not decode greedily"


def test_top_k_sampling_writes_only_tokens_among_the_k_most_likely(served):
    model = served["ppo"]
    prompt = texts()[7][:5]
    torch.manual_seed(1)
    requests = [
        SimpleNamespace(index=i, prompt=prompt, params=SamplingParams(10, 3.0, 1.0, 3))
        for i in range(6)
    ]
    answers = decode_all(StepDecoder(model), [requests])
    tokenizer = model.tokenizer
    prompt_ids = tokenizer(prompt)["input_ids"]
    for text in answers.values():
        written = tokenizer(text)["input_ids"]
        assert tokenizer.decode(written) == text
        with torch.inference_mode():
            logits = model.model(torch.tensor([prompt_ids + written])).logits[0]
        for position, token in enumerate(written):
            top3 = logits[len(prompt_ids) + position - 1].topk(3).indices.tolist()
            assert token in top3


def test_concurrent_callers_of_two_model_versions_each_get_their_own_models_answer(served):
    """A request keeps the model version it was given, as after a swap: both versions decode
    at once, callers arrive while others decode, and each answer is its model's own."""
    prompts = [text[: 3 + i % 9] for i, text in enumerate(texts()[:40])]
    jobs = [
        (served["ppo" if i % 3 else "sft"], p, greedy(4 + i % 11)) for i, p in enumerate(prompts)
    ]

    async def scenario() -> list[str]:
        batcher = Batcher(8, 0.001, 256, ServingMetrics(CollectorRegistry()))
        batcher.start()
        tasks = []
        for model, prompt, params in jobs:
            tasks.append(asyncio.create_task(batcher.submit(model, prompt, params)))
            await asyncio.sleep(0.002)
        answers = await asyncio.gather(*tasks)
        await batcher.stop()
        return [a.text for a in answers]

    expected = [alone(model, prompt, params) for model, prompt, params in jobs]
    assert asyncio.run(scenario()) == expected
    assert alone(served["ppo"], prompts[0], greedy(14)) != alone(
        served["sft"], prompts[0], greedy(14)
    )


def test_prefills_get_their_answers_while_the_event_loop_thread_tokenizes_prompts(served):
    """The service measures each prompt (`prompt_length`) on the event loop while an engine
    thread prefills with the same tokenizer; neither may undo the other's settings."""
    model = served["ppo"]
    requests = [
        SimpleNamespace(index=i, prompt=text[: 2 + i % 11], params=greedy(2))
        for i, text in enumerate(texts()[:30])
    ]
    expected = {r.index: alone(model, r.prompt, r.params) for r in requests}
    stop = threading.Event()

    def measure() -> None:
        while not stop.is_set():
            prompt_length(model.tokenizer, requests[0].prompt)

    thread = threading.Thread(target=measure)
    thread.start()
    try:
        for _ in range(20):
            waves = [requests[i : i + 3] for i in range(0, len(requests), 3)]
            assert decode_all(StepDecoder(model), waves) == expected
    finally:
        stop.set()
        thread.join()
