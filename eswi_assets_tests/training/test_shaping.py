"""PPO's defences against reward hacks: the repetition penalty reaches TRL's reward exactly where
TRL reads it, and the KL / entropy budget ends training when the policy starts to collapse."""

from __future__ import annotations

import pytest
import torch
from transformers import TrainerControl, TrainerState, TrainingArguments
from trl.experimental.utils import get_reward

from eswi_assets.training.base import ModelShape, tiny_gpt2, train_tokenizer
from eswi_assets.training.reward import reward_model_from
from eswi_assets.training.shaping import (
    BudgetSpent,
    PpoBudget,
    ShapedReward,
    repeated_bigram_share,
)


def test_repeated_bigram_share_counts_repeats_so_far_and_ignores_padding():
    ids = torch.tensor([[5, 6, 5, 6, 5, 0, 0], [1, 2, 3, 4, 5, 6, 7]])
    mask = torch.tensor([[1, 1, 1, 1, 1, 0, 0], [1, 1, 1, 1, 1, 1, 1]])
    share = repeated_bigram_share(ids, mask)
    # Bigrams of row 0: 56, 65, 56 (repeat), 65 (repeat); padding adds none.
    assert share[0].tolist() == pytest.approx([0, 0, 0, 1 / 3, 2 / 4, 2 / 4, 2 / 4])
    assert share[1].tolist() == [0.0] * 7


@pytest.fixture(scope="module")
def reward_model_and_tokenizer():
    tokenizer = train_tokenizer(["社區長照據點今天開幕，長輩們很開心。志工熱心服務。"], 200)
    policy = tiny_gpt2(tokenizer, ModelShape(n_layer=1, n_embd=16, n_head=2, n_positions=64))
    return reward_model_from(policy).eval(), tokenizer


def test_shaped_reward_lowers_trls_score_of_a_looping_response_by_the_penalty(
    reward_model_and_tokenizer,
):
    reward_model, tokenizer = reward_model_and_tokenizer
    pad = tokenizer.pad_token_id
    varied = tokenizer("長輩們很開心，志工熱心服務。", add_special_tokens=False)["input_ids"]
    looping = tokenizer("很開很開很開很開很開很開很開", add_special_tokens=False)["input_ids"]
    batch = torch.tensor([varied, looping[: len(varied)]])
    with torch.no_grad():
        _, raw, _ = get_reward(reward_model, batch, pad, context_length=2)
        _, shaped, _ = get_reward(ShapedReward(reward_model, 4.0), batch, pad, context_length=2)
    penalty = repeated_bigram_share(batch, batch != pad)[:, -1]
    assert penalty[0] == 0 and penalty[1] > 0.5
    assert shaped.tolist() == pytest.approx((raw - 4.0 * penalty).tolist(), abs=1e-5)


def _state(step: int) -> TrainerState:
    state = TrainerState()
    state.global_step = step
    return state


def _log(budget: PpoBudget, step: int, kl: float, entropy: float) -> None:
    logs = {"objective/kl": kl, "objective/entropy": entropy}
    budget.on_log(TrainingArguments("/tmp/unused"), _state(step), TrainerControl(), logs=logs)


def test_budget_stops_ppo_when_kl_per_token_passes_it():
    budget = PpoBudget(
        max_kl_per_token=0.25,
        min_entropy_ratio=0.5,
        response_length=100,
        policy=torch.nn.Linear(2, 1),
    )
    _log(budget, 1, kl=5.0, entropy=250.0)
    _log(budget, 2, kl=24.0, entropy=240.0)
    with pytest.raises(BudgetSpent, match=r"update 3: KL 0\.260"):
        _log(budget, 3, kl=26.0, entropy=240.0)


def test_budget_stops_ppo_when_the_policy_entropy_collapses():
    budget = PpoBudget(
        max_kl_per_token=1.0,
        min_entropy_ratio=0.7,
        response_length=100,
        policy=torch.nn.Linear(2, 1),
    )
    _log(budget, 1, kl=1.0, entropy=250.0)
    _log(budget, 2, kl=2.0, entropy=180.0)
    with pytest.raises(BudgetSpent, match=r"entropy 170\.0 fell below 175\.0"):
        _log(budget, 3, kl=2.0, entropy=170.0)


def test_budget_hands_back_the_last_policy_whose_own_rollouts_stayed_inside_it():
    # TRL logs an update's KL from the rollouts made before that update's optimisation: the KL
    # logged at update 3 is the policy after update 2's, so the one to keep is update 1's.
    policy = torch.nn.Linear(2, 1, bias=False)
    budget = PpoBudget(
        max_kl_per_token=0.25, min_entropy_ratio=0.5, response_length=100, policy=policy
    )
    budget.on_train_begin(TrainingArguments("/tmp/unused"), _state(0), TrainerControl())
    weights = {}
    for step, kl in enumerate([1.0, 20.0, 30.0], start=1):
        with torch.no_grad():
            policy.weight.fill_(float(step))  # what update `step` leaves behind
        weights[step] = policy.weight.detach().clone()
        if kl <= 25.0:
            _log(budget, step, kl=kl, entropy=250.0)
    with pytest.raises(BudgetSpent, match="policy restored to update 1"):
        _log(budget, 3, kl=30.0, entropy=250.0)
    assert torch.equal(policy.weight, weights[1])
    assert budget.rolled_back_to == 1


def test_budget_tripped_by_the_first_update_restores_the_sft_weights():
    policy = torch.nn.Linear(2, 1, bias=False)
    start = policy.weight.detach().clone()
    budget = PpoBudget(
        max_kl_per_token=1.0, min_entropy_ratio=0.7, response_length=100, policy=policy
    )
    budget.on_train_begin(TrainingArguments("/tmp/unused"), _state(0), TrainerControl())
    for step in (1, 2):
        with torch.no_grad():
            policy.weight.add_(float(step))
        if step == 1:
            _log(budget, 1, kl=1.0, entropy=250.0)
    with pytest.raises(BudgetSpent, match="update 0"):
        _log(budget, 2, kl=1.0, entropy=100.0)
    assert torch.equal(policy.weight, start)
