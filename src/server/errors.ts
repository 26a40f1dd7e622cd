import { Code } from "@connectrpc/connect";

/** A call-level failure, transport-neutral: Connect's codes are gRPC's status codes. */
export class ServiceError extends Error {
  constructor(
    readonly code: Code,
    message: string,
  ) {
    super(message);
  }
}

export { Code };
