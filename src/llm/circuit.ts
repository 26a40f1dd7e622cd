/** Consecutive failures that open a circuit. */
export const TRIP_AFTER = 5;
const COOLDOWN_MIN_MS = 1_000;
const COOLDOWN_MAX_MS = 30_000;
/** How old a check of an open backend may be before a waiting call asks again. */
export const RECHECK_MS = 250;

/**
 * How a call failed, which says what to expect of the backend:
 * - `down`: no HTTP answer (refused, reset, closed early, a proxy's 502/504): it may be restarting;
 *   a check of /models that starts answering again is the sign it is back.
 * - `loading`: HTTP 503 (llama.cpp's "Loading model", a server warming up): it is known to be coming
 *   back, so calls wait for it (bounded) rather than fail.
 * - `failing`: it answered, wrongly (500, a broken reply) or not in time: only a real call after the
 *   cooldown can tell it has recovered.
 */
export type FailureKind = "down" | "loading" | "failing";

export interface Failure {
  detail: string;
  timeout: boolean;
  kind: FailureKind;
  /** When it happened (ms since the epoch). */
  at: number;
}

/**
 * A backend's circuit breaker, pure (time is an argument). After TRIP_AFTER
 * failures in a row it opens: no calls for a cooldown that doubles (1 s to 30 s)
 * while probes keep failing. Then it is half-open: one call goes through as the
 * probe, and its success closes it. A check of /models that answers again after
 * not answering ends the cooldown at once (a restarted or reloaded server).
 */
export class Circuit {
  probing = false;
  last: Failure | undefined;
  checkedAt = Number.NEGATIVE_INFINITY;
  /** When it last tripped open. */
  openedAt = 0;
  private failures = 0;
  private openUntil = 0;
  private cooldown = COOLDOWN_MIN_MS;
  private lastCheckOk = true;

  closed(): boolean {
    return this.failures < TRIP_AFTER;
  }

  /** Closed, or half-open with no probe out: a call may go now. */
  available(now: number): boolean {
    return this.closed() || (now >= this.openUntil && !this.probing);
  }

  /** A call takes a slot; on an open circuit it is the probe. */
  take(): void {
    if (!this.closed()) this.probing = true;
  }

  succeeded(): void {
    this.failures = 0;
    this.cooldown = COOLDOWN_MIN_MS;
    this.probing = false;
    this.last = undefined;
    this.lastCheckOk = true;
  }

  /** Returns true when this failure opened (or re-opened) the circuit. */
  failed(f: Failure): boolean {
    this.last = f;
    this.failures++;
    const wasProbe = this.probing;
    this.probing = false;
    if (this.failures < TRIP_AFTER) return false;
    if (this.failures === TRIP_AFTER) {
      // Whatever a check said before, the failures since say it is not answering now.
      this.lastCheckOk = false;
      this.openedAt = f.at;
    } else if (!wasProbe) {
      return false;
    }
    this.openUntil = f.at + this.cooldown;
    if (wasProbe) this.cooldown = Math.min(this.cooldown * 2, COOLDOWN_MAX_MS);
    return true;
  }

  /** A probe that ended without a verdict either way (its caller gave up, or a 429): let another go. */
  abandonProbe(): void {
    this.probing = false;
  }

  /** Whether a waiting call should check /models before it is failed: open, not `failing`, last check stale. */
  wantsCheck(now: number): boolean {
    return !this.closed() && this.last?.kind !== "failing" && now - this.checkedAt >= RECHECK_MS;
  }

  /** The answer of a check of /models: `failure` when it did not answer 200. */
  checked(failure: Failure | undefined, now: number): void {
    this.checkedAt = now;
    if (this.closed()) return;
    if (failure) {
      // A fresh reason, so no caller is told of an older one.
      this.last = failure;
    } else if (!this.lastCheckOk) {
      // It answers again: let the next call probe it now rather than at the end of the cooldown.
      this.openUntil = Math.min(this.openUntil, now);
    }
    this.lastCheckOk = !failure;
  }

  retryInMs(now: number): number {
    return Math.max(0, this.openUntil - now);
  }

  /** When an open circuit next changes by itself (its cooldown ends). */
  opensAt(): number {
    return this.openUntil;
  }
}
