"""OpenRLHF's own code against a real `tinyv serve`: the README's flags through its argument parser, its data
path (blending_datasets -> PromptDataset with the chat template), and its reward client
(SingleTurnAgentExecutor.execute: query = the decoded prompt + response tokens, one POST per sample).

Pinned: openrlhf 0.11.2 from PyPI (installed without its GPU requirements; see requirements.txt). What stands
in: vLLM's generation (LLMRayActor.generate returns the scripted response's token ids) and the DeepSpeed
strategy object (PromptDataset reads only .args, .is_rank_0() and .print()); the tokenizer is a real
Hugging Face fast tokenizer trained here, with a ChatML or a Llama 3 chat template (no Hub).
"""

from __future__ import annotations

import ast
import asyncio
import importlib.util
import json
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import PreTrainedTokenizerFast

from openrlhf.datasets import PromptDataset
from openrlhf.datasets.utils import blending_datasets
from openrlhf.utils.agent import SingleTurnAgentExecutor
from tinyv_http import readme_flags

RESULT_KEYS = ["score", "acc", "rule_match", "llm_asked", "llm_decided", "llm_failed", "item_error"]
README_URL = "http://127.0.0.1:8080"

# Chat formats (ChatML as Qwen uses it, Llama 3's headers), written for this test.
TEMPLATES = {
    "chatml": (
        "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
        "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}",
        "<|im_end|>",
    ),
    "llama3": (
        "<|begin_of_text|>{% for m in messages %}<|start_header_id|>{{ m['role'] }}<|end_header_id|>\n\n"
        "{{ m['content'] }}<|eot_id|>{% endfor %}"
        "{% if add_generation_prompt %}<|start_header_id|>assistant<|end_header_id|>\n\n{% endif %}",
        "<|eot_id|>",
    ),
}
SPECIAL = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|begin_of_text|>", "<|start_header_id|>",
           "<|end_header_id|>", "<|eot_id|>"]  # fmt: skip

# One dataset per label type, as a JSONL column holds it: (rows, right answers, wrong answers).
DATASETS = {
    "int": ([("What is 1 + 2?", 3), ("What is 10 - 4?", 6)], ["The answer is 3.", "\\boxed{6}"], ["\\boxed{4}", "5"]),
    "float": ([("Half of one?", 0.5)], ["So \\boxed{\\frac{1}{2}}"], ["\\boxed{2}"]),
    "bool": ([("Is 7 prime?", True)], ["\\boxed{True}"], ["\\boxed{False}"]),
    "str": ([("Solve x + 1 = 3.", "x = 2")], ["x = \\boxed{2}"], ["\\boxed{-2}"]),
    "dict": ([("Compute.", {"answer": "12", "question": "What is 3 * 4?"})], ["\\boxed{12}"], ["\\boxed{13}"]),
}
N_SAMPLES = 4  # a GRPO group per prompt: right, wrong, right, wrong


def make_tokenizer(template: str) -> PreTrainedTokenizerFast:
    """A byte-level BPE tokenizer trained on a few lines (decode(encode(text)) == text), with special tokens."""
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    corpus = [q for rows, _, _ in DATASETS.values() for q, _ in rows] + ["The answer is \\boxed{x}", "system user"]
    trainer = trainers.BpeTrainer(
        vocab_size=400, special_tokens=SPECIAL, initial_alphabet=pre_tokenizers.ByteLevel.alphabet()
    )
    tok.train_from_iterator(corpus, trainer)
    chat_template, eos = TEMPLATES[template]
    hf = PreTrainedTokenizerFast(tokenizer_object=tok, eos_token=eos, pad_token="<|endoftext|>")
    hf.chat_template = chat_template
    return hf


def parse_args(argv: list) -> SimpleNamespace:
    """Run OpenRLHF's own parser and checks: the `if __name__ == "__main__":` block of train_ppo_ray.py,
    with `train(args)` at its end caught instead of starting Ray."""
    path = Path(importlib.util.find_spec("openrlhf.cli.train_ppo_ray").origin)  # not imported: it imports Ray
    tree = ast.parse(path.read_text())
    main = next(n for n in tree.body if isinstance(n, ast.If) and "__main__" in ast.unparse(n.test))
    caught = {}
    scope = {"__name__": "__main__", "train": lambda args: caught.setdefault("args", args)}
    exec("import argparse, os\nfrom datetime import datetime", scope)
    old = sys.argv
    sys.argv = [str(path), *argv]
    try:
        exec(compile(ast.Module(body=main.body, type_ignores=[]), str(path), "exec"), scope)
    finally:
        sys.argv = old
    return caught["args"]


