import type { Verdict } from "../../gen/tinyv/v1/verifier_pb.js";
import { questionOf, responseFromQuery } from "./chat-template.js";
import { RESULT_KEYS, resultFields } from "./fields.js";
import { goldFromLabel } from "./label.js";
import { item, malformed, object, type Route } from "./route.js";

/**
 * OpenRLHF's remote reward protocol, as read from openrlhf 0.11.2 (PyPI): openrlhf/utils/agent.py
 * (`SingleTurnAgentExecutor.execute` and `_fetch_rewards_via_http`) and openrlhf/cli/serve_rm.py (its own
 * reward server, `POST /get_reward`); unchanged in the wire shape since 0.10.1.
 *
 *   POST {"query": [prompt + response], "prompts": [prompt], "labels": [label]}
 *   reply {"rewards": [r], "scores": [s], "extra_logs": {"name": [x], ...}}
 *
 * `query` is `tokenizer.decode(prompt_ids + response_ids, skip_special_tokens=False)`: the chat-templated
 * prompt, the response, its end-of-turn token. Rollouts send one sample per request. `labels` hold the
 * `--data.label_key` column as the dataset stores it: any JSON type. The trainer reads `rewards`, `scores`
 * (else `rewards`) and `extra_logs` and makes tensors of them, so every value here is numeric. It retries
 * any failed request (a 4xx too) 5 times, a second apart, then trains the sample without a reward: so a
 * bad item is answered 200 with score 0 and `item_error` 1, and only a malformed body gets a 400.
 */
export const openRlhf: Route = {
  method: "OpenRLHF",
  parse(body) {
    const b = object(body, "OpenRLHF");
    const query = strings(b, "query");
    const prompts = b.prompts ?? [];
    const labels = b.labels;
    if (!Array.isArray(labels)) throw malformed('OpenRLHF: "labels" must be an array (one label per query)');
    if (!Array.isArray(prompts))
      throw malformed('OpenRLHF: "prompts" must be an array (one prompt per query)');
    for (const [name, list] of [
      ["labels", labels],
      ["prompts", prompts],
    ] as const) {
      if (list.length !== query.length && (name === "labels" || list.length > 0)) {
        throw malformed(`OpenRLHF: "${name}" has ${list.length} entries but "query" has ${query.length}`);
      }
    }
    const items = query.map((q, i) => {
      const prompt: unknown = prompts[i];
      return item(
        String(i),
        goldFromLabel(labels[i], `labels[${i}]`),
        questionOf(prompt),
        responseFromQuery(q, typeof prompt === "string" ? prompt : ""),
      );
    });
    return { items, reply };
  },
};

function reply(verdicts: Verdict[]) {
  const fields = verdicts.map(resultFields);
  const rewards = verdicts.map((v) => v.reward);
  return {
    rewards,
    scores: rewards,
    extra_logs: Object.fromEntries(RESULT_KEYS.map((k) => [k, fields.map((f) => f[k])])),
  };
}

function strings(b: Record<string, unknown>, name: string): string[] {
  const v = b[name];
  if (!Array.isArray(v) || !v.every((s) => typeof s === "string")) {
    throw malformed(`OpenRLHF: "${name}" must be an array of strings`);
  }
  return v;
}
