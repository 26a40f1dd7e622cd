"""TinyVClient against a real `tinyv serve`."""

from __future__ import annotations

import signal
import socket
import threading
import time

import pytest
from conftest import AUTH_TOKEN, TinyVServer, free_port

from tinyv_client import (
    AuthenticationError,
    DeadlineExceededError,
    DecidedBy,
    ErrorCode,
    InvalidRequestError,
    LlmOutcome,
    Mode,
    Options,
    RetryPolicy,
    RuleOutcome,
    TinyVClient,
    TinyVError,
    UnavailableError,
    VerifyRequest,
)

HALF = r"\frac12"


def numbered(count: int) -> list:
    """Items with known answers: even ids are right, odd ids are wrong."""
    return [
        VerifyRequest(
            ground_truth=str(i),
            response=f"so the answer is \\boxed{{{i if i % 2 == 0 else i + 1}}}",
            id=f"item-{i}",
        )
        for i in range(count)
    ]


def assert_numbered(verdicts: list, count: int) -> None:
    assert [v.id for v in verdicts] == [f"item-{i}" for i in range(count)]
    assert [v.reward for v in verdicts] == [1.0 if i % 2 == 0 else 0.0 for i in range(count)]


# -- calls --------------------------------------------------------------------


def test_server_info(client: TinyVClient) -> None:
    info = client.get_server_info()
    assert info.version
    assert info.default_mode == Mode.RULES_ONLY  # no LLM configured
    assert info.llm_backends == ()
    assert info.limits.max_batch_items > 0
    assert info.rule_workers >= 1


def test_verify_correct(client: TinyVClient) -> None:
    verdict = client.verify(ground_truth=HALF, response=r"\boxed{0.5}", question="Half of one?", id="q1")
    assert verdict.id == "q1"
    assert verdict.reward == 1.0 and verdict.correct and verdict.ok
    assert verdict.decided_by == DecidedBy.RULES
    assert verdict.rule_outcome == RuleOutcome.MATCH
    assert verdict.llm_outcome == LlmOutcome.NOT_ASKED
    assert verdict.extracted_answer == "0.5"
    assert verdict.p_true is None
    assert verdict.timings.total_ms >= verdict.timings.rules_ms >= 0


def test_verify_wrong(client: TinyVClient) -> None:
    verdict = client.verify("2", r"\boxed{3}", data_source="math")
    assert verdict.reward == 0.0 and not verdict.correct
    assert verdict.rule_outcome == RuleOutcome.MISMATCH
    assert verdict.extracted_answer == "3"


def test_verify_empty_ground_truth_is_an_item_error(client: TinyVClient) -> None:
    verdict = client.verify("", r"\boxed{3}", id="bad")
    assert not verdict.ok
    assert verdict.error is not None and verdict.error.code == ErrorCode.INVALID_ARGUMENT
    assert verdict.error.message
    assert verdict.reward == 0.0 and verdict.decided_by == DecidedBy.UNSPECIFIED
    assert verdict.id == "bad"


def test_verify_options(client: TinyVClient) -> None:
    rules = client.verify("2", r"\boxed{2}", options=Options(mode="rules_only"))
    assert rules.mode == Mode.RULES_ONLY and rules.reward == 1.0
    llm = client.verify("2", r"\boxed{3}", options=Options(mode=Mode.LLM_ONLY))
    assert llm.mode == Mode.LLM_ONLY
    assert llm.llm_outcome == LlmOutcome.NOT_CONFIGURED or llm.error is not None


def test_verify_batch_keeps_order_and_ids(client: TinyVClient) -> None:
    items = numbered(50)
    items.insert(25, VerifyRequest(ground_truth="", response="1", id="empty"))
    verdicts = client.verify_batch(items)
    assert len(verdicts) == 51
    assert verdicts[25].id == "empty" and verdicts[25].error is not None
    assert_numbered(verdicts[:25] + verdicts[26:], 50)


def test_verify_batch_accepts_mappings_and_batch_options(client: TinyVClient) -> None:
    verdicts = client.verify_batch(
        [{"ground_truth": HALF, "response": r"\boxed{0.5}"}, {"ground_truth": "2", "response": "3"}],
        options=Options(mode="rules_only"),
    )
    assert [v.reward for v in verdicts] == [1.0, 0.0]
    assert all(v.mode == Mode.RULES_ONLY for v in verdicts)


def test_verify_batch_empty(client: TinyVClient) -> None:
    assert client.verify_batch([]) == []


