import { APIConnectionTimeoutError, APIError } from "openai";
import type { FailureKind } from "./circuit.js";
import { HttpTimeout } from "./http1.js";

/** What a failed call says, for the verdict's detail, the retry loop and the circuit breaker. */
export interface CallFailure {
  detail: string;
  timeout: boolean;
  kind: FailureKind;
  status?: number;
  /** The request itself is at fault (a 4xx other than 408/429): retrying cannot help. */
  clientError: boolean;
  logprobsRefused: boolean;
  retryAfterMs?: number;
}

/** Read an error from a call to `url` (an SDK APIError, our HttpTimeout, a parse error). */
export function describeFailure(err: unknown, url: string, timeoutMs: number): CallFailure {
  const base = { timeout: false, clientError: false, logprobsRefused: false };
  if (err instanceof HttpTimeout || err instanceof APIConnectionTimeoutError) {
    const ms = err instanceof HttpTimeout ? err.ms : timeoutMs;
    return { ...base, timeout: true, kind: "failing", detail: `no reply within ${ms} ms from ${url}` };
  }
  if (err instanceof APIError && typeof err.status === "number") {
    const status = err.status;
    const msg = oneLine(err.message);
    // 401/403: say which setting fixes it, since the server's own text rarely does.
    const hint = status === 401 || status === 403 ? " (check --llm-api-key)" : "";
    const kind: FailureKind =
      status === 503 ? "loading" : status === 502 || status === 504 ? "down" : "failing";
    const f: CallFailure = { ...base, kind, status, detail: `HTTP ${status} from ${url}: ${msg}${hint}` };
    // 408 and 429 are the server asking to come back later; other 4xx are the request's fault.
    f.clientError = status >= 400 && status < 500 && status !== 408 && status !== 429;
    f.logprobsRefused = f.clientError && /logprob/i.test(msg);
    const ra = Number(err.headers?.get?.("retry-after"));
    if (Number.isFinite(ra) && ra > 0) f.retryAfterMs = ra * 1000;
    return f;
  }
  if (err instanceof APIError) {
    const cause = (err as { cause?: { message?: string; cause?: { code?: string } } }).cause;
    const why = cause?.cause?.code ?? cause?.message ?? err.message;
    return { ...base, kind: "down", detail: `connection to ${url} failed: ${oneLine(String(why))}` };
  }
  return {
    ...base,
    kind: "failing",
    detail: `bad reply from ${url}: ${oneLine((err as Error)?.message ?? String(err))}`,
  };
}

export function oneLine(s: string): string {
  const t = s.replace(/\s+/g, " ").trim();
  return t.length > 200 ? `${t.slice(0, 197)}...` : t;
}
