import { create } from "@bufbuild/protobuf";
import type { Config } from "../config/schema.js";
import { VerifyRequestSchema } from "../gen/tinyv/v1/verifier_pb.js";
import { createLog } from "../log.js";
import { createEngine } from "../server/engine.js";
import { verdictJson } from "./json.js";

/** `tinyv check`: one item, verified in-process, printed as one JSON object. */
export async function check(config: Config, gold: string, response: string, question: string): Promise<void> {
  const engine = await createEngine({ ...config, workers: 1 }, createLog(config.logLevel));
  try {
    const verdict = await engine.hybrid.verify(
      create(VerifyRequestSchema, { groundTruth: gold, response, question }),
    );
    process.stdout.write(`${JSON.stringify(verdictJson(verdict))}\n`);
  } finally {
    await engine.close();
  }
}
