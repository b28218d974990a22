"""The per-row logits processor on known scores: rows that sort and rows that do not share one
batch, and each keeps exactly the tokens its own settings allow."""

from __future__ import annotations

import torch

from eswi_assets.serving.sampling import RowWiseSampling, SamplingParams


def kept(params: list[SamplingParams], logits: torch.Tensor) -> list[list[int]]:
    scores = RowWiseSampling(params, logits.device)(None, logits.clone())
    return [row.isfinite().nonzero().squeeze(1).tolist() for row in scores]


def test_rows_keep_only_what_their_own_settings_allow_in_a_mixed_batch():
    probs = torch.tensor([0.05, 0.4, 0.1, 0.3, 0.15])  # ranks: 1, 3, 4, 2, 0
    logits = probs.log().repeat(5, 1)
    params = [
        SamplingParams(8, temperature=1.0, top_p=1.0, top_k=0),  # plain sampling: everything
        SamplingParams(8, temperature=1.0, top_p=0.6, top_k=0),  # 0.4 + 0.3 reach 0.6
        SamplingParams(8, temperature=0.0, top_p=1.0, top_k=0),  # greedy
        SamplingParams(8, temperature=2.0, top_p=1.0, top_k=3),
        SamplingParams(8, temperature=1.0, top_p=1.0, top_k=1),  # greedy too
    ]
    assert kept(params, logits) == [[0, 1, 2, 3, 4], [1, 3], [1], [1, 3, 4], [1]]


def test_temperature_scales_the_scores_of_rows_that_are_not_truncated():
    logits = torch.tensor([[1.0, 2.0, 4.0], [1.0, 2.0, 4.0]])
    params = [SamplingParams(8, 0.5, 1.0, 0), SamplingParams(8, 2.0, 0.5, 0)]
    scores = RowWiseSampling(params, logits.device)(None, logits.clone())
    assert scores[0].tolist() == [2.0, 4.0, 8.0]
    assert scores[1].tolist() == [float("-inf"), float("-inf"), 2.0]
