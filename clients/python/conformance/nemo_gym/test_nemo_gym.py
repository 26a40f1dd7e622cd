"""NeMo Gym's own client side of `POST /verify` against a real `tinyv serve` in place of its math_with_judge
resources server.

Pinned: nemo-gym 0.7.0 from PyPI, with math-verify 0.8.0 (math_with_judge's requirements.txt), whose wheel
carries resources_servers/math_with_judge. Run as NeMo Gym's simple agent does its resources-server calls
(responses_api_agents/simple_agent/app.py): POST /seed_session, then the task row's model_dump() |
{"response": ...} posted to /verify, with NeMo Gym's ServerClient, to the resources server named in its
global config; raise_for_status,
get_response_json, then SimpleAgentVerifyResponse.model_validate. The reply must also validate as
math_with_judge's own LibraryJudgeMathVerifyResponse, and NeMo Gym's aggregate metrics (reward_profile,
with math_with_judge's compute_metrics) must read it. The task rows are math_with_judge's data/example.jsonl.
"""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from types import SimpleNamespace
from typing import Iterator

import pytest
import resources_servers.math_with_judge.app as math_with_judge
from nemo_gym.base_resources_server import BaseSeedSessionResponse
from nemo_gym.global_config import NEMO_GYM_CONFIG_DICT_ENV_VAR_NAME, ROLLOUT_INDEX_KEY_NAME, TASK_INDEX_KEY_NAME
from nemo_gym.openai_utils import NeMoGymResponse
from nemo_gym.reward_profile import compute_aggregate_metrics
from nemo_gym.server_utils import ServerClient, get_global_aiohttp_client, get_response_json, raise_for_status
from omegaconf import OmegaConf
from responses_api_agents.simple_agent.app import SimpleAgentRunRequest, SimpleAgentVerifyResponse

# One event loop for the session, as in an agent process: NeMo Gym's aiohttp client lives on the first loop.
LOOP = asyncio.new_event_loop()
EXAMPLES = Path(math_with_judge.__file__).parent / "data" / "example.jsonl"
RESULT_KEYS = ["score", "acc", "rule_match", "llm_asked", "llm_decided", "llm_failed", "item_error"]


def response(text: str) -> dict:
    """The policy's reply as NeMo Gym's model servers return it (an OpenAI Responses object)."""
    return NeMoGymResponse.model_validate(
        {
            "id": "resp_1",
            "created_at": 1.0,
            "model": "policy",
            "object": "response",
            "output": [
                {"id": "rs_1", "type": "reasoning", "summary": [{"type": "summary_text", "text": "\\boxed{-1}"}]},
                {
                    "id": "msg_1",
                    "type": "message",
                    "role": "assistant",
                    "status": "completed",
                    "content": [{"type": "output_text", "text": text, "annotations": []}],
                },
            ],
            "parallel_tool_calls": False,
            "tool_choice": "auto",
            "tools": [],
        }
    ).model_dump()


@pytest.fixture(scope="session")
def gym(server) -> Iterator[ServerClient]:
    """NeMo Gym's ServerClient as a Gym-launched agent process builds it: from the global config its parent
    injects (NEMO_GYM_CONFIG_DICT), where the resources server `math_with_judge` is tinyv's HTTP port."""
    address = {"host": "127.0.0.1", "port": server.http_port}
    config = {"head_server": address, "math_with_judge": {"resources_servers": {"math_with_judge": address}}}
    os.environ[NEMO_GYM_CONFIG_DICT_ENV_VAR_NAME] = OmegaConf.to_yaml(OmegaConf.create(config))
    yield ServerClient.load_from_global_config()
    # Close NeMo Gym's aiohttp client on the loop it lives on (its atexit hook would use a new loop).
    LOOP.run_until_complete(get_global_aiohttp_client().close())


def verify_all(client: ServerClient, rows: list) -> list:
    """The simple agent's verify step for each (row, response text), all in flight."""

    async def one(row: dict, text: str) -> dict:
        # SimpleAgent.run seeds the resources server's session first.
        seeded = await client.post(server_name="math_with_judge", url_path="/seed_session", json=row)
        await raise_for_status(seeded)
        BaseSeedSessionResponse.model_validate(await get_response_json(seeded))
        payload = SimpleAgentRunRequest.model_validate(row).model_dump() | {"response": response(text)}
        reply = await client.post(server_name="math_with_judge", url_path="/verify", json=payload)
        await raise_for_status(reply)
        result = await get_response_json(reply)
        SimpleAgentVerifyResponse.model_validate(result)
        return result

    async def run():
        return await asyncio.gather(*(one(row, text) for row, text in rows))

    return LOOP.run_until_complete(run())