@pytest.mark.parametrize("ordered", [True, False])
def test_stream(client: TinyVClient, ordered: bool) -> None:
    items = numbered(300)
    verdicts = list(client.stream(items, ordered=ordered, window=64))
    if not ordered:
        verdicts.sort(key=lambda v: int(v.id.split("-")[1]))
    assert_numbered(verdicts, 300)


def test_stream_keeps_duplicate_and_empty_ids(client: TinyVClient) -> None:
    items = [VerifyRequest("1", r"\boxed{1}", id="same"), VerifyRequest("2", r"\boxed{1}", id="same")]
    items.append(VerifyRequest("3", r"\boxed{3}"))
    verdicts = list(client.stream(items))
    assert [(v.id, v.reward) for v in verdicts] == [("same", 1.0), ("same", 0.0), ("", 1.0)]


def test_stream_empty_input(client: TinyVClient) -> None:
    assert list(client.stream([])) == []


@pytest.mark.slow
def test_stream_10000_items(client: TinyVClient) -> None:
    count = 10_000
    start = time.monotonic()
    verdicts = list(client.stream(iter(numbered(count))))
    elapsed = time.monotonic() - start
    assert_numbered(verdicts, count)
    print(f"\n10,000-item stream: {elapsed:.2f}s, {count / elapsed:,.0f} verdicts/s")


def test_stream_reads_input_lazily(client: TinyVClient) -> None:
    pulled = []

    def source():
        for item in numbered(1000):
            pulled.append(item.id)
            yield item

    stream = client.stream(source(), window=10)
    first = next(stream)
    assert first.id == "item-0"
    assert len(pulled) <= 11 + 1
    rest = list(stream)
    assert len(rest) == 999 and len(pulled) == 1000


def test_stream_stopped_early_leaves_client_usable(client: TinyVClient) -> None:
    stream = client.stream(numbered(5000))
    for i, _ in enumerate(stream):
        if i == 10:
            break
    stream.close()
    assert client.verify("1", r"\boxed{1}").reward == 1.0


def test_stream_input_error_propagates(client: TinyVClient) -> None:
    def source():
        yield from numbered(5)
        raise KeyError("dataset row 5 is broken")

    with pytest.raises(KeyError, match="row 5"):
        list(client.stream(source()))


@pytest.mark.parametrize(
    "bad", [{"ground_truth": 5, "response": "5"}, VerifyRequest("1", "1", options=Options(llm_weight="x"))]
)
def test_stream_bad_item_raises_invalid_request(client: TinyVClient, bad) -> None:
    with pytest.raises(InvalidRequestError):
        list(client.stream(numbered(3) + [bad]))


def test_stream_deadline(client: TinyVClient) -> None:
    def slow():
        yield from numbered(2)
        time.sleep(2)
        yield from numbered(2)

    start = time.monotonic()
    with pytest.raises(DeadlineExceededError):
        list(client.stream(slow(), timeout=0.5))
    assert time.monotonic() - start < 5


# -- bad inputs ---------------------------------------------------------------


@pytest.mark.parametrize(
    "item, match",
    [
        ({"ground_truth": None, "response": "1"}, "ground_truth"),
        ({"ground_truth": "1"}, "missing"),
        ({"ground_truth": "1", "response": "1", "answer": "1"}, "unknown"),
        (("1", "1"), "VerifyRequest or a mapping"),
        (VerifyRequest("1", "1", options=Options(mode="fastest")), "unknown mode"),
        (VerifyRequest("1", "1", options=Options(llm_weight="heavy")), "llm_weight"),
        ({"ground_truth": "1", "response": "1", "options": {"weight": 1}}, "bad options"),
    ],
)
def test_bad_items_are_rejected_before_sending(client: TinyVClient, item, match: str) -> None:
    with pytest.raises(InvalidRequestError, match=match):
        client.verify_batch([item])


def test_bad_window_and_timeout(server: TinyVServer) -> None:
    with pytest.raises(InvalidRequestError):
        TinyVClient(server.target, timeout=0)
    with TinyVClient(server.target) as c, pytest.raises(InvalidRequestError):
        c.stream([], window=0)


def test_item_over_size_limit_is_an_item_error(client: TinyVClient) -> None:
    limit = client.get_server_info().limits.max_item_bytes
    verdict = client.verify("1", "1" * (limit + 1))
    assert verdict.error is not None and verdict.error.code == ErrorCode.TOO_LARGE


def test_llm_weight_out_of_range_is_an_item_error(client: TinyVClient) -> None:
    verdict = client.verify("1", r"\boxed{1}", options=Options(mode="addon", llm_weight=2.0))
    assert verdict.error is not None and verdict.error.code == ErrorCode.INVALID_ARGUMENT


