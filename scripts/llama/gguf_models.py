"""Write the tiny Qwen2-architecture GGUF judges the llama.cpp tests serve (no Hub, no download).

    python gguf_models.py OUT_DIR    # writes true.gguf, false.gguf, think.gguf, random.gguf, tokens.json

The vocabulary is byte-level BPE as Qwen2's (the 256 byte tokens, GPT-2's byte-to-unicode mapping),
plus the few whole tokens the judges answer with (" True", " False", "<think>", "</think>") and
ChatML's special tokens, so llama.cpp tokenizes any prompt (one token a byte) and renders the answer.

The deterministic judges are a chain on the last token: every weight of the one layer is zero, so the
hidden state is the current token's embedding; each token's embedding is one-hot on its "state"; the
output head maps a state to the logits of the token that follows. So greedy decoding of any prompt
yields the chain below, and the runner-up at the verdict is the other side, with known logits:
- true:   <any> -> " True" (" False" second) -> <|im_end|>
- false:  <any> -> " False" (" True" second) -> <|im_end|>
- think:  <any> -> "<think>" -> "x" -> "</think>" -> " True" (" False" second) -> <|im_end|>
- random: seeded random weights; the verdict words are masked out of its output, so its replies never
  read as True or False (llama.cpp's answer is then UNPARSEABLE for tinyv).
Format: llama.cpp's GGUF (gguf-py, the package llama.cpp publishes on PyPI as `gguf`).
"""

import json
import sys
from pathlib import Path

import gguf
import numpy as np

N_EMBD = 64
N_HEAD = 2
N_FF = 64
N_CTX = 8192
# Logits at the verdict: the answer and its runner-up; every other token is 0.
WIN, RUNNER_UP = 12.0, 10.0

CHATML = (
    "{%- for message in messages %}"
    "{{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}"
)
# The thinking judge's template writes an assistant turn's reasoning between <think> tags, as Qwen3's
# does: llama.cpp reads the markers from the template and can split the reasoning out of the reply.
CHATML_THINK = (
    "{%- for message in messages %}"
    "{{- '<|im_start|>' + message['role'] + '\\n' }}"
    "{%- if message['role'] == 'assistant' and message.get('reasoning_content') %}"
    "{{- '<think>' + message['reasoning_content'] + '</think>' }}"
    "{%- endif %}"
    "{{- message['content'] + '<|im_end|>' + '\\n' }}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}"
)


def byte_tokens() -> list[str]:
    """GPT-2's reversible byte-to-unicode mapping: printable bytes stand for themselves, the rest move to 256+."""
    keep = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAC + 1)) + list(range(0xAE, 0xFF + 1))
    chars = {}
    shift = 0
    for b in range(256):
        if b in keep:
            chars[b] = chr(b)
        else:
            chars[b] = chr(256 + shift)
            shift += 1
    return [chars[b] for b in range(256)]


BYTES = byte_tokens()
SPACE = BYTES[ord(" ")]
WORDS = [SPACE + "True", SPACE + "False", "True", "False", "<think>", "</think>", SPACE + SPACE]
SPECIAL = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
TOKENS = BYTES + WORDS + SPECIAL
ID = {t: i for i, t in enumerate(TOKENS)}


def tok(text: str) -> int:
    """The id of a word token (" True") or a one-byte token ("x")."""
    key = text.replace(" ", SPACE)
    return ID[key] if key in ID else ID[BYTES[text.encode()[0]]]


def chain(kind: str) -> dict:
    """state token -> (next token, runner-up or None); None as the state is every other token."""
    yes, no, end = tok(" True"), tok(" False"), ID["<|im_end|>"]
    if kind == "true":
        return {None: (yes, no), yes: (end, None)}
    if kind == "false":
        return {None: (no, yes), no: (end, None)}
    if kind == "think":
        return {
            None: (tok("<think>"), None),
            tok("<think>"): (tok("x"), None),
            tok("x"): (tok("</think>"), None),
            tok("</think>"): (yes, no),
            yes: (end, None),
        }
    raise ValueError(kind)


