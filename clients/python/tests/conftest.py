"""Fixtures that run the real `tinyv serve` (Node) on free ports (tinyv_server.py)."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
from pathlib import Path
from typing import Iterator

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # fake_server, tinyv_server

from tinyv_server import TinyVServer, free_port, start_judge, started  # noqa: E402

__all__ = ["AUTH_TOKEN", "TinyVServer", "free_port", "started"]


@pytest.fixture(scope="session")
def server() -> Iterator[TinyVServer]:
    """A plain server shared by the whole session (rules only: no LLM configured)."""
    yield from started()


AUTH_TOKEN = "s3cret-token"


@pytest.fixture(scope="session")
def auth_server() -> Iterator[TinyVServer]:
    yield from started("--auth-token", AUTH_TOKEN)


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> tuple:
    """A self-signed certificate for localhost / 127.0.0.1: (key path, cert path, cert bytes)."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl is needed to make a test certificate")
    folder = tmp_path_factory.mktemp("tls")
    key, cert = folder / "key.pem", folder / "cert.pem"
    subprocess.run(
        [
            openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            "-keyout", str(key), "-out", str(cert), "-subj", "/CN=localhost",
            "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return key, cert, cert.read_bytes()


@pytest.fixture(scope="session")
def tls_server(tls_files: tuple) -> Iterator[TinyVServer]:
    key, cert, _ = tls_files
    yield from started("--tls-cert", str(cert), "--tls-key", str(key))


@pytest.fixture(scope="session")
def judge_url() -> Iterator[str]:
    """The vLLM stand-in (tests/judge_standin.ts): "right" answers are True, "fail" ones an HTTP 500."""
    proc, url = start_judge()
    try:
        yield url
    finally:
        proc.terminate()
        proc.wait(10)


@pytest.fixture(scope="session")
def llm_server(judge_url: str) -> Iterator[TinyVServer]:
    """A server in addon mode with the stand-in as its LLM verifier (no retries, no verdict cache)."""
    yield from started("--llm-url", judge_url, "--llm-retries", "0", "--cache-entries", "0")


@pytest.fixture
def restartable_server() -> Iterator[TinyVServer]:
    """A server of one's own, on fixed ports, that a test may kill and restart."""
    server = TinyVServer("--shutdown-grace-ms", "500", port=free_port(), http_port=free_port())
    server.start()
    try:
        yield server
    finally:
        server.stop(signal.SIGKILL)


@pytest.fixture
def client(server: TinyVServer):
    from tinyv_client import TinyVClient

    with TinyVClient(server.target, timeout=30) as c:
        yield c


@pytest.fixture(autouse=True)
def _no_tinyv_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests set TINYV_* themselves; the developer's environment must not leak in."""
    for name in ("TINYV_URL", "TINYV_TARGET", "TINYV_TOKEN", "TINYV_TIMEOUT", "TINYV_CA_CERT"):
        monkeypatch.delenv(name, raising=False)
