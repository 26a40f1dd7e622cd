"""tinyv_client.integrations.roll's compute_rewards called as ROLL v0.3.0 (alibaba/ROLL) calls a
reward worker's compute_rewards, against a real `tinyv serve`. ROLL cannot be installed here (not
on PyPI; it needs Megatron / vLLM), so its calls are restated from its source:

roll/pipeline/rlvr/rewards/math_rule_reward_worker.py, MathRuleRewardWorker.compute_rewards(data):
    response_text_list = self.tokenizer.batch_decode(data.batch["responses"], skip_special_tokens=False)
    prompt_text_list = self.tokenizer.batch_decode(data.batch["prompts"], skip_special_tokens=False)
    ... data.non_tensor_batch["ground_truth"] ...
    return DataProto.from_dict(tensors={"token_level_rewards": torch.zeros_like(data.batch["responses"],
        dtype=torch.float16), "response_level_rewards": ..., "scores": ...})
roll/distributed/scheduler/reward_scheduler.py: the domains' outputs are concatenated, so every
    reward worker returns the same three tensors.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import torch

from tinyv_client.integrations.roll import compute_rewards

CASES = [("Half of one?", r"\frac12", r"So \boxed{0.5}.", 1.0), ("Two plus two?", "4", r"\boxed{5}", 0.0)]


def data_proto(tokenizer, cases=CASES):
    """ROLL's DataProto as the worker reads it: .batch (tensors), .non_tensor_batch (numpy)."""
    pad = tokenizer.pad_token_id
    prompts, responses = [], []
    for question, _, response, _ in cases:
        text = tokenizer.apply_chat_template([{"role": "user", "content": question}], tokenize=False,
                                             add_generation_prompt=True)  # fmt: skip
        prompts.append(tokenizer(text, add_special_tokens=False)["input_ids"])
        responses.append(tokenizer(response + tokenizer.eos_token, add_special_tokens=False)["input_ids"])
    width_p, width_r = max(map(len, prompts)), max(map(len, responses))
    return SimpleNamespace(
        batch={
            "prompts": torch.tensor([[pad] * (width_p - len(p)) + p for p in prompts]),
            "responses": torch.tensor([r + [pad] * (width_r - len(r)) for r in responses]),
        },
        non_tensor_batch={"ground_truth": np.array([g for _, g, _, _ in cases], dtype=object)},
    )


def test_compute_rewards_shape(tinyv, tiny_tokenizer: str) -> None:
    from transformers import AutoTokenizer

    from tinyv_client import TinyVClient

    tokenizer = AutoTokenizer.from_pretrained(tiny_tokenizer)
    data = data_proto(tokenizer)
    with TinyVClient(tinyv.target, coalesce=True) as client:
        out = compute_rewards(data, tokenizer, client)
    assert sorted(out) == ["response_level_rewards", "scores", "token_level_rewards"]
    assert out["scores"].tolist() == out["response_level_rewards"].tolist() == [c[3] for c in CASES]
    assert out["token_level_rewards"].shape == data.batch["responses"].shape
    assert {t.dtype for t in out.values()} == {torch.float16}


def test_question_comes_out_of_the_template(tinyv_llm, tiny_tokenizer: str, monkeypatch) -> None:
    from transformers import AutoTokenizer

    monkeypatch.setenv("TINYV_URL", tinyv_llm.target)
    tokenizer = AutoTokenizer.from_pretrained(tiny_tokenizer)
    out = compute_rewards(data_proto(tokenizer, [("Seven?", "7", r"\boxed{right}", 1.0)]), tokenizer)
    assert out["scores"].tolist() == [1.0]
