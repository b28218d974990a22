"""Keeping PPO off reward hacks: a repetition penalty in the reward, and a KL / entropy budget.

A small reward model is easy to hack: left alone, PPO finds that one positive character repeated
("呵呵呵…") scores well, and the policy collapses (distinct-2 fell from 0.26 to 0.01 in the default
run). Penalising a response's repeated bigrams, the degeneracy the gate measures, removes that
shortcut without a second learned model that could be hacked in turn.

TRL's PPO scores rollouts with `get_reward(model, ...)`, which runs
`getattr(model, model.base_model_prefix)` and then `model.score(hidden_states)`, reading the score
at each sequence's last token. `ShapedReward` keeps that interface: its backbone remembers the
token ids it was given, and its `score` subtracts, at every position, the weighted share of
bigrams so far that already occurred earlier in the sequence.

The penalty does not stop the other collapse, a policy that says one fluent phrase to every
prompt: its entropy falls and its KL from SFT grows update after update. `PpoBudget` ends
training at the first update past a KL-per-token budget or below a share of the starting
entropy, the point after which more updates buy reward-model score and lose the text. TRL logs
an update's KL and entropy from the rollouts made *before* its optimisation, so the weights in
place when the budget trips are two updates past the last ones measured inside it; the budget
puts those back, and the policy PPO hands over is one whose own rollouts stayed in budget.
"""

from __future__ import annotations

import torch
from torch import nn
from transformers import PreTrainedModel, TrainerCallback


def repeated_bigram_share(input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    """Per position t, the share of the bigrams ending at or before t that repeat an earlier one.

    Shape (batch, seq). Padding (attention_mask 0) neither counts nor repeats.
    """
    ids = input_ids.long()
    valid = attention_mask.bool()
    pair_valid = torch.zeros_like(valid)
    pair_valid[:, 1:] = valid[:, 1:] & valid[:, :-1]
    vocab = int(ids.max().item()) + 1 if ids.numel() else 1
    pairs = torch.zeros_like(ids)
    pairs[:, 1:] = ids[:, :-1] * vocab + ids[:, 1:]
    same = pairs.unsqueeze(2) == pairs.unsqueeze(1)
    earlier = torch.ones(ids.shape[1], ids.shape[1], dtype=torch.bool, device=ids.device).tril(-1)
    repeats = (same & earlier & pair_valid.unsqueeze(1)).any(-1) & pair_valid
    counted = pair_valid.long().cumsum(1).clamp(min=1)
    return repeats.long().cumsum(1) / counted


class _RecordingBackbone(nn.Module):
    """The reward model's backbone, remembering the last ids and mask it saw for `score`."""

    def __init__(self, backbone: nn.Module) -> None:
        super().__init__()
        self.backbone = backbone
        self.seen: tuple[torch.Tensor, torch.Tensor] | None = None

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, **kwargs):
        self.seen = (input_ids, attention_mask)
        return self.backbone(input_ids=input_ids, attention_mask=attention_mask, **kwargs)


class ShapedReward(nn.Module):
    """`reward_model`'s score minus `weight` x the repeated-bigram share, in TRL's reward shape."""

    base_model_prefix = "shaped_backbone"

    def __init__(self, reward_model: PreTrainedModel, weight: float) -> None:
        super().__init__()
        self.reward_model = reward_model
        self.weight = weight
        self.shaped_backbone = _RecordingBackbone(
            getattr(reward_model, reward_model.base_model_prefix)
        )

    def score(self, hidden_states: torch.Tensor) -> torch.Tensor:
        logits = self.reward_model.score(hidden_states)
        if self.shaped_backbone.seen is None:
            raise RuntimeError("ShapedReward.score called before its backbone saw any tokens")
        ids, mask = self.shaped_backbone.seen
        penalty = repeated_bigram_share(ids, mask).to(logits.dtype).unsqueeze(-1)
        return logits - self.weight * penalty


class BudgetSpent(Exception):
    """Raised by `PpoBudget` to end PPO between updates: TRL's PPO loop never reads
    `control.should_training_stop`."""


class PpoBudget(TrainerCallback):
    """Ends PPO once the policy's KL from SFT per response token passes `max_kl_per_token`, or its
    entropy falls below `min_entropy_ratio` of the first update's, and restores `policy` to the
    last weights whose rollouts were inside both. Reads TRL's logged `objective/kl` and
    `objective/entropy` (sums over a response of `response_length` tokens)."""

    def __init__(
        self,
        max_kl_per_token: float,
        min_entropy_ratio: float,
        response_length: int,
        policy: nn.Module,
    ):
        self.max_kl_per_token = max_kl_per_token
        self.min_entropy_ratio = min_entropy_ratio
        self.response_length = response_length
        self.policy = policy
        self.first_entropy: float | None = None
        self.reason = ""
        self.rolled_back_to: int | None = None
        # Weights the next logged rollouts come from, and the last weights measured in budget,
        # each with the update that produced them. Kept on the CPU: the GPU holds the trainer.
        self._measured_next: tuple[int, dict[str, torch.Tensor]] | None = None
        self._in_budget: tuple[int, dict[str, torch.Tensor]] | None = None

    def _snapshot(self, step: int) -> tuple[int, dict[str, torch.Tensor]]:
        state = self.policy.state_dict()
        return step, {name: tensor.detach().to("cpu", copy=True) for name, tensor in state.items()}

    def on_train_begin(self, args, state, control, **kwargs):
        self._measured_next = self._snapshot(state.global_step)

    def on_log(self, args, state, control, logs=None, **kwargs):
        logs = logs or {}
        if "objective/kl" not in logs or "objective/entropy" not in logs:
            return
        entropy = float(logs["objective/entropy"])
        self.first_entropy = self.first_entropy or entropy
        kl = float(logs["objective/kl"]) / self.response_length
        if kl > self.max_kl_per_token:
            self.reason = f"KL {kl:.3f} nats/token passed {self.max_kl_per_token}"
        elif entropy < self.min_entropy_ratio * self.first_entropy:
            floor = self.min_entropy_ratio * self.first_entropy
            self.reason = f"entropy {entropy:.1f} fell below {floor:.1f}"
        if not self.reason:
            self._in_budget, self._measured_next = (
                self._measured_next,
                self._snapshot(state.global_step),
            )
            return
        if self._in_budget is not None:
            self.rolled_back_to, weights = self._in_budget
            self.policy.load_state_dict(weights)
            self.reason += f"; policy restored to update {self.rolled_back_to}"
        raise BudgetSpent(f"update {state.global_step}: {self.reason}")
