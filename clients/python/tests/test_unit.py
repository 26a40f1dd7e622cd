"""Client logic that needs no real server: parsing, enums, the stream ledger, and faults
injected by the in-process fake server (retries, dropped streams, reordering, round-robin)."""

from __future__ import annotations

import asyncio

import grpc
import pytest
from fake_server import FakeServer, Faults

from tinyv_client import (
    AsyncTinyVClient,
    AuthenticationError,
    DecidedBy,
    ErrorCode,
    LlmOutcome,
    Mode,
    ProtocolError,
    RetryPolicy,
    RuleOutcome,
    TinyVClient,
    UnavailableError,
    VerifyRequest,
)
from tinyv_client._config import Endpoint, parse_targets
from tinyv_client.errors import lost_in_transport
from tinyv_client._gen import verifier_pb2 as pb
from tinyv_client._ledger import StreamLedger
from tinyv_client.integrations._common import as_text
from tinyv_client.types import to_mode

FAST_RETRY = RetryPolicy(max_attempts=4, initial_backoff=0.01, max_backoff=0.05)


def items(count: int) -> list:
    return [VerifyRequest(str(i), f"\\boxed{{{i}}}", id=f"i{i}") for i in range(count)]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("localhost:50051", [Endpoint("localhost:50051")]),
        ("grpc://h:1/", [Endpoint("h:1", False)]),
        ("grpcs://h:443", [Endpoint("h:443", True)]),
        ("https://h:443/v1", [Endpoint("h:443", True)]),
        ("a:1, b:2", [Endpoint("a:1"), Endpoint("b:2")]),
        ("dns:///tinyv.svc:50051", [Endpoint("dns:///tinyv.svc:50051")]),
        ("ipv4:10.0.0.1:1,10.0.0.2:1", [Endpoint("ipv4:10.0.0.1:1,10.0.0.2:1")]),
        (["a:1", "grpcs://b:2"], [Endpoint("a:1"), Endpoint("b:2", True)]),
    ],
)
def test_parse_targets(text, expected) -> None:
    assert parse_targets(text) == expected


@pytest.mark.parametrize(
    "enum, prefix, proto_enum",
    [
        (Mode, "MODE_", pb.Mode),
        (DecidedBy, "DECIDED_BY_", pb.DecidedBy),
        (RuleOutcome, "RULE_OUTCOME_", pb.RuleOutcome),
        (LlmOutcome, "LLM_OUTCOME_", pb.LlmOutcome),
        (ErrorCode, "ERROR_CODE_", pb.ErrorCode),
    ],
)
def test_enums_match_the_proto(enum, prefix, proto_enum) -> None:
    assert {prefix + m.name: m.value for m in enum} == dict(proto_enum.items())


def test_verdict_fields_match_the_proto() -> None:
    from dataclasses import fields

    from tinyv_client import Verdict

    assert [f.name for f in fields(Verdict)] == [f.name for f in pb.Verdict.DESCRIPTOR.fields]


def test_to_mode_and_as_text() -> None:
    assert to_mode("addon") == to_mode("MODE_ADDON") == to_mode(1) == Mode.ADDON
    assert to_mode("rules-only") == Mode.RULES_ONLY
    assert (as_text(3), as_text(["x"]), as_text(None), as_text(0.5)) == ("3", "x", "", "0.5")


def test_ledger_orders_and_drops_duplicates() -> None:
    ledger = StreamLedger(ordered=True)
    sent = [ledger.register(VerifyRequest("1", "1", id="same")) for _ in range(3)]
    assert [m.id for m in sent] == ["0", "1", "2"]
    assert ledger.on_verdict(pb.Verdict(id="2")) == []
    ledger.begin_attempt()  # the connection dropped: the unanswered 0 and 1 are resent...
    assert [ledger.next_resend().id for _ in range(2)] == ["0", "1"]
    assert ledger.next_resend() is None
    assert [v.id for v in ledger.on_verdict(pb.Verdict(id="0"))] == ["same"]
    assert ledger.on_verdict(pb.Verdict(id="2")) == []  # ...and a late duplicate of 2 is dropped
    assert len(ledger.on_verdict(pb.Verdict(id="1"))) == 2
    with pytest.raises(ProtocolError):
        ledger.on_verdict(pb.Verdict(id="99"))


