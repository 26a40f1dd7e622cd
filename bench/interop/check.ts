// `tinyv serve` against a judge on uvicorn (bench/interop/app.py, at the URL given): three streams of
// 200 items, the second after 6.5 s idle, past uvicorn's 5 s keep-alive, so every pooled socket has
// been closed by the server and must be replaced without losing or retrying a call.
import { create } from "@bufbuild/protobuf";
import { LlmOutcome, VerifyRequestSchema } from "../../src/gen/tinyv/v1/verifier_pb.js";
import { grpcClient, startTinyv, streamAll } from "../../test/support/tinyv.js";

const url = process.argv[2] ?? "http://127.0.0.1:8765/v1";
const server = await startTinyv(["--llm-url", url, "--log-level", "warn"]);
const client = grpcClient(server.grpcAddress);
// Odd items say "one half" (the judge says True), even ones a wrong decimal (False); all fail the rules
// except 0.50.
const items = (tag: string) =>
  Array.from({ length: 200 }, (_, i) =>
    create(VerifyRequestSchema, {
      id: `${tag}${i}`,
      question: `Q ${tag} ${i}`,
      groundTruth: "\\frac12",
      response: i % 2 ? "so \\boxed{one half}" : `so \\boxed{0.${i + 6}}`,
    }),
  );
let wrong = 0;
for (const [tag, idleMs] of [
  ["a", 0],
  ["b", 6_500],
  ["c", 0],
] as const) {
  await new Promise((r) => setTimeout(r, idleMs));
  const t0 = performance.now();
  const verdicts = await streamAll(client, items(tag));
  const fromLlm = verdicts.filter(
    (v) => v.llmOutcome === LlmOutcome.TRUE || v.llmOutcome === LlmOutcome.FALSE,
  );
  const bad = verdicts.filter(
    (v) => v.error || v.correct !== (Number(v.id.slice(1)) % 2 === 1 || v.extractedAnswer === "0.50"),
  );
  wrong += bad.length + 200 - verdicts.length;
  console.log(
    `stream ${tag} after ${idleMs} ms idle: ${verdicts.length} verdicts, ${fromLlm.length} from the LLM, ` +
      `${bad.length} wrong, ${(performance.now() - t0).toFixed(0)} ms`,
  );
}
const metrics = await (await fetch(`${server.httpUrl}/metrics`)).text();
for (const line of metrics.split("\n")) {
  const m = /^tinyv_llm_(http_calls|retries|circuit_opened)_total (\d+)/.exec(line);
  if (!m) continue;
  console.log(line);
  // A socket uvicorn closed must be replaced quietly, not cost a retry.
  if (m[1] !== "http_calls" && Number(m[2]) > 0) wrong++;
}
client.close();
await server.stop();
process.exitCode = wrong === 0 ? 0 : 1;
