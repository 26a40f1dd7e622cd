// The vLLM stand-in in a process of its own, so a bench does not share an event loop with it.
// Usage: node --import ./bench/llm/ts.mjs bench/llm/fake-vllm-main.ts LATENCY_MS
// Prints "fake vllm URL" when listening; every reply is "False" after LATENCY_MS.
import { FakeVllm } from "../../test/support/fake-vllm.js";

const f = await FakeVllm.start({ latencyMs: Number(process.argv[2] ?? 50) });
console.log(`fake vllm ${f.url}`);
const quit = () => f.stop().then(() => process.exit(0));
process.on("SIGTERM", quit);
process.stdin.on("close", quit);
process.stdin.resume();
