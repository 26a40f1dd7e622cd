"""verifiers 0.4.0's own Task.score running tinyv_client.integrations.verifiers as a plugged
reward, configured by the TOML the README gives, against a real `tinyv serve`. prime-rl
(v0.8.1.dev67, not on PyPI) runs verifiers' v1 tasksets and scores them with this same code."""

from __future__ import annotations

import asyncio

import pytest
import tomllib
import verifiers.v1 as vf
from readme import block
from verifiers.v1.graph import MessageNode
from verifiers.v1.types import AssistantMessage, UserMessage


class MathData(vf.TaskData):
    answer: str = ""


def plugged_rewards() -> dict:
    """The README's `[env.taskset.task.rewards]` table, as verifiers' config loader reads it."""
    return tomllib.loads(block("verifiers"))["env"]["taskset"]["task"]["rewards"]


def trace_of(question: str, answer: str, reply: str) -> vf.Trace:
    return vf.Trace(
        agent=vf.AgentInfo(config=vf.AgentConfig()),
        task=vf.TraceTask(type="Task", data=MathData(idx=0, prompt=question, answer=answer)),
        nodes=[
            MessageNode(parent=None, message=UserMessage(content=question), sampled=False),
            MessageNode(parent=0, message=AssistantMessage(content=reply), sampled=True),
        ],
    )


def task_for(trace: vf.Trace) -> vf.Task:
    return vf.Task(trace.task.data, vf.TaskConfig(rewards=plugged_rewards()))


@pytest.fixture
def tinyv_env(tinyv, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("TINYV_URL", tinyv.target)
    return tinyv


async def test_task_score_runs_the_plugged_reward(tinyv_env) -> None:
    cases = [
        ("Half of one?", r"\frac12", r"So it is \boxed{0.5}.", 1.0),
        ("Two plus two?", "4", r"\boxed{5}", 0.0),
    ]
    traces = [trace_of(q, a, r) for q, a, r, _ in cases]
    streams = tinyv_env.rpcs("VerifyPackedStream")
    await asyncio.gather(*(task_for(t).score(t) for t in traces))
    assert [t.rewards["tinyv"].score for t in traces] == [c[3] for c in cases]
    assert [t.reward for t in traces] == [c[3] for c in cases]  # verifiers' weighted total
    for trace in traces:
        assert set(trace.metrics) == {
            "tinyv/acc", "tinyv/rule_match", "tinyv/llm_asked", "tinyv/llm_decided", "tinyv/llm_failed",
            "tinyv/item_error",
        }  # fmt: skip
        assert trace.info["tinyv"]["decided_by"] == "RULES"
    assert tinyv_env.rpcs("VerifyPackedStream") - streams <= 1  # every rollout of the process on one stream


async def test_with_the_llm_verifier(tinyv_llm, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TINYV_URL", tinyv_llm.target)
    trace = trace_of("Seven?", "7", r"\boxed{right}")
    await task_for(trace).score(trace)
    assert trace.rewards["tinyv"].score == 1.0
    assert trace.metrics["tinyv/llm_decided"] == 1.0


async def test_a_task_without_an_answer_errors_the_rollout(tinyv_env) -> None:
    """verifiers records a scoring failure as the trace's error, not as a zero reward."""

    class NoAnswer(vf.TaskData):
        pass

    trace = vf.Trace(
        agent=vf.AgentInfo(config=vf.AgentConfig()),
        task=vf.TraceTask(type="Task", data=NoAnswer(idx=0, prompt="q")),
        nodes=[MessageNode(parent=None, message=AssistantMessage(content="1"), sampled=True)],
    )
    with pytest.raises(Exception, match="reference answer"):
        await vf.Task(trace.task.data, vf.TaskConfig(rewards=plugged_rewards())).score(trace)
