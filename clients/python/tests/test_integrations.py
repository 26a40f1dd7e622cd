"""Each adapter called the way its framework calls it, against a real `tinyv serve`."""

from __future__ import annotations

import functools
import importlib.util
import inspect
import json
import sys
import urllib.error
import urllib.request

import pytest
from conftest import TinyVServer

import tinyv_client.integrations.verl as verl_adapter
from tinyv_client import InvalidRequestError, UnavailableError
from tinyv_client.integrations._common import ItemFailedError
from tinyv_client.integrations.trl import make_reward_func, message_text

HALF = r"\frac12"
COT = "Let me think. Half of one is a half.</think> The answer is $\\boxed{0.5}$."


# -- verl ---------------------------------------------------------------------


def load_like_verl(name: str, reward_kwargs: dict):
    """What verl's get_custom_reward_fn does with custom_reward_function.{path,name,reward_kwargs}:
    execute the file as module "custom_module", then bind reward_kwargs (they win over call kwargs)."""
    spec = importlib.util.spec_from_file_location("custom_module", verl_adapter.__file__)
    module = importlib.util.module_from_spec(spec)
    sys.modules["custom_module"] = module
    spec.loader.exec_module(module)
    raw = getattr(module, name)
    if inspect.iscoroutinefunction(raw):

        async def bound_async(*args, **kwargs):
            return await raw(*args, **{**kwargs, **reward_kwargs})

        return bound_async

    def bound(*args, **kwargs):
        return raw(*args, **{**kwargs, **reward_kwargs})

    return functools.wraps(raw)(bound)


def test_verl_compute_score_as_naive_reward_manager_calls_it(server: TinyVServer) -> None:
    compute_score = load_like_verl("compute_score", {"url": server.target})
    right = compute_score(
        data_source="lighteval/MATH",
        solution_str=COT,
        ground_truth=HALF,
        extra_info={"question": "Half?", "index": 3},
    )
    wrong = compute_score(data_source="gsm8k", solution_str="#### 3", ground_truth="2", extra_info=None)
    assert (right, wrong) == (1.0, 0.0)
    # Older verl passes the four arguments positionally.
    assert compute_score("math", r"\boxed{2}", "2", {}) == 1.0


def test_verl_return_dict_and_extra_kwargs(server: TinyVServer) -> None:
    compute_score = load_like_verl("compute_score", {"url": server.target, "return_dict": True})
    result = compute_score(
        data_source="math", solution_str=COT, ground_truth=HALF, extra_info={}, reward_router_address=None
    )
    assert result == {"score": 1.0, "acc": True, "pred": "0.5"}


def test_verl_address_from_environment(server: TinyVServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TINYV_URL", server.target)
    compute_score = load_like_verl("compute_score", {})
    assert (
        compute_score(data_source="math", solution_str=r"\boxed{7}", ground_truth=7, extra_info=None) == 1.0
    )


def test_verl_with_tls_and_token_from_environment(
    tls_server: TinyVServer, tls_files: tuple, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TINYV_URL", f"grpcs://localhost:{tls_server.port}")
    monkeypatch.setenv("TINYV_CA_CERT", str(tls_files[1]))
    compute_score = load_like_verl("compute_score", {})
    assert compute_score(data_source="math", solution_str=COT, ground_truth=HALF) == 1.0


def test_verl_without_address_is_a_clear_error() -> None:
    compute_score = load_like_verl("compute_score", {})
    with pytest.raises(InvalidRequestError, match="TINYV_URL"):
        compute_score(data_source="math", solution_str="1", ground_truth="1")


def test_verl_item_errors(server: TinyVServer) -> None:
    compute_score = load_like_verl("compute_score", {"url": server.target})
    assert compute_score(data_source="math", solution_str="1", ground_truth="") == 0.0
    raising = load_like_verl("compute_score", {"url": server.target, "on_error": "raise"})
    with pytest.raises(ItemFailedError, match="INVALID_ARGUMENT"):
        raising(data_source="math", solution_str="1", ground_truth="")


def test_verl_batch_as_batch_reward_manager_calls_it(server: TinyVServer) -> None:
    compute_scores = load_like_verl("compute_score_batch", {"url": server.target})
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


async def test_verl_async_as_reward_loop_calls_it(server: TinyVServer) -> None:
    compute_score = load_like_verl("compute_score_async", {"url": server.target, "return_dict": True})
    assert inspect.iscoroutinefunction(compute_score)
    result = await compute_score(
        data_source="math",
        solution_str=COT,
        ground_truth=HALF,
        extra_info={"question": "Half?", "num_turns": None},
        reward_router_address=None,
        reward_model_tokenizer=None,
        reward_model_path=None,
    )
    assert result["score"] == 1.0 and result["acc"] is True


def test_verl_dead_server_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    from conftest import free_port

    monkeypatch.setenv("TINYV_TIMEOUT", "5")
    compute_score = load_like_verl("compute_score", {"url": f"127.0.0.1:{free_port()}"})
    with pytest.raises(UnavailableError):
        compute_score(data_source="math", solution_str="1", ground_truth="1")


# -- TRL ----------------------------------------------------------------------


def test_trl_plain_completions(server: TinyVServer) -> None:
    reward = make_reward_func("solution", url=server.target)
    assert reward.__name__ == "tinyv_reward"
    prompts = ["What is half of one?"] * 2 + ["2 + 2?"] * 2
    completions = [r"\boxed{0.5}", r"\boxed{1}", "The answer is \\boxed{4}.", "5"]
    rewards = reward(
        prompts=prompts,
        completions=completions,
        completion_ids=[[1, 2]] * 4,
        trainer_state=None,
        solution=[HALF, HALF, "4", "4"],
        level=["easy"] * 4,
    )
    assert rewards == [1.0, 0.0, 1.0, 0.0]


def test_trl_conversational_completions(server: TinyVServer) -> None:
    reward = make_reward_func(ground_truth_column="answer", url=server.target, name="tinyv")
    prompts = [[{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Half of one?"}]] * 2
    completions = [
        [{"role": "assistant", "content": r"It is \boxed{\frac{1}{2}}"}],
        [{"role": "assistant", "content": [{"type": "text", "text": r"\boxed{2}"}]}],
    ]
    assert reward(prompts=prompts, completions=completions, answer=["0.5", 0.5]) == [1.0, 0.0]
    assert reward.__name__ == "tinyv"


def test_trl_missing_column_and_errors(server: TinyVServer) -> None:
    reward = make_reward_func("solution", url=server.target)
    with pytest.raises(InvalidRequestError, match="no column 'solution'"):
        reward(prompts=["p"], completions=["c"], answer=["1"])
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