def tinyv_flags(server) -> list:
    """The README's OpenRLHF flags, pointed at the test's server."""
    argv = readme_flags("--reward.remote_url")
    argv = argv[argv.index("...") + 1 :]
    return [a.replace(README_URL, server.url) for a in argv]


class Policy:
    """Stands in for vLLM behind LLMRayActor.generate: answers each prompt's samples right, wrong, right..."""

    def __init__(self, tokenizer, responses: dict) -> None:
        self.tokenizer, self.responses, self.count = tokenizer, responses, {}

    async def generate(self, prompt_token_ids, sampling_params, multi_modal_data=None):
        prompt = self.tokenizer.decode(prompt_token_ids, skip_special_tokens=False)
        question = next(q for q in self.responses if q in prompt)
        n = self.count[question] = self.count.get(question, -1) + 1
        right, wrong = self.responses[question]
        text = (right if n % 2 == 0 else wrong) + self.tokenizer.eos_token
        ids = self.tokenizer(text, add_special_tokens=False)["input_ids"]
        out = SimpleNamespace(token_ids=ids, text=text, finish_reason="stop", logprobs=None)
        return SimpleNamespace(outputs=[out])


def write_datasets(folder: Path) -> tuple:
    """The JSONL files and, per question, the scripted (right, wrong) response."""
    files, responses = [], {}
    for kind, (rows, rights, wrongs) in DATASETS.items():
        path = folder / f"{kind}.jsonl"
        path.write_text("".join(json.dumps({"question": q, "answer": a}) + "\n" for q, a in rows))
        files.append(str(path))
        responses.update({q: (r, w) for (q, _), r, w in zip(rows, rights, wrongs)})
    return files, responses


def load_prompts(args, tokenizer) -> tuple:
    """OpenRLHF's data path, as PPOTrainer builds it: blending_datasets, PromptDataset, its collate_fn."""
    strategy = SimpleNamespace(args=args, is_rank_0=lambda: True, print=lambda *a: None)
    data = blending_datasets(
        args.data.prompt_dataset,
        args.data.prompt_probs,
        strategy,
        args.train.seed,
        max_count=args.data.max_samples,
        dataset_split=args.data.prompt_split,
    )
    dataset = PromptDataset(data, tokenizer, strategy, input_template=args.data.input_template)
    _, prompts, labels, _ = dataset.collate_fn([dataset[i] for i in range(len(dataset))])
    return prompts, labels


def rollout(args, tokenizer, policy, prompts, labels, max_length=2048, max_tokens=None) -> list:
    """LLMRayActor.generate_responses for every prompt at once: N_SAMPLES executes each, all in flight."""
    executor = SingleTurnAgentExecutor(args.reward.remote_url)
    params = SimpleNamespace(max_tokens=max_tokens, logprobs=None)

    async def run():
        tasks = [
            executor.execute(prompt=p, label=lab, sampling_params=params, max_length=max_length,
                             hf_tokenizer=tokenizer, llm_engine=policy)
            for p, lab in zip(prompts, labels)
            for _ in range(N_SAMPLES)
        ]  # fmt: skip
        return await asyncio.gather(*tasks)

    return asyncio.run(run())


