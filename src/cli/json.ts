import { toJson } from "@bufbuild/protobuf";
import { type Verdict, VerdictSchema } from "../gen/tinyv/v1/verifier_pb.js";

/** A verdict as Connect JSON (camelCase, enum names, zero values kept), the shape curl users see. */
export function verdictJson(v: Verdict) {
  return toJson(VerdictSchema, v, { alwaysEmitImplicit: true }) as Record<string, unknown>;
}
