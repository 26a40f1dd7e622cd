"""Bookkeeping of one VerifyStream run, shared by the sync and asyncio clients.

The server answers stream items in any order and a connection can drop mid-run.
The ledger gives every item a wire id of its own (its input position), remembers
what is unanswered so a new stream can resend exactly that, drops duplicate
verdicts (an item answered just before the old stream broke and again after the
resend), restores each caller's id, and releases verdicts in input order when
asked to. It does no I/O and no waiting: the clients add those.

The coalescer (_coalesce.py) uses one ledger per long-lived stream, unordered:
its items come from many callers (register_indexed, take), a caller that gives
up is forgotten (forget), and an item is queued for sending with requeue.
"""

from __future__ import annotations

from collections import deque
from dataclasses import replace
from typing import Deque, Dict, List, Optional, Tuple

from ._convert import RequestLike, coerce_request, coerced_to_proto, verdict_from_proto
from ._gen import verifier_pb2 as pb
from .errors import ProtocolError
from .types import Options, Verdict


class StreamLedger:
    def __init__(self, ordered: bool, options: Optional[Options] = None) -> None:
        self.ordered = ordered
        self._options = options
        self._count = 0
        # wire index -> (caller's id, message); unanswered items only.
        self._pending: Dict[int, Tuple[str, pb.VerifyRequest]] = {}
        self._resend: Deque[int] = deque()
        # Answered but held back until the items before them are answered.
        self._held: Dict[int, Verdict] = {}
        self._next_out = 0
        self.exhausted = False

    @property
    def outstanding(self) -> int:
        """Items taken from the input and not yet handed to the caller (for flow control)."""
        return len(self._pending) + len(self._held)

    @property
    def done(self) -> bool:
        return self.exhausted and not self._pending and not self._held

    @property
    def unanswered(self) -> int:
        return len(self._pending)

    def register(self, item: RequestLike) -> pb.VerifyRequest:
        """Record a new input item and return its wire message."""
        return self.register_indexed(item)[1]

    def register_indexed(self, item: RequestLike) -> Tuple[int, pb.VerifyRequest]:
        """Record a new input item; return its wire index and message."""
        request = coerce_request(item)
        if self._options is not None and request.options is None:
            request = replace(request, options=self._options)
        index = self._count
        message = coerced_to_proto(request, wire_id=str(index))
        self._pending[index] = (request.id, message)
        self._count += 1
        return index, message

    def forget(self, index: int) -> None:
        """Its caller gave up (deadline, cancellation): never resend it; a late verdict is dropped."""
        self._pending.pop(index, None)

    def forget_all(self) -> List[int]:
        """Drop every unanswered item (the stream gave up); return their indexes."""
        indexes = list(self._pending)
        self._pending.clear()
        self._resend.clear()
        return indexes

    def begin_attempt(self) -> None:
        """A new stream starts: every unanswered item must be sent again, in input order."""
        self._resend = deque(sorted(self._pending))

    def requeue(self, message: pb.VerifyRequest) -> None:
        """An item was registered but its stream died before it was sent."""
        self._resend.append(int(message.id))

    def next_resend(self) -> Optional[pb.VerifyRequest]:
        while self._resend:
            index = self._resend.popleft()
            entry = self._pending.get(index)
            if entry is not None:  # answered meanwhile: nothing to resend
                return entry[1]
        return None

    def take(self, message: pb.Verdict) -> Optional[Tuple[int, Verdict]]:
        """Record one reply: its wire index and verdict, or None for a duplicate (or forgotten) item."""
        try:
            index = int(message.id)
        except ValueError:
            raise ProtocolError(f"server sent a verdict for unknown id {message.id!r}") from None
        entry = self._pending.pop(index, None)
        if entry is None:
            if 0 <= index < self._count:
                return None  # a duplicate after a resend, or an item its caller gave up on
            raise ProtocolError(f"server sent a verdict for unknown id {message.id!r}")
        return index, verdict_from_proto(message, id_override=entry[0])

    def on_verdict(self, message: pb.Verdict) -> List[Verdict]:
        """Record one reply; return the verdicts now ready for the caller."""
        taken = self.take(message)
        if taken is None:
            return []
        index, verdict = taken
        if not self.ordered:
            return [verdict]
        self._held[index] = verdict
        ready = []
        while self._next_out in self._held:
            ready.append(self._held.pop(self._next_out))
            self._next_out += 1
        return ready