@pytest.fixture(autouse=True)
def _offline(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_CACHE", str(tmp_path / "hf-datasets"))


def test_readme_flags_parse_and_the_old_ones_are_refused(server, capsys):
    args = parse_args(tinyv_flags(server))
    assert args.reward.remote_url == [f"{server.url}/openrlhf"]
    assert args.data.label_key == "answer" and args.data.apply_chat_template
    old = readme_flags("--remote_rm_url")
    with pytest.raises(SystemExit):
        parse_args(old[old.index("...") + 1 :])
    assert "unrecognized arguments: --remote_rm_url" in capsys.readouterr().err


@pytest.mark.parametrize("template", list(TEMPLATES))
def test_rollout_rewards_every_label_type(server, tmp_path, template):
    tokenizer = make_tokenizer(template)
    files, responses = write_datasets(tmp_path)
    for kind, path in zip(DATASETS, files):  # one dataset per run: a JSONL column holds one type
        args = parse_args([*tinyv_flags(server), "--data.prompt_dataset", path, "--data.input_key", "question"])
        prompts, labels = load_prompts(args, tokenizer)
        assert {type(lab).__name__ for lab in labels} == {kind}
        assert all(p.endswith(("<|im_start|>assistant\n", "<|end_header_id|>\n\n")) for p in prompts)

        before = server.calls("OpenRLHF")
        outputs = rollout(args, tokenizer, Policy(tokenizer, responses), prompts, labels)
        assert server.calls("OpenRLHF") - before == len(prompts) * N_SAMPLES  # one request per sample
        for i, out in enumerate(outputs):
            want = 1.0 if i % 2 == 0 else 0.0
            assert out["reward"] == [want], (kind, out["label"])
            assert out["scores"] == [want]
            assert list(out["extra_logs"]) == RESULT_KEYS
            assert out["extra_logs"]["item_error"] == [0] and out["extra_logs"]["acc"] == [int(want)]
            # As samples_generator._process_response_into_experience makes its tensors.
            assert torch.tensor([out["reward"]]).shape == (1, 1)
            assert all(torch.tensor([v]).dtype in (torch.int64, torch.float32) for v in out["extra_logs"].values())


def test_a_row_without_an_answer_gets_reward_0_and_item_error_not_a_failed_request(server, tmp_path):
    tokenizer = make_tokenizer("chatml")
    path = tmp_path / "nullable.jsonl"
    path.write_text(json.dumps({"question": "What is 1 + 2?", "answer": 3}) + "\n"
                    + json.dumps({"question": "What is 10 - 4?", "answer": None}) + "\n")  # fmt: skip
    args = parse_args([*tinyv_flags(server), "--data.prompt_dataset", str(path), "--data.input_key", "question"])
    prompts, labels = load_prompts(args, tokenizer)
    assert labels == [3, None]
    outputs = rollout(args, tokenizer, Policy(tokenizer, write_datasets(tmp_path)[1]), prompts, labels)
    assert [o["reward"] for o in outputs[:4]] == [[1.0], [0.0], [1.0], [0.0]]
    for out in outputs[4:]:  # no answer: a reward of 0 with item_error 1, not None after five failed tries
        assert out["reward"] == [0.0] and out["extra_logs"]["item_error"] == [1]


def test_a_prompt_truncated_on_the_left_still_finds_the_response(server, tmp_path):
    tokenizer = make_tokenizer("chatml")
    system = {"role": "system", "content": "Please reason step by step, and put your final answer in \\boxed{}."}
    path = tmp_path / "chat.jsonl"
    path.write_text(json.dumps({"question": [system, {"role": "user", "content": "What is 1 + 2?"}], "answer": 3}))
    args = parse_args([*tinyv_flags(server), "--data.prompt_dataset", str(path), "--data.input_key", "question"])
    prompts, labels = load_prompts(args, tokenizer)
    prompt_len = len(tokenizer(prompts[0], add_special_tokens=False)["input_ids"])
    # execute() keeps the last (max_length - max_tokens) prompt tokens: here it drops the first 5.
    policy = Policy(tokenizer, write_datasets(tmp_path)[1])
    outputs = rollout(args, tokenizer, policy, prompts, labels, max_length=prompt_len - 5 + 64, max_tokens=64)
    decoded = tokenizer.decode(outputs[0]["observation_tokens"], skip_special_tokens=False)
    assert prompts[0].startswith("<|im_start|>system") and not decoded.startswith(prompts[0])
    assert [o["reward"] for o in outputs] == [[1.0], [0.0], [1.0], [0.0]]


def test_get_reward_path_and_two_urls_round_robin(server, tmp_path):
    tokenizer = make_tokenizer("llama3")
    files, responses = write_datasets(tmp_path)
    urls = f"{server.url}/get_reward,{server.url}/openrlhf"
    args = parse_args(["--reward.remote_url", urls, "--data.label_key", "answer", "--data.apply_chat_template",
                       "--data.prompt_dataset", files[1], "--data.input_key", "question"])  # fmt: skip
    assert args.reward.remote_url == urls.split(",")
    prompts, labels = load_prompts(args, tokenizer)
    before = server.calls("OpenRLHF")
    outputs = rollout(args, tokenizer, Policy(tokenizer, responses), prompts, labels)
    assert [o["reward"] for o in outputs] == [[1.0], [0.0], [1.0], [0.0]]
    assert server.calls("OpenRLHF") - before == 4
