"""TRL 1.16.0's own GRPOTrainer training a tiny random model for a few steps, rewarded by
tinyv_client.integrations.trl against a real `tinyv serve`: its reward calls, its
log_extra / log_metric, and the logs it keeps. The model and tokenizer are made in the test."""

from __future__ import annotations

import pytest
from readme import block

from tinyv_client.integrations.trl import make_reward_func

STEPS = 2


def tiny_model(tokenizer):
    from transformers import LlamaConfig, LlamaForCausalLM

    config = LlamaConfig(
        vocab_size=len(tokenizer), hidden_size=16, intermediate_size=32, num_hidden_layers=1,
        num_attention_heads=2, num_key_value_heads=2, max_position_embeddings=256,
        pad_token_id=tokenizer.pad_token_id, eos_token_id=tokenizer.eos_token_id,
    )  # fmt: skip
    return LlamaForCausalLM(config)


def dataset(conversational: bool):
    from datasets import Dataset

    questions = ["Half of one?", "Two plus two?", "Seven?", "Ten?"] * 2
    solutions = [r"\frac12", "4", "7", "10"] * 2
    prompts = [[{"role": "user", "content": q}] for q in questions] if conversational else questions
    return Dataset.from_dict({"prompt": prompts, "solution": solutions})


def train(tmp_path, tiny_tokenizer: str, reward_funcs, conversational: bool):
    from transformers import AutoTokenizer
    from trl import GRPOConfig, GRPOTrainer

    tokenizer = AutoTokenizer.from_pretrained(tiny_tokenizer)
    args = GRPOConfig(
        output_dir=str(tmp_path), max_steps=STEPS, per_device_train_batch_size=4, num_generations=4,
        max_completion_length=12, logging_steps=1, report_to="none", use_cpu=True, bf16=False,
        save_strategy="no", seed=1, dataloader_num_workers=0,
    )  # fmt: skip
    trainer = GRPOTrainer(
        model=tiny_model(tokenizer),
        reward_funcs=reward_funcs,
        args=args,
        train_dataset=dataset(conversational),
        processing_class=tokenizer,
    )
    trainer.train()
    return trainer


def test_the_readme_call() -> None:
    assert "make_reward_func(ground_truth_column=" in block("trl")


@pytest.mark.parametrize("conversational", [False, True], ids=["standard", "conversational"])
def test_grpo_trainer_trains_with_the_reward(
    tmp_path, tinyv, tiny_tokenizer: str, conversational: bool
) -> None:
    streams = tinyv.rpcs("VerifyStream")
    items = tinyv.counted("tinyv_items_total")
    reward = make_reward_func(ground_truth_column="solution", url=tinyv.target)
    trainer = train(tmp_path, tiny_tokenizer, reward, conversational)
    logs = [entry for entry in trainer.state.log_history if "loss" in entry or "reward" in entry]
    assert len(logs) == STEPS
    for entry in logs:
        # TRL's own reward logs, and the metrics the reward function passed to log_metric.
        assert "rewards/tinyv_reward/mean" in entry
        for key in ("acc", "rule_match", "llm_asked", "llm_decided", "llm_failed", "item_error"):
            assert f"tinyv/{key}" in entry, entry
        assert entry["tinyv/item_error"] == 0.0
    # One stream per reward call (per generation batch), 4 completions each.
    assert tinyv.rpcs("VerifyStream") - streams == STEPS
    assert tinyv.counted("tinyv_items_total") - items == STEPS * 4


def test_async_reward_func(tmp_path, tinyv, tiny_tokenizer: str) -> None:
    """TRL awaits an async reward function on its own event loop thread."""
    reward = make_reward_func(
        ground_truth_column="solution", url=tinyv.target, asynchronous=True, name="tinyv_async"
    )
    trainer = train(tmp_path, tiny_tokenizer, reward, False)
    assert all("rewards/tinyv_async/mean" in e for e in trainer.state.log_history if "loss" in e)


def test_the_completions_table_gets_the_columns(tmp_path, tinyv, tiny_tokenizer: str) -> None:
    """log_extra's columns land in GRPOTrainer's completions log, one value per completion."""
    reward = make_reward_func(ground_truth_column="solution", url=tinyv.target)
    trainer = train(tmp_path, tiny_tokenizer, reward, False)
    extra = trainer._logs["extra"]
    assert len(extra["tinyv_answer"]) == len(extra["tinyv_decided_by"]) == len(trainer._logs["completion"])
    assert set(extra["tinyv_decided_by"]) <= {"RULES", "LLM", "CACHE", "UNSPECIFIED"}