def weights(kind: str) -> dict:
    n_vocab = len(TOKENS)
    zeros = lambda *shape: np.zeros(shape, dtype=np.float32)  # noqa: E731
    t = {
        "token_embd.weight": zeros(n_vocab, N_EMBD),
        "output_norm.weight": np.ones(N_EMBD, dtype=np.float32),
        "output.weight": zeros(n_vocab, N_EMBD),
        "output.bias": zeros(n_vocab),
        "blk.0.attn_norm.weight": np.ones(N_EMBD, dtype=np.float32),
        "blk.0.ffn_norm.weight": np.ones(N_EMBD, dtype=np.float32),
    }
    for name in ("attn_q", "attn_k", "attn_v", "attn_output"):
        t[f"blk.0.{name}.weight"] = zeros(N_EMBD, N_EMBD)
    for name in ("attn_q", "attn_k", "attn_v"):
        t[f"blk.0.{name}.bias"] = zeros(N_EMBD)
    t["blk.0.ffn_gate.weight"] = zeros(N_FF, N_EMBD)
    t["blk.0.ffn_up.weight"] = zeros(N_FF, N_EMBD)
    t["blk.0.ffn_down.weight"] = zeros(N_EMBD, N_FF)

    if kind == "random":
        rng = np.random.default_rng(20250514)
        for name, a in t.items():
            if name.endswith("norm.weight"):
                continue
            a[...] = rng.normal(0, 0.5, a.shape).astype(np.float32)
        # Never a whole verdict word: its replies are garbage, not a verdict.
        for w in WORDS[:4]:
            t["output.bias"][ID[w]] = -100.0
        return t

    # RMSNorm turns a one-hot embedding into sqrt(N_EMBD) at its index: scale the head by that.
    scale = 1.0 / np.sqrt(N_EMBD)
    for state, (token, (win, runner)) in enumerate(chain(kind).items()):
        if token is None:
            t["token_embd.weight"][:, state] = 1.0  # every token starts in the default state...
        else:
            t["token_embd.weight"][token, :] = 0.0  # ...but the chain's own tokens have theirs
            t["token_embd.weight"][token, state] = 1.0
        t["output.weight"][win, state] = WIN * scale
        if runner is not None:
            t["output.weight"][runner, state] = RUNNER_UP * scale
    return t


def write(kind: str, path: Path) -> None:
    w = gguf.GGUFWriter(str(path), "qwen2")
    w.add_name(f"tinyv-test-{kind}")
    w.add_context_length(N_CTX)
    w.add_embedding_length(N_EMBD)
    w.add_feed_forward_length(N_FF)
    w.add_block_count(1)
    w.add_head_count(N_HEAD)
    w.add_head_count_kv(N_HEAD)
    w.add_rope_freq_base(1_000_000.0)
    w.add_layer_norm_rms_eps(1e-6)
    w.add_file_type(gguf.LlamaFileType.ALL_F32)
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre("qwen2")
    w.add_token_list(TOKENS)
    types = [gguf.TokenType.NORMAL] * len(BYTES) + [gguf.TokenType.NORMAL] * 4
    types += [gguf.TokenType.USER_DEFINED] * 2 + [gguf.TokenType.NORMAL]
    types += [gguf.TokenType.CONTROL] * len(SPECIAL)
    w.add_token_types(types)
    w.add_token_merges([f"{SPACE} {SPACE}"])
    w.add_bos_token_id(ID["<|endoftext|>"])
    w.add_eos_token_id(ID["<|im_end|>"])
    w.add_pad_token_id(ID["<|endoftext|>"])
    w.add_add_bos_token(False)
    w.add_chat_template(CHATML_THINK if kind == "think" else CHATML)
    for name, a in weights(kind).items():
        w.add_tensor(name, a)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def main() -> None:
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    for kind in ("true", "false", "think", "random"):
        write(kind, out / f"{kind}.gguf")
    # The verdict tokens' ids, for a test's logit_bias.
    (out / "tokens.json").write_text(json.dumps({w: tok(w) for w in (" True", " False")}))


if __name__ == "__main__":
    main()
