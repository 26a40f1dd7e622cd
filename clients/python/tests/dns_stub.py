"""A DNS server on loopback for one name, whose A records a test can change.

Stands in for a Kubernetes headless Service (one A record per ready pod) so
that gRPC's `dns://127.0.0.1:PORT/name:port` resolver can be tested with
replicas coming and going. Answers A queries for its name with the current
addresses (TTL 0), everything else with an empty NOERROR. The wire format is
RFC 1035's; small enough that no library is needed.
"""

from __future__ import annotations

import socket
import struct
import threading
from typing import List, Sequence


class DnsStub:
    def __init__(self, name: str, addresses: Sequence[str]) -> None:
        self.name = name.rstrip(".").lower()
        self._addresses = list(addresses)
        self._lock = threading.Lock()
        self.queries = 0
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._sock.bind(("127.0.0.1", 0))
        self.port = self._sock.getsockname()[1]
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    @property
    def authority(self) -> str:
        return f"127.0.0.1:{self.port}"

    def set_addresses(self, addresses: Sequence[str]) -> None:
        with self._lock:
            self._addresses = list(addresses)

    def close(self) -> None:
        self._sock.close()

    def _serve(self) -> None:
        while True:
            try:
                query, peer = self._sock.recvfrom(512)
            except OSError:
                return
            try:
                self._sock.sendto(self._answer(query), peer)
            except (OSError, ValueError, struct.error):
                continue

    def _answer(self, query: bytes) -> bytes:
        (qid, _flags, qdcount) = struct.unpack(">HHH", query[:6])
        labels: List[str] = []
        i = 12
        while query[i] != 0:
            n = query[i]
            labels.append(query[i + 1 : i + 1 + n].decode("ascii", "replace"))
            i += 1 + n
        qtype, qclass = struct.unpack(">HH", query[i + 1 : i + 5])
        question = query[12 : i + 5]
        with self._lock:
            self.queries += 1
            addresses = list(self._addresses)
        ours = ".".join(labels).lower() == self.name
        records = addresses if ours and qtype == 1 and qclass == 1 else []
        rcode = 0 if ours else 3  # NXDOMAIN for other names
        header = struct.pack(">HHHHHH", qid, 0x8400 | rcode, min(qdcount, 1), len(records), 0, 0)
        answers = b"".join(
            struct.pack(">HHHIH", 0xC00C, 1, 1, 0, 4) + socket.inet_aton(addr) for addr in records
        )
        return header + question + answers
