import type { Auth } from "./auth.js";

/** What each transport (gRPC port, HTTP port) is bound and guarded with. */
export interface TransportOptions {
  host: string;
  port: number;
  maxMessageBytes: number;
  auth: Auth;
  /** PEM files; TLS when both are set. */
  tlsCert: string;
  tlsKey: string;
  /** A stream whose client reads nothing for this long, while verdicts wait, is closed. */
  streamStallMs: number;
  maxStreams: number;
  maxStreamsPerConnection: number;
  keepaliveMs: number;
  keepaliveTimeoutMs: number;
  idleTimeoutMs: number;
  /** gRPC only: GOAWAY after this long, then cut after the grace (0: never, no limit). */
  maxConnectionAgeMs?: number;
  maxConnectionAgeGraceMs?: number;
}
