#!/usr/bin/env python3
"""Generate the protobuf and gRPC stubs of tinyv_client from ../../proto.

Usage:
    python scripts/gen.py            # write src/tinyv_client/_gen/
    python scripts/gen.py --check    # regenerate into a temp dir; exit 1 if the
                                     # committed stubs differ (stale or hand-edited)

The stubs are committed so that `pip install` needs no protoc. They are produced
with the pinned grpcio-tools below, so regeneration is byte-for-byte stable.

grpcio-tools writes the gRPC module with an absolute import
(`from tinyv.v1 import verifier_pb2`) that only works when `tinyv` is a top-level
package. We flatten the output into one private package and turn that one line
into a relative import; nothing else in the generated text is touched.
"""

from __future__ import annotations

import argparse
import difflib
import re
import shutil
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
PACKAGE_ROOT = HERE.parent
REPO_ROOT = PACKAGE_ROOT.parent.parent
PROTO_ROOT = REPO_ROOT / "proto"
PROTO_FILE = "tinyv/v1/verifier.proto"
GEN_DIR = PACKAGE_ROOT / "src" / "tinyv_client" / "_gen"

# Keep in step with the `test` extra of pyproject.toml. Older tools give wider
# runtime compatibility: the stubs require protobuf >= their gencode version and
# grpcio >= this version.
GRPCIO_TOOLS_VERSION = "1.71.2"

INIT_TEXT = '"""Stubs generated from proto/tinyv/v1/verifier.proto by scripts/gen.py. Do not edit."""\n'

_ABSOLUTE_IMPORT = re.compile(r"^from tinyv\.v1 import (verifier_pb2 as \w+)$", re.MULTILINE)


def _check_tools_version() -> None:
    try:
        from importlib.metadata import version
    except ImportError:  # pragma: no cover - Python < 3.8
        return
    found = version("grpcio-tools")
    if found != GRPCIO_TOOLS_VERSION:
        sys.exit(
            f"gen.py: grpcio-tools {found} is installed but the stubs are pinned to "
            f"{GRPCIO_TOOLS_VERSION}; run `pip install grpcio-tools=={GRPCIO_TOOLS_VERSION}`"
        )


def generate(out_dir: Path) -> None:
    """Write __init__.py, verifier_pb2.py(.pyi) and verifier_pb2_grpc.py into out_dir."""
    from grpc_tools import protoc  # imported late: only the generator needs it

    with tempfile.TemporaryDirectory() as raw:
        raw_dir = Path(raw)
        args = [
            "grpc_tools.protoc",
            f"-I{PROTO_ROOT}",
            f"--python_out={raw_dir}",
            f"--pyi_out={raw_dir}",
            f"--grpc_python_out={raw_dir}",
            PROTO_FILE,
        ]
        if protoc.main(args) != 0:
            sys.exit("gen.py: protoc failed")
        produced = raw_dir / "tinyv" / "v1"
        out_dir.mkdir(parents=True, exist_ok=True)
        for name in ("verifier_pb2.py", "verifier_pb2.pyi", "verifier_pb2_grpc.py"):
            text = (produced / name).read_text(encoding="utf-8")
            if name == "verifier_pb2_grpc.py":
                text, count = _ABSOLUTE_IMPORT.subn(r"from . import \1", text)
                if count != 1:
                    sys.exit("gen.py: could not find the import of verifier_pb2 to make relative")
            (out_dir / name).write_text(text, encoding="utf-8")
        (out_dir / "__init__.py").write_text(INIT_TEXT, encoding="utf-8")


def check() -> int:
    """Regenerate into a temp dir and diff against the committed stubs."""
    with tempfile.TemporaryDirectory() as tmp:
        fresh = Path(tmp) / "_gen"
        generate(fresh)
        stale = []
        names = sorted({p.name for p in fresh.iterdir()} | {p.name for p in GEN_DIR.glob("*.py*")})
        for name in names:
            want = (fresh / name).read_text(encoding="utf-8") if (fresh / name).exists() else ""
            have = (GEN_DIR / name).read_text(encoding="utf-8") if (GEN_DIR / name).exists() else ""
            if want != have:
                stale.append(name)
                diff = difflib.unified_diff(
                    have.splitlines(True), want.splitlines(True), f"committed/{name}", f"fresh/{name}"
                )
                sys.stdout.writelines(list(diff)[:40])
        if stale:
            print(f"gen.py --check: stale generated stubs: {', '.join(stale)}; run scripts/gen.py")
            return 1
    print("gen.py --check: generated stubs are fresh")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="verify the committed stubs are fresh")
    opts = parser.parse_args()
    _check_tools_version()
    if opts.check:
        return check()
    if GEN_DIR.exists():
        shutil.rmtree(GEN_DIR)
    generate(GEN_DIR)
    print(f"wrote {GEN_DIR.relative_to(PACKAGE_ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
