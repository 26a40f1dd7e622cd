"""The result fields, the question recovery, and the verl and TRL adapters called the way their
frameworks call them (verl 0.9.1, TRL 1.16.0), against a real `tinyv serve`. The frameworks'
own code runs them in clients/python/conformance/."""

from __future__ import annotations

import asyncio
import functools
import importlib
import inspect
import json
import urllib.error
import urllib.request

import pytest
from conftest import TinyVServer

from tinyv_client import DeadlineExceededError, InvalidRequestError, TinyVClient, UnavailableError
from tinyv_client.integrations import RESULT_KEYS, question_of, result_fields, strip_special_tokens
from tinyv_client.integrations._common import ItemFailedError, reward_of
from tinyv_client.integrations.trl import make_reward_func, message_text

HALF = r"\frac12"
COT = "Let me think. Half of one is a half.</think> The answer is $\\boxed{0.5}$."


# -- the result fields -----------------------------------------------------------


@pytest.mark.parametrize(
    "response, gold, fields",
    [
        (r"\boxed{0.5}", HALF, dict(score=1, acc=1, rule_match=1, llm_asked=0, llm_decided=0)),
        (r"\boxed{right}", "7", dict(score=1, acc=1, rule_match=0, llm_asked=1, llm_decided=1)),
        (r"\boxed{8}", "7", dict(score=0, acc=0, rule_match=0, llm_asked=1, llm_decided=1)),
        (r"\boxed{fail}", "7", dict(score=0, acc=0, rule_match=0, llm_asked=1, llm_decided=0, llm_failed=1)),
        (r"\boxed{1}", "", dict(score=0, acc=0, rule_match=0, llm_asked=0, llm_decided=0, item_error=1)),
    ],
    ids=["rules", "llm-true", "llm-false", "llm-failed", "item-error"],
)
def test_result_fields(llm_server: TinyVServer, response: str, gold: str, fields: dict) -> None:
    """The same seven numbers for every kind of verdict, from a server with an LLM verifier."""
    with TinyVClient(llm_server.target) as client:
        verdict = client.verify(gold, response, "What is it?")
    got = result_fields(verdict, reward_of(verdict, "zero"))
    assert tuple(got) == RESULT_KEYS
    assert got == {**dict.fromkeys(RESULT_KEYS, 0.0), **{k: float(v) for k, v in fields.items()}}


def test_result_fields_without_an_llm(server: TinyVServer) -> None:
    with TinyVClient(server.target) as client:
        verdict = client.verify("7", r"\boxed{8}")
    assert result_fields(verdict, 0.0) == dict.fromkeys(RESULT_KEYS, 0.0)  # NOT_CONFIGURED: not asked


