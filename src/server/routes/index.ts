import { create } from "@bufbuild/protobuf";
import { ErrorCode, type Verdict, VerifyBatchRequestSchema } from "../../gen/tinyv/v1/verifier_pb.js";
import { errorVerdict } from "../../hybrid/verifier.js";
import { Code, ServiceError } from "../errors.js";
import type { VerifierServiceImpl } from "../service.js";
import { nemoGymSeedSession, nemoGymVerify } from "./nemo-gym.js";
import { openRlhf } from "./openrlhf.js";
import type { Route } from "./route.js";
import { slime } from "./slime.js";

/** The trainer routes of the HTTP port, each in one framework's fixed JSON shape (see route.ts). */

export const ROUTES: ReadonlyMap<string, Route> = new Map([
  ["/openrlhf", openRlhf],
  ["/get_reward", openRlhf], // the path of OpenRLHF's own reward server (openrlhf.cli.serve_rm)
  ["/slime", slime],
  ["/verify", nemoGymVerify],
  ["/seed_session", nemoGymSeedSession],
]);

/**
 * Verify a route's items and build its reply. A fault while verifying becomes each item's error verdict
 * (score 0, item_error 1), answered 200: the trainers retry any non-2xx and then drop the sample.
 */
export async function answer(
  route: Route,
  body: unknown,
  impl: Pick<VerifierServiceImpl, "verifyBatch">,
  observe: (v: Verdict) => void,
): Promise<unknown> {
  const { items, reply } = route.parse(body);
  const requests = items.flatMap((it) => ("request" in it ? [it.request] : []));
  let verdicts: Verdict[];
  try {
    verdicts = (await impl.verifyBatch(create(VerifyBatchRequestSchema, { items: requests }))).verdicts;
  } catch (err) {
    if (err instanceof ServiceError && err.code === Code.InvalidArgument) throw err;
    const why = `internal error: ${(err as Error).message}`;
    verdicts = requests.map((r) => errorVerdict(r.id, ErrorCode.INTERNAL, why));
    verdicts.forEach(observe);
  }
  let next = 0;
  return reply(
    items.map((it) => {
      if ("request" in it) return verdicts[next++] as Verdict;
      observe(it.verdict);
      return it.verdict;
    }),
  );
}