def examples(n: int) -> list:
    return [json.loads(line) for line in EXAMPLES.read_text().splitlines()[:n]]


def test_verify_replies_validate_as_math_with_judge_responses(server, gym):
    tasks = examples(5)
    rows = []
    for t, task in enumerate(tasks):
        for r, text in enumerate([f"The answer is \\boxed{{{task['expected_answer']}}}.", "\\boxed{-1}"]):
            rows.append(({**task, TASK_INDEX_KEY_NAME: t, ROLLOUT_INDEX_KEY_NAME: r, "agent_ref": {"name": "a"}}, text))
    before = server.calls("NemoGymVerify")
    results = verify_all(gym, rows)
    assert server.calls("NemoGymVerify") - before == len(rows)
    assert server.calls("NemoGymSeedSession") >= len(rows)
    for (row, _), result in zip(rows, results):
        parsed = math_with_judge.LibraryJudgeMathVerifyResponse.model_validate(result)
        right = row[ROLLOUT_INDEX_KEY_NAME] == 0
        assert parsed.reward == (1.0 if right else 0.0), (row["expected_answer"], result["extracted_answer"])
        assert parsed.library_reward == parsed.reward and parsed.judge_evaluations is None
        assert parsed.expected_answer == row["expected_answer"] and result["question"] == row["question"]
        assert result[TASK_INDEX_KEY_NAME] == row[TASK_INDEX_KEY_NAME]  # echoed, as math_with_judge does
        assert [result[k] for k in ("item_error", "llm_failed")] == [0, 0] and set(RESULT_KEYS) <= set(result)
        assert "mask_sample" not in result
    assert results[1]["extracted_answer"] == "-1"  # the message's text, not the reasoning item's


def test_aggregate_metrics_read_the_replies_and_leave_out_a_masked_sample(gym):
    tasks = examples(3)
    unlabelled = {**tasks[2], "expected_answer": None}
    rows = [
        ({**tasks[0], TASK_INDEX_KEY_NAME: 0, ROLLOUT_INDEX_KEY_NAME: 0}, f"\\boxed{{{tasks[0]['expected_answer']}}}"),
        ({**tasks[0], TASK_INDEX_KEY_NAME: 0, ROLLOUT_INDEX_KEY_NAME: 1}, "\\boxed{-1}"),
        ({**tasks[1], TASK_INDEX_KEY_NAME: 1, ROLLOUT_INDEX_KEY_NAME: 0}, "\\boxed{-1}"),
        ({**tasks[1], TASK_INDEX_KEY_NAME: 1, ROLLOUT_INDEX_KEY_NAME: 1}, "\\boxed{-1}"),
    ]
    async def post_unlabelled():
        # A row whose expected_answer is null: SimpleAgentRunRequest keeps it (extra fields are allowed).
        payload = SimpleAgentRunRequest.model_validate(unlabelled).model_dump() | {"response": response("\\boxed{1}")}
        reply = await gym.post(server_name="math_with_judge", url_path="/verify", json=payload)
        await raise_for_status(reply)  # a 200, not an error the collector would retry
        return await get_response_json(reply)

    masked = LOOP.run_until_complete(post_unlabelled())
    assert masked["reward"] == 0 and masked["mask_sample"] is True and masked["failure_kind"] == "verifier_error"
    assert "expected_answer is null" in masked["failure_reason"]
    masked |= {TASK_INDEX_KEY_NAME: 2, ROLLOUT_INDEX_KEY_NAME: 0}

    results = verify_all(gym, rows)
    # math_with_judge's metrics methods, on a server object built without its judge config (they read none).
    config = SimpleNamespace(library_verifier_max_concurrency=1)
    resources = math_with_judge.LibraryJudgeMathResourcesServer.model_construct(config=config)
    metrics = compute_aggregate_metrics(
        [*results, masked], compute_metrics_fn=resources.compute_metrics, get_key_metrics_fn=resources.get_key_metrics
    )
    agent = metrics.agent_metrics
    assert agent["mean/reward"] == 0.25  # the masked sample is left out
    assert agent["mean/rule_match"] == 0.25 and agent["mean/item_error"] == 0  # our fields, averaged
    assert agent["pass@2/symbolic_accuracy"] == 50.0  # math_with_judge's own metric, from library_reward
    assert agent["coverage/masked_rollouts"] == 1 and agent["coverage/measured_rollouts"] == 4
