// The vLLM stand-in failing now and then, in a process of its own, for the soak.
// Usage: node --import ./bench/llm/ts.mjs bench/hardening/faulty-vllm.ts LATENCY_MS
// Prints "fake vllm URL" when listening. Of its replies, by a seeded draw: 4% HTTP 500, 2% never
// answered (the server's --llm-timeout-ms ends them), 2% a dropped connection, 1% a body that is not
// JSON, 1% cut in half; the rest "True" or "False" after LATENCY_MS.
import { type FakeReply, FakeVllm } from "../../test/support/fake-vllm.js";

const latencyMs = Number(process.argv[2] ?? 30);
let state = 12345;
const draw = () => {
  state = (state * 1103515245 + 12345) % 2 ** 31; // seeded: one soak run is like the next
  return state / 2 ** 31;
};
const script = (): FakeReply => {
  const r = draw();
  if (r < 0.04) return { status: 500, message: "soak: engine fault", latencyMs };
  if (r < 0.06) return { hang: true };
  if (r < 0.08) return { close: true, latencyMs };
  if (r < 0.09) return { malformed: true, latencyMs };
  if (r < 0.1) return { cut: true, latencyMs };
  return { text: r < 0.55 ? "True" : "False", latencyMs };
};
const f = await FakeVllm.start({ script, record: false });
console.log(`fake vllm ${f.url}`);
const quit = () => f.stop().then(() => process.exit(0));
process.on("SIGTERM", quit);
process.stdin.on("close", quit);
process.stdin.resume();
