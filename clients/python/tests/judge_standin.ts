// The vLLM stand-in (test/support/fake-vllm.ts) for the Python tests, in a process of its own.
// Its verdict follows the model answer it is asked about: one with "right" in it is True, one with
// "fail" gets an HTTP 500, any other is False. Prints "fake vllm URL" when listening; stops when
// stdin closes. Usage: node --import ./bench/llm/ts.mjs clients/python/tests/judge_standin.ts
import { FakeVllm } from "../../../test/support/fake-vllm.js";

const judge = await FakeVllm.start({
  record: false,
  script: (call) =>
    call.answer.includes("fail")
      ? { status: 500, message: "scripted failure" }
      : { text: call.answer.includes("right") ? "True" : "False" },
});
console.log(`fake vllm ${judge.url}`);
const quit = () => judge.stop().then(() => process.exit(0));
process.on("SIGTERM", quit);
process.stdin.on("close", quit);
process.stdin.resume();
