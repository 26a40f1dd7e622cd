"""An in-process stand-in for tinyv serve, for faults the real server cannot be made to show.

It answers with a toy rule (the text in the last \\boxed{} equals the ground
truth) and can fail the first calls with UNAVAILABLE, drop a stream after N
verdicts, answer stream items out of order, hold back the verdicts of stream
items whose response contains "HOLD" until released, or demand a bearer token. Tests of
real verification semantics use the real server (conftest.py); this one checks
the client's retry, reconnect, ordering and auth logic deterministically.
"""

from __future__ import annotations

import queue
import random
import re
import threading
from concurrent import futures
from dataclasses import dataclass, field
from typing import Iterator, List, Optional

import grpc

from tinyv_client._gen import verifier_pb2 as pb
from tinyv_client._gen import verifier_pb2_grpc as pb_grpc

_BOXED = re.compile(r"\\boxed\{([^{}]*)\}")


def toy_verdict(request: pb.VerifyRequest) -> pb.Verdict:
    if not request.ground_truth:
        return pb.Verdict(
            id=request.id,
            error=pb.ItemError(code=pb.ERROR_CODE_INVALID_ARGUMENT, message="ground_truth is empty"),
        )
    found = _BOXED.findall(request.response)
    answer = found[-1] if found else request.response.strip()
    correct = answer == request.ground_truth
    return pb.Verdict(
        id=request.id,
        reward=1.0 if correct else 0.0,
        correct=correct,
        decided_by=pb.DECIDED_BY_RULES,
        extracted_answer=answer,
        rule_outcome=pb.RULE_OUTCOME_MATCH if correct else pb.RULE_OUTCOME_MISMATCH,
        llm_outcome=pb.LLM_OUTCOME_NOT_ASKED,
        mode=request.options.mode or pb.MODE_RULES_ONLY,
    )


@dataclass
class Faults:
    """What the fake server should do wrong; counters are shared across calls."""

    unavailable_calls: int = 0  # fail this many calls (any method) with UNAVAILABLE
    drop_stream_after: Optional[int] = None  # abort the first stream after N verdicts
    shuffle_stream: bool = False  # answer stream items out of order
    token: Optional[str] = None  # require "authorization: Bearer <token>"
    release: Optional[threading.Event] = None  # if given: "HOLD" items wait until it is set
    seen_metadata: List[dict] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def take_unavailable(self) -> bool:
        with self.lock:
            if self.unavailable_calls > 0:
                self.unavailable_calls -= 1
                return True
            return False


class FakeVerifier(pb_grpc.VerifierServiceServicer):
    def __init__(self, faults: Faults) -> None:
        self.faults = faults
        self.stream_requests = 0  # items received over streams, resends included
        self.stream_ids: List[str] = []  # their wire ids, in arrival order
        self.streams = 0  # VerifyStream calls

    def _admit(self, context: grpc.ServicerContext) -> None:
        metadata = dict(context.invocation_metadata())
        self.faults.seen_metadata.append(metadata)
        if self.faults.take_unavailable():
            context.abort(grpc.StatusCode.UNAVAILABLE, "fake: try again")
        token = self.faults.token
        if token is not None and metadata.get("authorization") != f"Bearer {token}":
            context.abort(grpc.StatusCode.UNAUTHENTICATED, "fake: bad token")

    def Verify(self, request, context):
        self._admit(context)
        return toy_verdict(request)

    def VerifyBatch(self, request, context):
        self._admit(context)
        return pb.VerifyBatchResponse(verdicts=[toy_verdict(item) for item in request.items])

    def GetServerInfo(self, request, context):
        self._admit(context)
        return pb.ServerInfo(version="0.0.0-fake", default_mode=pb.MODE_RULES_ONLY, rule_workers=1)

    def VerifyStream(self, request_iterator, context) -> Iterator[pb.Verdict]:
        self._admit(context)
        self.streams += 1
        if self.faults.release is not None and not self.faults.release.is_set():
            yield from self._stream_holding(request_iterator, context)
            return
        drop_after = None
        with self.faults.lock:
            if self.faults.drop_stream_after is not None:
                drop_after, self.faults.drop_stream_after = self.faults.drop_stream_after, None
        sent = 0
        batch: List[pb.Verdict] = []
        for request in request_iterator:
            self.stream_requests += 1
            self.stream_ids.append(request.id)
            batch.append(toy_verdict(request))
            if self.faults.shuffle_stream and len(batch) < 7:
                continue
            random.shuffle(batch)
            for verdict in batch:
                if drop_after is not None and sent >= drop_after:
                    context.abort(grpc.StatusCode.UNAVAILABLE, "fake: connection dropped")
                sent += 1
                yield verdict
            batch = []
        random.shuffle(batch)
        yield from batch

    def _stream_holding(self, request_iterator, context) -> Iterator[pb.Verdict]:
        """Answer at once, except "HOLD" items: those wait for faults.release."""
        release = self.faults.release
        assert release is not None
        arrived: "queue.Queue[Optional[pb.VerifyRequest]]" = queue.Queue()

        def read() -> None:
            try:
                for request in request_iterator:
                    self.stream_requests += 1
                    self.stream_ids.append(request.id)
                    arrived.put(request)
            except Exception:
                pass
            arrived.put(None)

        threading.Thread(target=read, daemon=True).start()
        held: List[pb.VerifyRequest] = []
        while context.is_active():
            if held and release.is_set():
                yield from (toy_verdict(r) for r in held)
                held = []
            try:
                request = arrived.get(timeout=0.02)
            except queue.Empty:
                continue
            if request is None:
                break
            if "HOLD" in request.response and not release.is_set():
                held.append(request)
            else:
                yield toy_verdict(request)
        while held and context.is_active() and not release.wait(0.02):
            pass
        yield from (toy_verdict(r) for r in held)


class FakeServer:
    """A grpc.server on a free loopback port, optionally with TLS."""

    def __init__(self, faults: Optional[Faults] = None, tls: Optional[tuple] = None) -> None:
        self.faults = faults or Faults()
        self.servicer = FakeVerifier(self.faults)
        self.server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
        pb_grpc.add_VerifierServiceServicer_to_server(self.servicer, self.server)
        if tls is None:
            self.port = self.server.add_insecure_port("127.0.0.1:0")
        else:
            key, cert = tls
            creds = grpc.ssl_server_credentials([(key, cert)])
            self.port = self.server.add_secure_port("127.0.0.1:0", creds)
        self.target = f"127.0.0.1:{self.port}"

    def __enter__(self) -> "FakeServer":
        self.server.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.server.stop(grace=None)
