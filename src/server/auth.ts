import { createHash, timingSafeEqual } from "node:crypto";

/** What may be opened to callers without the token, on purpose (`--auth-open`). */
export type OpenPart = "metrics" | "reflection";

/**
 * Bearer-token auth shared by both ports. With a token set, everything needs it
 * except health (`grpc.health.v1`, `/healthz`: probes carry no secrets) and the
 * parts opened on purpose. Tokens are compared in constant time (as digests, so
 * the length is not leaked either).
 */
export class Auth {
  private readonly digest: Buffer | undefined;

  constructor(
    token: string,
    private readonly open: readonly string[] = [],
  ) {
    this.digest = token ? sha256(`Bearer ${token}`) : undefined;
  }

  get enabled(): boolean {
    return this.digest !== undefined;
  }

  /** Whether an `authorization` header value lets the caller in. */
  allows(header: string | undefined): boolean {
    if (!this.digest) return true;
    if (typeof header !== "string") return false;
    return timingSafeEqual(sha256(header), this.digest);
  }

  /** Whether this part is served without the token. */
  isOpen(part: OpenPart): boolean {
    return !this.digest || this.open.includes(part);
  }
}

export const AUTH_FAILED = "missing or wrong 'authorization: Bearer <token>'";

function sha256(s: string): Buffer {
  return createHash("sha256").update(s, "utf8").digest();
}
