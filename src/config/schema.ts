import os from "node:os";
import { z } from "zod";

/**
 * Every setting of `tinyv`, once. The CLI flag (`--llm-url`), the environment
 * variable (`TINYV_LLM_URL`) and the config-file key (`llmUrl`) are derived from
 * the key, so the three can never drift apart.
 */
const split = (v: unknown) =>
  typeof v === "string"
    ? v
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean)
    : v;
const listOf = <T extends z.ZodType>(item: T) => z.preprocess(split, z.array(item));
const list = listOf(z.string().min(1));
const bool = z.preprocess(
  (v) => (v === "true" || v === "1" ? true : v === "false" || v === "0" ? false : v),
  z.boolean(),
);
const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const ms = z.coerce.number().positive().max(3_600_000);

export const MODES = ["addon", "llm_only", "rules_only", "mixed"] as const;
export type ModeName = (typeof MODES)[number];

export const settings = {
  host: {
    schema: z.string().min(1),
    default: "127.0.0.1",
    help: "address to bind (0.0.0.0 for all interfaces)",
  },
  port: { schema: int(0, 65535), default: 50051, help: "gRPC port (HTTP/2); 0 picks a free one" },
  httpPort: {
    schema: int(0, 65535),
    default: 8080,
    help: "HTTP port: Connect JSON, gRPC-Web, /metrics, /openrlhf; 0 picks a free one",
  },
  mode: {
    // "rules" and "llm" are accepted as the short names people type.
    schema: z.preprocess(
      (v) => (v === "rules" ? "rules_only" : v === "llm" ? "llm_only" : v),
      z.enum(MODES).optional(),
    ),
    default: undefined,
    help: "default mode: addon | llm_only (llm) | rules_only (rules) | mixed (addon with an LLM, else rules_only)",
  },
  llmWeight: {
    schema: z.coerce.number().min(0).max(1),
    default: 1,
    help: "weight of the LLM verdict in addon and mixed",
  },
  softReward: {
    schema: bool,
    default: false,
    help: "use the LLM's P(True) as the reward when logprobs are returned",
  },
  llmUrl: {
    schema: list,
    default: [] as string[],
    help: "OpenAI-compatible base URL(s) of the LLM verifier, e.g. http://127.0.0.1:8000/v1 (repeat or comma-separate)",
  },
  llmModel: { schema: z.string(), default: "", help: "served model name; default: read from /v1/models" },
  llmProfile: {
    schema: z.string(),
    default: "",
    help: "registry entry whose prompt and decoding to use (default: the served model's name, else zhangchenxu/TinyV-1.5B)",
  },
  llmModels: {
    schema: z.string(),
    default: "",
    help: "JSON file of extra judge models (same format as the bundled registry)",
  },
  llmApiKey: { schema: z.string(), default: "", help: "API key sent to the LLM backend (vLLM's --api-key)" },
  llmConcurrency: { schema: int(1, 4096), default: 64, help: "LLM calls in flight per backend" },
  llmTimeoutMs: { schema: ms, default: 30_000, help: "per-call LLM timeout" },
  llmRetries: {
    schema: int(0, 10),
    default: 2,
    help: "retries of a failed LLM call, with backoff and jitter",
  },
  llmReadyTimeoutMs: {
    schema: z.coerce.number().min(0).max(3_600_000),
    default: 60_000,
    help: "how long to wait at start for the LLM backend",
  },
  llmFailure: {
    schema: z.enum(["fallback", "fail"]),
    default: "fallback",
    help: "when the LLM fails: fallback (rule verdict, LLM outcome ERROR) or fail (item error LLM_FAILED)",
  },
  llmTailChars: {
    schema: int(0, 100_000),
    default: 0,
    help: "when no answer is extracted, send this many trailing chars of the response to the LLM (0: send nothing)",
  },
  restatedAnswers: {
    schema: z.enum(["reject", "accept"]),
    default: "reject",
    help: "an answer that copies an expression of the question back unevaluated (\\binom{10}{3} for 'Compute \\binom{10}{3}'): reject (a mismatch) or accept",
  },
  cacheEntries: {
    schema: int(0, 10_000_000),
    default: 100_000,
    help: "LLM verdict cache: most entries (0 disables)",
  },
  cacheBytes: {
    schema: int(0, 2 ** 40),
    default: 64 * 1024 * 1024,
    help: "LLM verdict cache: most bytes of keys",
  },
  workers: {
    schema: int(1, 256),
    default: Math.max(1, os.availableParallelism()),
    help: "rule verifier worker threads",
  },
  ruleBudgetMs: { schema: ms, default: 2_000, help: "per-item time budget of the rule verifier" },
  relTol: {
    schema: z.coerce.number().min(0).max(1),
    default: 1e-4,
    help: "relative tolerance for inexact numbers",
  },
  maxMessageBytes: {
    schema: int(1024, 1 << 30),
    default: 64 * 1024 * 1024,
    help: "largest gRPC/Connect message",
  },
  maxItemBytes: {
    schema: int(16, 1 << 30),
    default: 1024 * 1024,
    help: "largest question, ground truth or response per item",
  },
  maxBatchItems: { schema: int(1, 1_000_000), default: 65_536, help: "most items in one VerifyBatch" },
  streamWindowItems: {
    schema: int(1, 1_000_000),
    default: 512,
    help: "items one stream may hold (read, verdict not yet written) before reading pauses",
  },
  streamWindowBytes: {
    schema: int(1024, 2 ** 40),
    default: 16 * 1024 * 1024,
    help: "bytes of items and verdicts one stream may hold before reading pauses",
  },
  streamSharedBytes: {
    schema: int(1024, 2 ** 40),
    default: 512 * 1024 * 1024,
    help: "bytes all streams together may hold before reading pauses (each stream may always hold one item)",
  },
  streamStallMs: {
    schema: ms,
    default: 60_000,
    help: "a stream whose client reads no verdict for this long, while verdicts wait, is closed (RESOURCE_EXHAUSTED)",
  },
  maxStreams: {
    schema: int(1, 1_000_000),
    default: 4096,
    help: "most VerifyStream calls open at once; more get RESOURCE_EXHAUSTED",
  },
  maxStreamsPerConnection: {
    schema: int(1, 1_000_000),
    default: 1024,
    help: "most VerifyStream calls open at once on one client connection",
  },
  keepaliveMs: {
    schema: ms,
    default: 30_000,
    help: "HTTP/2 keepalive ping interval on the gRPC port (a peer that stops answering is dropped)",
  },
  keepaliveTimeoutMs: { schema: ms, default: 10_000, help: "how long a keepalive ping may go unanswered" },
  idleTimeoutMs: {
    schema: ms,
    default: 300_000,
    help: "a client connection with no call open for this long is closed (clients reconnect by themselves)",
  },
  tlsCert: { schema: z.string(), default: "", help: "PEM certificate file: serve TLS instead of plaintext" },
  tlsKey: { schema: z.string(), default: "", help: "PEM private key file for --tls-cert" },
  authToken: {
    schema: z.string(),
    default: "",
    help: "require 'authorization: Bearer TOKEN' on every call but health checks (grpc.health.v1, /healthz)",
  },
  authOpen: {
    schema: listOf(z.enum(["metrics", "reflection"])),
    default: [] as ("metrics" | "reflection")[],
    help: "with --auth-token, serve these without the token on purpose: metrics, reflection (comma-separated)",
  },
  maxConnectionAgeMs: {
    schema: int(0, 2_000_000_000),
    default: 0,
    help: "close each gRPC connection (GOAWAY) after about this long, so clients reconnect and reach new replicas (0: never)",
  },
  maxConnectionAgeGraceMs: {
    schema: int(0, 2_000_000_000),
    default: 0,
    help: "after that GOAWAY, how long open streams may run before the connection is cut (0: until they end)",
  },
  shutdownGraceMs: {
    schema: ms,
    default: 30_000,
    help: "on SIGTERM, how long in-flight items may take before the server stops anyway",
  },
  logLevel: {
    schema: z.enum(["error", "warn", "info", "debug"]),
    default: "info",
    help: "log verbosity (logs go to stderr)",
  },
} as const;

export type SettingKey = keyof typeof settings;
type Schemas = { [K in SettingKey]: (typeof settings)[K]["schema"] };
export type Config = { [K in SettingKey]: z.output<Schemas[K]> };

export const flagName = (key: string) => key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
export const envName = (key: string) => `TINYV_${key.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;
