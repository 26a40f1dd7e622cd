import { create } from "@bufbuild/protobuf";
import {
  ErrorCode,
  type Verdict,
  type VerifyRequest,
  VerifyRequestSchema,
} from "../../gen/tinyv/v1/verifier_pb.js";
import { errorVerdict } from "../../hybrid/verifier.js";
import { Code, ServiceError } from "../errors.js";
import type { Gold } from "./label.js";

/**
 * A trainer route speaks one framework's fixed JSON shape on the HTTP port. It is pure: it turns a body
 * into items and verdicts into a reply; http.ts does the I/O.
 */
export interface Route {
  /** The `method` label of tinyv_rpcs_total. */
  method: string;
  /** Throws a ServiceError (INVALID_ARGUMENT, answered 400) when the body is malformed. */
  parse(body: unknown): Parsed;
}

export interface Parsed {
  items: Item[];
  /** The reply, from one verdict per item, in item order. */
  reply(verdicts: Verdict[]): unknown;
}

/** An item to verify, or one answered already (a label that cannot be a ground truth). */
export type Item = { request: VerifyRequest } | { verdict: Verdict };

export function item(id: string, gold: Gold, question: string, response: string): Item {
  if ("fault" in gold) return { verdict: errorVerdict(id, ErrorCode.INVALID_ARGUMENT, gold.fault) };
  return {
    request: create(VerifyRequestSchema, {
      id,
      question: gold.question ?? question,
      groundTruth: gold.gold,
      response,
    }),
  };
}

/** A malformed body: answered 400 with this message. */
export function malformed(message: string): ServiceError {
  return new ServiceError(Code.InvalidArgument, message);
}

/** The body as a JSON object, or a 400 naming the route. */
export function object(body: unknown, route: string): Record<string, unknown> {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw malformed(`${route}: expected a JSON object`);
  }
  return body as Record<string, unknown>;
}
