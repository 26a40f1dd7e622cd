import { questionOf, stripSpecialTokens } from "./chat-template.js";
import { decidedBy, resultFields } from "./fields.js";
import { goldFromLabel } from "./label.js";
import { item, malformed, object, type Route } from "./route.js";

/**
 * slime's remote reward model (`--rm-type remote_rm --rm-url URL`), as read from THUDM/slime v0.3.1
 * (commit a6272da, not on PyPI): slime/rollout/rm_hub/__init__.py `remote_rm`, slime/utils/types.py
 * `Sample`, slime/utils/arguments.py `--reward-key` and `--log-reward-category`.
 *
 *   POST {"prompt": sample.prompt, "response": sample.response, "label": sample.label}
 *   reply: any JSON; slime stores it as `sample.reward`, and reads `sample.reward[args.reward_key]`
 *
 * One sample per request (`batched_async_rm` gathers them, many in flight). `prompt` is a string (chat
 * templated with `--apply-chat-template`) or a list of messages; `response` is the generated text alone;
 * `label` is the `--label-key` column, any JSON type. slime retries any failure (a 4xx too) 10 times with
 * backoff up to 30 s, then fails the rollout: so a bad item is answered 200 with score 0 and `item_error`
 * 1. The reply is an object: read it with `--reward-key score`; `decided_by` is a category for
 * `--log-reward-category decided_by`.
 */
export const slime: Route = {
  method: "Slime",
  parse(body) {
    const b = object(body, "slime");
    if (typeof b.response !== "string") throw malformed('slime: "response" must be a string');
    if (b.prompt !== undefined && typeof b.prompt !== "string" && !Array.isArray(b.prompt)) {
      throw malformed('slime: "prompt" must be a string or a list of messages');
    }
    const parsed = item(
      "0",
      goldFromLabel(b.label, "label"),
      questionOf(b.prompt),
      stripSpecialTokens(b.response),
    );
    return {
      items: [parsed],
      reply: ([v]) => {
        if (!v) throw new Error("slime: no verdict");
        return {
          ...resultFields(v),
          decided_by: decidedBy(v),
          extracted_answer: v.extractedAnswer,
          ...(v.error ? { error: v.error.message } : {}),
        };
      },
    };
  },
};
