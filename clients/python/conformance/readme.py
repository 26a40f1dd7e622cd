"""The configuration the READMEs tell users to copy, read back so the tests run exactly that.

clients/python/README.md marks each such block with `<!-- conformance:NAME -->` just before it;
overrides() returns that block's `key=value` lines (the command and `...` lines dropped).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import List

README = Path(__file__).resolve().parents[1] / "README.md"


def block(name: str) -> str:
    text = README.read_text()
    marker = f"<!-- conformance:{name} -->"
    if marker not in text:
        raise AssertionError(f"{README} has no {marker}")
    after = text.split(marker, 1)[1]
    match = re.search(r"```[a-z]*\n(.*?)```", after, re.DOTALL)
    assert match is not None, f"no code block after {marker}"
    return match.group(1)


def overrides(name: str, **values: str) -> List[str]:
    """The block's Hydra overrides, with `localhost:50051` and the like replaced from values."""
    out = []
    for line in block(name).splitlines():
        token = line.strip().rstrip("\\").strip()
        if "=" in token and not token.startswith(("#", "python", "TINYV", "...")):
            for old, new in values.items():
                token = token.replace(old, new)
            out.append(token)
    return out