def test_no_target_is_a_clear_error() -> None:
    with pytest.raises(InvalidRequestError, match="TINYV_URL"):
        TinyVClient()


def test_target_from_environment(server: TinyVServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TINYV_URL", f"grpc://{server.target}")
    with TinyVClient() as c:
        assert c.verify("1", "1").reward == 1.0


def test_short_timeout(client: TinyVClient) -> None:
    with pytest.raises(DeadlineExceededError):
        client.verify_batch(numbered(2000), timeout=0.001)


# -- connection ---------------------------------------------------------------


def test_closed_client_raises(server: TinyVServer) -> None:
    with TinyVClient(server.target) as c:
        assert c.verify("1", "1").ok
    with pytest.raises(TinyVError, match="closed"):
        c.verify("1", "1")


def test_several_targets_and_dns_names(server: TinyVServer) -> None:
    targets = [server.target, f"dns:///localhost:{server.port}", f"grpc://127.0.0.1:{server.port}"]
    with TinyVClient(targets) as c:
        assert [c.verify("1", r"\boxed{1}").reward for _ in range(6)] == [1.0] * 6
    with TinyVClient(",".join(targets[::2])) as c:
        assert c.verify("1", "1").ok


def test_dead_server_fails_fast() -> None:
    target = f"127.0.0.1:{free_port()}"
    with TinyVClient(target, retry=RetryPolicy(max_attempts=3)) as c:
        start = time.monotonic()
        with pytest.raises(UnavailableError, match="after 3 attempts"):
            c.verify("1", "1")
        with pytest.raises(UnavailableError):
            list(c.stream(numbered(10)))
    assert time.monotonic() - start < 10


def test_server_that_never_answers_hits_the_deadline() -> None:
    """A socket that accepts and says nothing (a hung host) must not hang the caller."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        target = f"127.0.0.1:{listener.getsockname()[1]}"
        with TinyVClient(target, timeout=1.0) as c:
            start = time.monotonic()
            with pytest.raises((DeadlineExceededError, UnavailableError)):
                c.verify("1", "1")
            assert time.monotonic() - start < 5


def test_auth_token(auth_server: TinyVServer) -> None:
    with TinyVClient(auth_server.target, token=AUTH_TOKEN) as c:
        assert c.verify("1", r"\boxed{1}").reward == 1.0
    with TinyVClient(auth_server.target) as c, pytest.raises(AuthenticationError):
        c.verify("1", "1")
    with TinyVClient(auth_server.target, token="wrong") as c, pytest.raises(AuthenticationError):
        list(c.stream(numbered(3)))


def test_auth_token_from_environment(auth_server: TinyVServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TINYV_TOKEN", AUTH_TOKEN)
    with TinyVClient(auth_server.target) as c:
        assert c.verify("1", "1").ok


def test_tls(tls_server: TinyVServer, tls_files: tuple) -> None:
    _, _, cert = tls_files
    with TinyVClient(f"localhost:{tls_server.port}", root_certificates=cert) as c:
        assert c.verify(HALF, r"\boxed{0.5}").reward == 1.0
    with TinyVClient(f"grpcs://localhost:{tls_server.port}", root_certificates=cert) as c:
        assert len(list(c.stream(numbered(20)))) == 20
    # An untrusted certificate is refused, promptly.
    with TinyVClient(f"grpcs://localhost:{tls_server.port}", retry=RetryPolicy(max_attempts=1)) as c:
        with pytest.raises(UnavailableError):
            c.verify("1", "1")


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM], ids=["kill", "term"])
def test_server_restart_mid_stream(restartable_server: TinyVServer, sig: int) -> None:
    """The server dies and comes back mid-run: every item is answered exactly once."""
    count = 4000
    policy = RetryPolicy(max_attempts=30, initial_backoff=0.05, max_backoff=0.5)
    with TinyVClient(restartable_server.target, retry=policy) as c:
        verdicts = []
        for verdict in c.stream(numbered(count), window=512):
            verdicts.append(verdict)
            if len(verdicts) == 1000:
                restartable_server.restart(sig)
        assert_numbered(verdicts, count)
        # Unary calls and batches work again too.
        assert c.verify("1", "1").ok


def test_unary_call_survives_restart(restartable_server: TinyVServer) -> None:
    policy = RetryPolicy(max_attempts=40, initial_backoff=0.05, max_backoff=0.5)
    with TinyVClient(restartable_server.target, retry=policy) as c:
        assert c.verify("1", "1").ok
        restartable_server.stop(signal.SIGKILL)
        threading.Timer(0.5, restartable_server.start).start()
        assert_numbered(c.verify_batch(numbered(10)), 10)
