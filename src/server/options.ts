/** What each transport (gRPC port, HTTP port) is bound and guarded with. */
export interface TransportOptions {
  host: string;
  port: number;
  maxMessageBytes: number;
  /** Required as `authorization: Bearer <token>` when non-empty. */
  authToken: string;
  /** PEM files; TLS when both are set. */
  tlsCert: string;
  tlsKey: string;
}
