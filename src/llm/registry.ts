import { readFileSync } from "node:fs";

/**
 * A judge model's prompt, decoding settings and how to read its reply. The TinyV
 * models were fine-tuned on their template, so it is used verbatim.
 */
export interface ModelProfile {
  name: string;
  template: string;
  /** Optional system message sent before the prompt (none for the TinyV models). */
  system?: string;
  maxCompletionTokens: number;
  temperature: number;
  topP: number;
  thinking: boolean;
  /**
   * Markers the verdict follows, tried in order; the text after the last
   * occurrence of each one found is kept. Empty: the whole reply is the verdict.
   */
  answerAfter: string[];
  /** Words meaning "correct" / "wrong" as the first word of the verdict (case-insensitive). */
  trueWords: string[];
  falseWords: string[];
  /** Extra request fields, e.g. `{"chat_template_kwargs": {"enable_thinking": false}}`. */
  extraBody?: Record<string, unknown>;
}

export const DEFAULT_PROFILE = "zhangchenxu/TinyV-1.5B";

/**
 * The bundled registry lives outside src/ (at the package root, models/) so the
 * same relative path works from src/llm (vitest) and dist/llm (the build), and
 * tsc need not copy JSON.
 */
export const BUNDLED_REGISTRY = new URL("../../models/tinyv_models.json", import.meta.url);

const PLACEHOLDER = /\{\{(QUESTION|GROUND_TRUTH_ANSWER|MODEL_ANSWER)\}\}/g;

/** Load the bundled registry, then the user's file on top (same format; its entries win). */
export function loadRegistry(extraFile?: string): Map<string, ModelProfile> {
  const out = new Map<string, ModelProfile>();
  for (const [file, label] of [
    [BUNDLED_REGISTRY, "bundled registry"],
    ...(extraFile ? [[extraFile, extraFile] as const] : []),
  ] as const) {
    let data: unknown;
    try {
      data = JSON.parse(readFileSync(file, "utf8"));
    } catch (err) {
      throw new Error(`cannot read judge models from ${label}: ${(err as Error).message}`);
    }
    for (const p of parseRegistry(data, label)) out.set(p.name, p);
  }
  return out;
}

/** Validate a registry document: `{"models": {NAME: {template, max_completion_tokens, ...}}}`. */
export function parseRegistry(data: unknown, label: string): ModelProfile[] {
  const models = (data as { models?: unknown } | null)?.models;
  if (!isObject(models)) throw new Error(`${label}: expected {"models": {NAME: {...}}}`);
  return Object.entries(models).map(([name, raw]) => parseProfile(name, raw, `${label}: model "${name}"`));
}

function parseProfile(name: string, raw: unknown, where: string): ModelProfile {
  if (!isObject(raw)) throw new Error(`${where}: expected an object`);
  const template = raw.template;
  if (typeof template !== "string" || !template.includes("{{MODEL_ANSWER}}")) {
    throw new Error(`${where}: "template" must be a string containing {{MODEL_ANSWER}}`);
  }
  const num = (key: string, dflt: number, min: number, max: number) => {
    const v = raw[key] ?? dflt;
    if (typeof v !== "number" || !Number.isFinite(v) || v < min || v > max) {
      throw new Error(`${where}: "${key}" must be a number in [${min}, ${max}]`);
    }
    return v;
  };
  const words = (key: string, dflt: string[]) => {
    const v = raw[key] ?? dflt;
    if (!Array.isArray(v) || v.length === 0 || !v.every((w) => typeof w === "string" && /^\S+$/.test(w))) {
      throw new Error(`${where}: "${key}" must be a non-empty list of single words`);
    }
    return v as string[];
  };
  const thinking = raw.thinking ?? false;
  if (typeof thinking !== "boolean") throw new Error(`${where}: "thinking" must be true or false`);
  // Thinking models give their verdict after the reasoning: Qwen3 after </think>, the Qwen2.5 ones after "Answer:".
  const answerAfter = raw.answer_after ?? (thinking ? ["</think>", "Answer:"] : []);
  if (!Array.isArray(answerAfter) || !answerAfter.every((m) => typeof m === "string" && m.length > 0)) {
    throw new Error(`${where}: "answer_after" must be a list of marker strings`);
  }
  if (raw.system !== undefined && typeof raw.system !== "string")
    throw new Error(`${where}: "system" must be a string`);
  if (raw.extra_body !== undefined && !isObject(raw.extra_body)) {
    throw new Error(`${where}: "extra_body" must be an object`);
  }
  const profile: ModelProfile = {
    name,
    template,
    maxCompletionTokens: num("max_completion_tokens", 8, 1, 1 << 20),
    temperature: num("temperature", 0, 0, 2),
    topP: num("top_p", 1, 0, 1),
    thinking,
    answerAfter: answerAfter as string[],
    trueWords: words("true_words", ["True"]),
    falseWords: words("false_words", ["False"]),
  };
  if (typeof raw.system === "string") profile.system = raw.system;
  if (isObject(raw.extra_body)) profile.extraBody = raw.extra_body;
  const clash = profile.trueWords.find((t) =>
    profile.falseWords.some((f) => f.toLowerCase() === t.toLowerCase()),
  );
  if (clash) throw new Error(`${where}: "${clash}" is both a true and a false word`);
  return profile;
}

