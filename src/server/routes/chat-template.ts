/**
 * Undo a chat template: find the question in a templated prompt (or a list of messages), and the model's
 * response in a prompt + response string decoded with its special tokens. Pure.
 *
 * The formats are the public chat formats of the model families trainers run today:
 * ChatML (Qwen, Yi: `<|im_start|>role\n...<|im_end|>`), Llama 3 (`<|start_header_id|>role<|end_header_id|>\n\n
 * ...<|eot_id|>`), Llama 2 / Mistral (`[INST] ... [/INST]`), Gemma (`<start_of_turn>role\n...<end_of_turn>`),
 * DeepSeek (`<｜User｜>...<｜Assistant｜>`), Phi-3 (`<|user|>\n...<|end|>`), and the bare end-of-text tokens
 * (`<|endoftext|>`, `</s>`, `<eos>`).
 */

/** A user turn: what opens it, and what may close it (the next turn's opener also closes it). */
const USER_TURNS: [open: string, close: string[]][] = [
  ["<|im_start|>user\n", ["<|im_end|>"]],
  ["<|start_header_id|>user<|end_header_id|>\n\n", ["<|eot_id|>"]],
  ["<start_of_turn>user\n", ["<end_of_turn>"]],
  ["<｜User｜>", ["<｜Assistant｜>"]],
  ["<|user|>\n", ["<|end|>"]],
  ["<|user|>", ["<|end|>", "<|assistant|>"]],
  ["[INST]", ["[/INST]"]],
];

/** What opens the model's turn: the response follows the last one. */
const ASSISTANT_OPENERS = [
  "<|im_start|>assistant\n",
  "<|start_header_id|>assistant<|end_header_id|>\n\n",
  "<start_of_turn>model\n",
  "<｜Assistant｜>",
  "<|assistant|>\n",
  "<|assistant|>",
  "[/INST]",
];

/** Special tokens that are never part of an answer. */
const SPECIAL_TOKENS = [
  "<|im_start|>",
  "<|im_end|>",
  "<|im_sep|>",
  "<|endoftext|>",
  "<|end_of_text|>",
  "<|begin_of_text|>",
  "<|eot_id|>",
  "<|eom_id|>",
  "<|start_header_id|>",
  "<|end_header_id|>",
  "<start_of_turn>",
  "<end_of_turn>",
  "<｜begin▁of▁sentence｜>",
  "<｜end▁of▁sentence｜>",
  "<｜User｜>",
  "<｜Assistant｜>",
  "<|user|>",
  "<|assistant|>",
  "<|system|>",
  "<|end|>",
  "<|pad|>",
  "<pad>",
  "<bos>",
  "<eos>",
  "<s>",
  "</s>",
  "[INST]",
  "[/INST]",
];

const SPECIAL = new RegExp(SPECIAL_TOKENS.map(escapeRegExp).join("|"), "g");

/** Remove every special token; trim. */
export function stripSpecialTokens(text: string): string {
  return text.replace(SPECIAL, "").trim();
}

/**
 * The response inside `query` (prompt + response, as OpenRLHF decodes it): what follows the prompt when the
 * query starts with it; else what follows the last assistant opener (a prompt truncated on the left, or
 * re-tokenized differently); else the whole query. Special tokens removed.
 */
export function responseFromQuery(query: string, prompt: string): string {
  if (prompt && query.startsWith(prompt)) return stripSpecialTokens(query.slice(prompt.length));
  const [, after] = lastOf(query, ASSISTANT_OPENERS);
  return stripSpecialTokens(after ?? query);
}

/** The question in a prompt: the last user turn of a chat-templated string, else the string itself. */
export function questionFromPrompt(prompt: string): string {
  let best: { at: number; text: string } | undefined;
  for (const [open, closes] of USER_TURNS) {
    const at = prompt.lastIndexOf(open);
    if (at < 0 || (best && at <= best.at)) continue;
    const rest = prompt.slice(at + open.length);
    const end = Math.min(
      ...closes.map((c) => indexOr(rest, c)),
      ...ASSISTANT_OPENERS.map((o) => indexOr(rest, o)),
    );
    best = { at, text: rest.slice(0, end) };
  }
  return stripSpecialTokens(dropLlama2System(best?.text ?? prompt));
}

/** A chat message as OpenAI, Hugging Face and the trainers write it: content a string or a list of parts. */
export interface Message {
  role?: unknown;
  content?: unknown;
}

/** The question in a list of messages: the text of the last user message. */
export function questionFromMessages(messages: readonly unknown[]): string {
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i] as Message | null;
    if (m && typeof m === "object" && m.role === "user") return stripSpecialTokens(contentText(m.content));
  }
  return "";
}

/** The text of a message content: a string, or the `text` of its parts (`text`, `input_text`, `output_text`). */
export function contentText(content: unknown): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  return content
    .map((part) => (part && typeof part === "object" && typeof part.text === "string" ? part.text : ""))
    .join("");
}

/** The question, whichever form the prompt takes. */
export function questionOf(prompt: unknown): string {
  if (typeof prompt === "string") return questionFromPrompt(prompt);
  if (Array.isArray(prompt)) return questionFromMessages(prompt);
  return "";
}

/** Llama 2's `<<SYS>> ... <</SYS>>` block, removed by index: a lazy regex would be quadratic on unclosed ones. */
function dropLlama2System(text: string): string {
  const start = text.indexOf("<<SYS>>");
  const end = start < 0 ? -1 : text.indexOf("<</SYS>>", start);
  return end < 0 ? text : text.slice(0, start) + text.slice(end + "<</SYS>>".length);
}

function lastOf(text: string, markers: string[]): [at: number, after: string | undefined] {
  let at = -1;
  let after: string | undefined;
  for (const m of markers) {
    const i = text.lastIndexOf(m);
    if (i > at) {
      at = i;
      after = text.slice(i + m.length);
    }
  }
  return [at, after];
}

function indexOr(text: string, needle: string): number {
  const i = text.indexOf(needle);
  return i < 0 ? text.length : i;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
