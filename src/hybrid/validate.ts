import { ErrorCode, Mode, type VerifyOptions, type VerifyRequest } from "../gen/tinyv/v1/verifier_pb.js";

export interface ItemLimits {
  maxItemBytes: number;
}

export interface ItemProblem {
  code: ErrorCode;
  message: string;
}

const TEXT_FIELDS = [
  ["ground_truth", "groundTruth"],
  ["response", "response"],
  ["question", "question"],
] as const;

/** Why an item cannot be verified, or undefined when it can. Pure. */
export function validateItem(
  req: VerifyRequest,
  options: VerifyOptions | undefined,
  limits: ItemLimits,
): ItemProblem | undefined {
  for (const [name, key] of TEXT_FIELDS) {
    const bytes = Buffer.byteLength(req[key], "utf8");
    if (bytes > limits.maxItemBytes) {
      return {
        code: ErrorCode.TOO_LARGE,
        message: `${name} is ${bytes} bytes; the limit is ${limits.maxItemBytes} (--max-item-bytes)`,
      };
    }
  }
  if (req.groundTruth.trim() === "") {
    return { code: ErrorCode.INVALID_ARGUMENT, message: "ground_truth is empty" };
  }
  const mode = options?.mode ?? Mode.UNSPECIFIED;
  if (!(mode in Mode)) {
    return { code: ErrorCode.INVALID_ARGUMENT, message: `options.mode ${mode} is not a known Mode` };
  }
  const w = options?.llmWeight;
  if (w !== undefined && !(w >= 0 && w <= 1)) {
    return { code: ErrorCode.INVALID_ARGUMENT, message: `options.llm_weight ${w} is outside [0, 1]` };
  }
  return undefined;
}

/** An item's own options win over its batch's, which win over the server's. */
export function mergeOptions(
  item: VerifyOptions | undefined,
  batch: VerifyOptions | undefined,
): VerifyOptions | undefined {
  if (!batch) return item;
  if (!item) return batch;
  return {
    ...batch,
    mode: item.mode !== Mode.UNSPECIFIED ? item.mode : batch.mode,
    llmWeight: item.llmWeight ?? batch.llmWeight,
    softReward: item.softReward ?? batch.softReward,
  };
}