/**
 * Choose the profile: the explicit one, else the served model's name (exact, then
 * by its file or repository name, case-insensitive, without a `.gguf` extension or
 * a quantization tag, so "TinyV-1.5B", "/models/TinyV-1.5B" and
 * "TinyV-1.5B-Q8_0.gguf" all find "zhangchenxu/TinyV-1.5B"), else the default.
 * Throws rather than fall back when the served name looks like a thinking model:
 * the non-thinking default would cut its reasoning short (8 tokens) and read
 * every reply as UNPARSEABLE.
 */
export function pickProfile(
  registry: Map<string, ModelProfile>,
  explicit: string,
  served: string[],
): { profile: ModelProfile; how: "explicit" | "served" | "default" } {
  if (explicit) {
    const p = registry.get(explicit) ?? findByKey(registry, explicit);
    if (!p)
      throw new Error(
        `--llm-profile "${explicit}" is not in the registry (${[...registry.keys()].join(", ")})`,
      );
    return { profile: p, how: "explicit" };
  }
  for (const name of served) {
    const p = registry.get(name) ?? findByKey(registry, name);
    if (p) return { profile: p, how: "served" };
  }
  const thinking = served.find((n) => /think/i.test(modelKey(n)));
  if (thinking) {
    const like = [...registry.values()].filter((p) => p.thinking).map((p) => p.name);
    throw new Error(
      `LLM model "${thinking}" looks like a thinking model but matches no judge registry entry: set --llm-profile (${like.join(", ")}) or add it with --llm-models`,
    );
  }
  const p = registry.get(DEFAULT_PROFILE);
  if (!p) throw new Error(`the registry has no ${DEFAULT_PROFILE}`);
  return { profile: p, how: "default" };
}

/**
 * A model name as a key: its last path segment, lower case, without `.gguf` and
 * without trailing quantization or precision tags (`-Q8_0`, `.Q4_K_M`, `-IQ4_XS`, `-f16`, `-bf16`, `-AWQ`).
 */
export function modelKey(name: string): string {
  let key = (name.replace(/\/+$/, "").split("/").pop() ?? "").toLowerCase();
  if (key.endsWith(".gguf")) key = key.slice(0, -".gguf".length);
  // Tag by tag from the end, each the text after the last "-" or "." (anchored, so linear).
  const tag = /^(?:i?q\d[a-z0-9_]*|f16|f32|bf16|fp16|fp8|int4|int8|awq|gptq|gguf)$/;
  for (;;) {
    const cut = Math.max(key.lastIndexOf("-"), key.lastIndexOf("."));
    if (cut <= 0 || !tag.test(key.slice(cut + 1))) return key;
    key = key.slice(0, cut);
  }
}

function findByKey(registry: Map<string, ModelProfile>, name: string): ModelProfile | undefined {
  const want = modelKey(name);
  const hits = [...registry.values()].filter((p) => modelKey(p.name) === want);
  return hits.length === 1 ? hits[0] : undefined;
}

/** Longest question, gold and answer sent to the judge; longer ones are cut, and say so. */
export const PROMPT_FIELD_CHARS = { question: 8000, groundTruth: 4000, answer: 4000 };

/**
 * Fill the template in one pass, so an answer that itself contains
 * "{{QUESTION}}" is sent as written, not substituted again. The template is
 * sent verbatim (the models were trained on it); what is put into it cannot
 * close or open the template's own tags: an answer holding "</model_answer>"
 * would otherwise end its field and speak to the judge as the prompt ("... Return
 * True <model_answer>"), so such tags are written as &lt;/model_answer&gt;.
 */
export function renderPrompt(
  profile: ModelProfile,
  input: { question: string; groundTruth: string; answer: string },
): string {
  const tags = templateTags(profile.template);
  const field = (text: string, max: number) => neutralize(cut(text, max), tags);
  return profile.template.replace(PLACEHOLDER, (_, key: string) =>
    key === "QUESTION"
      ? field(input.question, PROMPT_FIELD_CHARS.question)
      : key === "GROUND_TRUTH_ANSWER"
        ? field(input.groundTruth, PROMPT_FIELD_CHARS.groundTruth)
        : field(input.answer, PROMPT_FIELD_CHARS.answer),
  );
}

/** The tag names the template uses (question, ground_truth_answer, model_answer). */
function templateTags(template: string): string[] {
  return [
    ...new Set([...template.matchAll(/<\/?([A-Za-z_][A-Za-z0-9_-]{0,40})>/g)].map((m) => m[1] as string)),
  ];
}

function neutralize(text: string, tags: string[]): string {
  if (tags.length === 0 || !text.includes("<")) return text;
  const names = tags.map((t) => t.replace(/[^A-Za-z0-9_-]/g, "")).join("|");
  // One character class before the name, so the pattern stays linear.
  const re = new RegExp(`<([\\s/]*)(${names})(\\s*)>`, "gi");
  return text.replace(re, (_m, pre: string, name: string, post: string) => `&lt;${pre}${name}${post}&gt;`);
}

function cut(text: string, max: number): string {
  return text.length <= max
    ? text
    : `${text.slice(0, max)} [... ${text.length - max} more characters not shown]`;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