def test_ledger_forgets_callers_that_gave_up() -> None:
    ledger = StreamLedger(ordered=False)
    (a, _), (b, _) = (ledger.register_indexed(VerifyRequest("1", "1", id=x)) for x in "ab")
    ledger.forget(a)
    ledger.begin_attempt()
    assert ledger.next_resend().id == str(b) and ledger.next_resend() is None  # a is never resent
    assert ledger.take(pb.Verdict(id=str(a))) is None  # its late verdict is dropped
    index, verdict = ledger.take(pb.Verdict(id=str(b)))
    assert (index, verdict.id, ledger.unanswered) == (b, "b", 0)


def test_unary_retries_unavailable_then_succeeds() -> None:
    with FakeServer(Faults(unavailable_calls=3)) as server, TinyVClient(server.target, retry=FAST_RETRY) as c:
        assert c.verify("1", r"\boxed{1}").reward == 1.0


def test_unary_gives_up_after_max_attempts() -> None:
    with (
        FakeServer(Faults(unavailable_calls=10)) as server,
        TinyVClient(server.target, retry=FAST_RETRY) as c,
    ):
        with pytest.raises(UnavailableError, match="after 4 attempts"):
            c.verify_batch(items(3))


@pytest.mark.parametrize("ordered", [True, False])
def test_stream_survives_drop_and_reordering(ordered: bool) -> None:
    faults = Faults(drop_stream_after=300, shuffle_stream=True, unavailable_calls=0)
    with FakeServer(faults) as server, TinyVClient(server.target, retry=FAST_RETRY) as c:
        verdicts = list(c.stream(items(2000), ordered=ordered, window=128))
        ids = [v.id for v in verdicts]
        assert len(ids) == 2000 and set(ids) == {f"i{i}" for i in range(2000)}
        if ordered:
            assert ids == [f"i{i}" for i in range(2000)]
        assert server.servicer.stream_requests > 2000  # the unanswered ones were resent


async def test_async_stream_survives_drop() -> None:
    faults = Faults(drop_stream_after=100, shuffle_stream=True)
    with FakeServer(faults) as server:
        async with AsyncTinyVClient(server.target, retry=FAST_RETRY) as c:
            verdicts = [v async for v in c.stream(items(1000), window=64)]
            assert [v.id for v in verdicts] == [f"i{i}" for i in range(1000)]
            faults.unavailable_calls = 2
            assert (await c.verify("1", r"\boxed{1}")).ok


def test_round_robin_over_targets() -> None:
    with FakeServer() as a, FakeServer() as b:
        with TinyVClient([a.target, b.target]) as c:
            for _ in range(6):
                c.verify("1", "1")
        assert len(a.faults.seen_metadata) == len(b.faults.seen_metadata) == 3


def test_failover_to_a_live_target() -> None:
    from conftest import free_port

    with FakeServer() as live, TinyVClient([f"127.0.0.1:{free_port()}", live.target], retry=FAST_RETRY) as c:
        assert all(c.verify("1", "1").ok for _ in range(4))


def test_token_and_metadata_are_sent() -> None:
    with FakeServer(Faults(token="t0k")) as server:
        with TinyVClient(server.target, token="t0k", metadata=[("x-run", "exp-7")]) as c:
            assert c.verify("1", "1").ok
            assert len(list(c.stream(items(5)))) == 5
        assert server.faults.seen_metadata[-1]["x-run"] == "exp-7"
        with TinyVClient(server.target) as c, pytest.raises(AuthenticationError):
            c.get_server_info()


def test_tls_with_fake_server(tls_files: tuple) -> None:
    key, cert, cert_bytes = tls_files
    with FakeServer(tls=(key.read_bytes(), cert_bytes)) as server:
        with TinyVClient(f"grpcs://localhost:{server.port}", root_certificates=cert_bytes) as c:
            assert c.verify("1", "1").ok
        with TinyVClient(server.target, root_certificates=cert_bytes, tls_server_name="localhost") as c:
            assert c.verify("1", "1").ok


def test_async_client_from_sync_code() -> None:
    async def main():
        with FakeServer() as server:
            async with AsyncTinyVClient(server.target) as c:
                return await c.verify_batch(items(3))

    assert [v.reward for v in asyncio.run(main())] == [1.0, 1.0, 1.0]


def test_core_transport_internal_is_resent_but_server_internal_is_not() -> None:
    # grpc core reports a GOAWAY(INTERNAL_ERROR) under a live call as INTERNAL with its own words.
    assert lost_in_transport(grpc.StatusCode.INTERNAL, "Internal error from Core")
    assert lost_in_transport(grpc.StatusCode.INTERNAL, "Received RST_STREAM with error code 2")
    assert not lost_in_transport(grpc.StatusCode.INTERNAL, "rule worker crashed on item 3")
    assert not lost_in_transport(grpc.StatusCode.INVALID_ARGUMENT, "Internal error from Core")