@pytest.mark.parametrize(
    "prompt, question",
    [
        ("What is 2+2?", "What is 2+2?"),
        (
            [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Half of one?"}],
            "Half of one?",
        ),
        ([{"role": "user", "content": [{"type": "text", "text": "Parts?"}]}], "Parts?"),
        (
            "<|im_start|>system\nYou are Qwen.<|im_end|>\n<|im_start|>user\nSolve x+1=2.<|im_end|>\n"
            "<|im_start|>assistant\n",
            "Solve x+1=2.",
        ),
        (
            "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nSys<|eot_id|>"
            "<|start_header_id|>user<|end_header_id|>\n\nWhat is 3*3?<|eot_id|>"
            "<|start_header_id|>assistant<|end_header_id|>\n\n",
            "What is 3*3?",
        ),
        ("<bos><start_of_turn>user\nName 5.<end_of_turn>\n<start_of_turn>model\n", "Name 5."),
        ("<｜begin▁of▁sentence｜>Sys<｜User｜>Add 1 and 1.<｜Assistant｜><think>\n", "Add 1 and 1."),
        ("<s>[INST] <<SYS>>\nBe good.\n<</SYS>>\n\nWhy 6? [/INST]", "Why 6?"),
        ("<|user|>\nPhi asks 4?<|end|>\n<|assistant|>\n", "Phi asks 4?"),
        ("A conversation between User and Assistant. User: Compute 9-2. Assistant: <think>", "Compute 9-2."),
    ],
    ids=["plain", "messages", "parts", "chatml", "llama3", "gemma", "deepseek", "mistral", "phi", "r1-zero"],
)
def test_question_of(prompt, question: str) -> None:
    assert question_of(prompt) == question


def test_strip_special_tokens() -> None:
    assert (
        strip_special_tokens("<think>a</think> \\boxed{2}<|im_end|><|endoftext|>")
        == "<think>a</think> \\boxed{2}"
    )
    assert strip_special_tokens("x</s><pad><pad>") == "x"


# -- verl -------------------------------------------------------------------------


def load_like_verl(name: str, reward_kwargs: dict):
    """What verl 0.9.1's get_custom_reward_fn (verl/trainer/ppo/reward.py) does with
    reward.custom_reward_function.{path: pkg://..., name, reward_kwargs}: import the module,
    take the function, and bind reward_kwargs over the call's own keyword arguments."""
    raw = getattr(importlib.import_module("tinyv_client.integrations.verl"), name)
    if inspect.iscoroutinefunction(raw):

        async def bound_async(*args, **kwargs):
            return await raw(*args, **{**kwargs, **reward_kwargs})

        return bound_async

    def bound(*args, **kwargs):
        return raw(*args, **{**kwargs, **reward_kwargs})

    return functools.wraps(raw)(bound)


VERL_KEYS = [*RESULT_KEYS, "pred"]


def test_verl_compute_score_as_the_reward_loop_calls_it(server: TinyVServer) -> None:
    compute_score = load_like_verl("compute_score", {"url": server.target})
    right = compute_score(
        data_source="lighteval/MATH",
        solution_str=COT,
        ground_truth=HALF,
        extra_info={"question": "Half?", "index": 3, "num_turns": None, "rollout_reward_scores": {}},
    )
    wrong = compute_score(data_source="gsm8k", solution_str="#### 3", ground_truth="2", extra_info=None)
    bad = compute_score(data_source="gsm8k", solution_str="#### 3", ground_truth="", extra_info={})
    for result in (right, wrong, bad):
        assert list(result) == VERL_KEYS  # verl stacks reward_extra_info by the first sample's keys
    assert (right["score"], right["acc"], right["rule_match"], right["pred"]) == (1.0, 1.0, 1.0, "0.5")
    assert (wrong["score"], wrong["acc"], wrong["item_error"]) == (0.0, 0.0, 0.0)
    assert (bad["score"], bad["item_error"]) == (0.0, 1.0)


def test_verl_float_and_legacy_positional_call(server: TinyVServer) -> None:
    """return_dict=false gives a float (the legacy Prime manager needs one); old managers pass positionally."""
    compute_score = load_like_verl("compute_score", {"url": server.target, "return_dict": False})
    assert compute_score("math", r"\boxed{2}", "2", {}) == 1.0
    assert compute_score("math", r"\boxed{3}", ["2"], None) == 0.0


def test_verl_threads_share_one_stream(server: TinyVServer) -> None:
    """The reward loop runs a sync compute_score in its event loop's thread pool: one stream for all."""
    from concurrent.futures import ThreadPoolExecutor

    compute_score = load_like_verl("compute_score", {"url": server.target})
    streams, unary = server.rpcs("VerifyPackedStream"), server.rpcs("Verify")
    with ThreadPoolExecutor(16) as pool:
        scores = list(
            pool.map(lambda i: compute_score("math", f"\\boxed{{{i}}}", str(i % 50), {})["score"], range(200))
        )
    assert scores == [1.0 if i < 50 else 0.0 for i in range(200)]
    assert server.rpcs("VerifyPackedStream") - streams <= 1 and server.rpcs("Verify") == unary


async def test_verl_async_as_the_reward_loop_awaits_it(server: TinyVServer) -> None:
    compute_score = load_like_verl("compute_score_async", {"url": server.target})
    assert inspect.iscoroutinefunction(compute_score)
    streams = server.rpcs("VerifyPackedStream")
    results = await asyncio.gather(
        *(
            compute_score(
                data_source="math",
                solution_str=COT if i % 2 else r"\boxed{3}",
                ground_truth=HALF,
                extra_info={"question": "Half?", "num_turns": None},
                reward_router_address=None,
                reward_model_tokenizer=None,
            )
            for i in range(64)
        )
    )
    assert [r["score"] for r in results] == [float(i % 2) for i in range(64)]
    assert all(list(r) == VERL_KEYS for r in results)
    assert server.rpcs("VerifyPackedStream") - streams <= 1


def test_verl_question_fallback() -> None:
    from tinyv_client.integrations.verl import question_from_extra_info

    assert question_from_extra_info({"question": "Q1", "problem": "P"}) == "Q1"
    assert question_from_extra_info({"problem": "P2"}) == "P2"
    assert question_from_extra_info({"prompt": [{"role": "user", "content": "P3"}]}) == "P3"
    assert question_from_extra_info({"my_q": "P4"}, question_key="my_q") == "P4"
    assert question_from_extra_info({"index": 1}) == question_from_extra_info(None) == ""


def test_verl_address_from_environment(server: TinyVServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TINYV_URL", server.target)
    compute_score = load_like_verl("compute_score", {"return_dict": False})
    assert (
        compute_score(data_source="math", solution_str=r"\boxed{7}", ground_truth=7, extra_info=None) == 1.0
    )


def test_verl_with_tls_and_token_from_environment(
    tls_server: TinyVServer, tls_files: tuple, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TINYV_URL", f"grpcs://localhost:{tls_server.port}")
    monkeypatch.setenv("TINYV_CA_CERT", str(tls_files[1]))
    compute_score = load_like_verl("compute_score", {})
    assert compute_score(data_source="math", solution_str=COT, ground_truth=HALF)["score"] == 1.0


def test_verl_without_address_is_a_clear_error() -> None:
    compute_score = load_like_verl("compute_score", {})
    with pytest.raises(InvalidRequestError, match="TINYV_URL"):
        compute_score(data_source="math", solution_str="1", ground_truth="1")


def test_verl_item_errors(server: TinyVServer) -> None:
    raising = load_like_verl("compute_score", {"url": server.target, "on_error": "raise"})
    with pytest.raises(ItemFailedError, match="INVALID_ARGUMENT"):
        raising(data_source="math", solution_str="1", ground_truth="")
    with pytest.raises(InvalidRequestError, match="zero"):
        load_like_verl("compute_score", {"url": server.target, "on_error": "none"})("m", "1", "1")


def test_verl_batch_as_the_legacy_batch_manager_calls_it(server: TinyVServer) -> None:
    compute_scores = load_like_verl("compute_score_batch", {"url": server.target, "return_dict": False})
    count = 256
    scores = compute_scores(
        data_sources=["math"] * count,
        solution_strs=[f"\\boxed{{{i if i % 3 else i + 1}}}" for i in range(count)],
        ground_truths=[str(i) for i in range(count)],
        extra_infos=[{"question": f"q{i}"} if i % 2 else None for i in range(count)],
    )
    assert scores == [0.0 if i % 3 == 0 else 1.0 for i in range(count)]


def test_verl_batch_length_mismatch(server: TinyVServer) -> None:
    compute_scores = load_like_verl("compute_score_batch", {"url": server.target})
    with pytest.raises(ValueError, match="same length"):
        compute_scores(
            data_sources=["a"], solution_strs=["1", "2"], ground_truths=["1", "2"], extra_infos=None
        )


def test_verl_dead_server_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    from conftest import free_port

    monkeypatch.setenv("TINYV_TIMEOUT", "5")
    compute_score = load_like_verl("compute_score", {"url": f"127.0.0.1:{free_port()}"})
    with pytest.raises((UnavailableError, DeadlineExceededError)):
        compute_score(data_source="math", solution_str="1", ground_truth="1")


# -- TRL ----------------------------------------------------------------------


class TrlLogs:
    """What GRPOTrainer hands a reward function as log_extra and log_metric (trl 1.16.0)."""

    def __init__(self) -> None:
        self.extra: dict = {}
        self.metrics: dict = {}

    def kwargs(self) -> dict:
        return {"log_extra": self.extra.__setitem__, "log_metric": self.metrics.__setitem__}


def test_trl_plain_completions(server: TinyVServer) -> None:
    reward = make_reward_func("solution", url=server.target)
    assert reward.__name__ == "tinyv_reward"
    prompts = ["What is half of one?"] * 2 + ["2 + 2?"] * 2
    completions = [r"\boxed{0.5}", r"\boxed{1}", "The answer is \\boxed{4}.", "5"]
    logs = TrlLogs()
    rewards = reward(
        prompts=prompts,
        completions=completions,
        completion_ids=[[1, 2]] * 4,
        trainer_state=None,
        solution=[HALF, HALF, "4", "4"],
        level=["easy"] * 4,
        **logs.kwargs(),
    )
    assert rewards == [1.0, 0.0, 1.0, 0.0]
    assert logs.extra == {"tinyv_answer": ["0.5", "1", "4", "5"], "tinyv_decided_by": ["RULES"] * 4}
    assert logs.metrics == {
        "tinyv/acc": 0.5, "tinyv/rule_match": 0.5, "tinyv/llm_asked": 0.0,
        "tinyv/llm_decided": 0.0, "tinyv/llm_failed": 0.0, "tinyv/item_error": 0.0,
    }  # fmt: skip


def test_trl_llm_metrics(llm_server: TinyVServer) -> None:
    reward = make_reward_func("solution", url=llm_server.target)
    logs = TrlLogs()
    rewards = reward(
        prompts=["Seven?"] * 4,
        completions=[r"\boxed{7}", r"\boxed{right}", r"\boxed{8}", r"\boxed{fail}"],
        solution=["7"] * 4,
        **logs.kwargs(),
    )
    assert rewards == [1.0, 1.0, 0.0, 0.0]
    assert logs.extra["tinyv_decided_by"] == ["RULES", "LLM", "LLM", "RULES"]
    assert (logs.metrics["tinyv/llm_asked"], logs.metrics["tinyv/llm_decided"]) == (0.75, 0.5)
    assert logs.metrics["tinyv/llm_failed"] == 0.25


def test_trl_conversational_completions(server: TinyVServer) -> None:
    reward = make_reward_func(ground_truth_column="answer", url=server.target, name="tinyv")
    prompts = [[{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Half of one?"}]] * 2
    completions = [
        [{"role": "assistant", "content": r"It is \boxed{\frac{1}{2}}"}],
        [{"role": "assistant", "content": [{"type": "text", "text": r"\boxed{2}"}]}],
    ]
    assert reward(prompts=prompts, completions=completions, answer=["0.5", 0.5]) == [1.0, 0.0]
    assert reward.__name__ == "tinyv"


async def test_trl_async_reward_func(server: TinyVServer) -> None:
    reward = make_reward_func("solution", url=server.target, asynchronous=True)
    assert inspect.iscoroutinefunction(reward)
    rewards = await reward(prompts=["q", "q"], completions=[r"\boxed{1}", r"\boxed{2}"], solution=["1", "1"])
    assert rewards == [1.0, 0.0]


def test_trl_missing_column_and_errors(server: TinyVServer) -> None:
    reward = make_reward_func("solution", url=server.target)
    with pytest.raises(InvalidRequestError, match=r"no column 'solution' \(columns: \['answer'\]\)"):
        reward(prompts=["p"], completions=["c"], answer=["1"], trainer_state=None, **TrlLogs().kwargs())
    lenient = make_reward_func("solution", url=server.target, on_error="none")
    assert lenient(prompts=["p", "p"], completions=["1", "1"], solution=["", "1"]) == [None, 1.0]
    with pytest.raises(InvalidRequestError):
        make_reward_func(on_error="ignore")


def test_message_text() -> None:
    conversation = [
        {"role": "user", "content": "q1"},
        {"role": "assistant", "content": "a"},
        {"role": "user", "content": "q2"},
    ]
    assert message_text(conversation, role="user") == "q2"
    assert message_text(conversation) == "q2"
    assert message_text("plain") == "plain"
    assert message_text([], role="user") == ""


# -- OpenRLHF -----------------------------------------------------------------


def post_json(url: str, payload: dict) -> dict:
    """What OpenRLHF's remote reward client sends: a JSON POST, JSON back."""
    request = urllib.request.Request(
        url, data=json.dumps(payload).encode(), headers={"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=30) as reply:
        return json.loads(reply.read())


def test_openrlhf_remote_rm_protocol(server: TinyVServer) -> None:
    prompt = "<|user|>What is half of one?<|assistant|>"
    reply = post_json(
        f"{server.http_url}/openrlhf",
        {
            "query": [prompt + r"\boxed{0.5}", prompt + r"\boxed{2}", "no prompt here \\boxed{4}"],
            "prompts": [prompt, prompt, "unrelated"],
            "labels": [HALF, HALF, "4"],
        },
    )
    assert reply["rewards"] == [1.0, 0.0, 1.0]
    assert reply["scores"] == reply["rewards"]
    assert isinstance(reply["extra_logs"], dict)
    assert all(len(v) == 3 for v in reply["extra_logs"].values())


def test_openrlhf_bad_request(server: TinyVServer) -> None:
    with pytest.raises(urllib.error.HTTPError) as info:
        post_json(f"{server.http_url}/openrlhf", {"query": ["a", "b"], "labels": ["1"]})
    assert 400 <= info.value.code < 500
