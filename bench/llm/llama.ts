// The LLM path against a real engine: `tinyv serve` in front of llama.cpp's llama-server (built by
// scripts/llama/build.sh) serving the tiny "True" judge, driven over one gRPC VerifyStream with a window of
// items in flight; next to it, at the same window, a bare keep-alive socket client sending the very same
// chat requests to the same server: the floor. What tinyv adds per call is its p50 less the floor's.
// Build first (`npm run build`, `bash scripts/llama/build.sh`), then:
//   node --import ./bench/llm/ts.mjs bench/llm/llama.ts [ITEMS=2000] [WINDOWS=8,32,64]
import { mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import type * as grpc from "@grpc/grpc-js";
import { type Verdict, type VerifyRequest, VerifyRequestSchema } from "../../src/gen/tinyv/v1/verifier_pb.js";
import { loadRegistry, renderPrompt } from "../../src/llm/registry.js";
import { untilServing } from "../../test/support/health.js";
import { startLlama, writeModels } from "../../test/support/llama.js";
import { grpcClient, startTinyv } from "../../test/support/tinyv.js";
import { percentile } from "./standin.js";

const items = Number(process.argv[2] ?? 2_000);
const windows = (process.argv[3] ?? "8,32,64").split(",").map(Number);
const slots = Math.max(...windows);

const dir = mkdtempSync(join(os.tmpdir(), "tinyv-llama-bench-"));
const models = writeModels(dir);
// Slots for the largest window, HTTP threads above it (README), one compute thread of the two cores.
const llama = await startLlama(models.true, [
  "--alias",
  "zhangchenxu/TinyV-1.5B",
  "-np",
  String(slots),
  "--threads-http",
  String(slots + 8),
  "-c",
  String(slots * 1024),
]);
const server = await startTinyv([
  "--llm-url",
  llama.url,
  "--llm-concurrency",
  String(slots),
  "--log-level",
  "warn",
]);
await untilServing(server);
const client = grpcClient(server.grpcAddress);
type Duplex = grpc.ClientDuplexStream<VerifyRequest, Verdict>;
const open = () => (client as unknown as { VerifyStream: () => Duplex }).VerifyStream();

const question = (i: number) => `What is ${i} + 1?`;
const answer = (tag: string, i: number) => `${i + 2}:${tag}`;
const rejected = (tag: string, i: number) =>
  create(VerifyRequestSchema, {
    id: `${tag}${i}`,
    question: question(i),
    groundTruth: String(i + 1),
    response: `so \\boxed{${answer(tag, i)}}`,
  });

/** Keep `window` items in flight on one stream; per item, its round trip. */
function windowed(reqs: VerifyRequest[], window: number): Promise<number[]> {
  return new Promise((resolve, reject) => {
    const sentAt = new Map<string, number>();
    const took: number[] = [];
    const call = open();
    let next = 0;
    let bad = 0;
    const send = () => {
      const r = reqs[next++];
      if (!r) return;
      sentAt.set(r.id, performance.now());
      call.write(r);
      if (next === reqs.length) call.end();
    };
    call.on("data", (v: Verdict) => {
      took.push(performance.now() - (sentAt.get(v.id) as number));
      if (v.llmOutcome !== 2) bad++; // LLM_OUTCOME_TRUE
      send();
    });
    call.on("end", () => (bad ? reject(new Error(`${bad} verdicts not TRUE`)) : resolve(took)));
    call.on("error", reject);
    for (let i = 0; i < window; i++) send();
  });
}

/** The chat request tinyv sends for item i, byte for byte the same fields. */
const profile = loadRegistry().get("zhangchenxu/TinyV-1.5B");
const chatBody = (tag: string, i: number) =>
  JSON.stringify({
    model: "zhangchenxu/TinyV-1.5B",
    messages: [
      {
        role: "user",
        content: renderPrompt(profile as NonNullable<typeof profile>, {
          question: question(i),
          groundTruth: String(i + 1),
          answer: answer(tag, i),
        }),
      },
    ],
    temperature: 0,
    top_p: 1,
    max_completion_tokens: 8,
    max_tokens: 8,
    logprobs: true,
    top_logprobs: 5,
  });

/** The floor: `window` keep-alive sockets, one write per request, reconnecting when the server closes (after 100). */
async function bare(tag: string, n: number, window: number): Promise<number[]> {
  const took: number[] = [];
  let next = 0;
  const one = async () => {
    let sock: net.Socket | undefined;
    let buf = Buffer.alloc(0);
    let answered: () => void = () => {};
    const connect = async () => {
      const s = net.connect(llama.port, "127.0.0.1");
      s.setNoDelay(true);
      s.on("data", (d: Buffer) => {
        buf = Buffer.concat([buf, d]);
        const end = buf.indexOf("\r\n\r\n");
        const len = /content-length: (\d+)/i.exec(buf.toString("latin1", 0, Math.max(0, end)));
        if (end >= 0 && len && buf.length >= end + 4 + Number(len[1])) {
          if (/connection: close/i.test(buf.toString("latin1", 0, end))) sock = undefined;
          buf = Buffer.alloc(0);
          answered();
        }
      });
      s.on("close", () => {
        if (sock === s) sock = undefined;
      });
      await new Promise((r) => s.once("connect", r));
      return s;
    };
    while (next < n) {
      const i = next++;
      const body = chatBody(tag, i);
      sock ??= await connect();
      const s = sock;
      const t0 = performance.now();
      await new Promise<void>((r) => {
        answered = r;
        s.write(
          `POST /v1/chat/completions HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\n` +
            `content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
        );
      });
      took.push(performance.now() - t0);
    }
    sock?.end();
  };
  await Promise.all(Array.from({ length: window }, one));
  return took;
}

const show = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return { p50: percentile(s, 50), p90: percentile(s, 90), p99: percentile(s, 99) };
};
const f = (x: number) => x.toFixed(2);

console.log(
  `machine: ${os.cpus().length} cores, load ${os.loadavg()[0]?.toFixed(1)}, node ${process.version}; llama-server ` +
    `(llama-cpp-python's vendored llama.cpp) -np ${slots} --threads-http ${slots + 8} -t 1, tiny "True" judge; ${items} items a window`,
);
// Warm: JIT, rule workers, the connections, llama's slots.
await windowed(
  Array.from({ length: 2 * slots }, (_, i) => rejected("w", i)),
  slots,
);
await bare("wb", 2 * slots, slots);

for (const window of windows) {
  const tag = `t${window}-`;
  const t0 = performance.now();
  const took = await windowed(
    Array.from({ length: items }, (_, i) => rejected(tag, i)),
    window,
  );
  const rate = items / ((performance.now() - t0) / 1000);
  const b0 = performance.now();
  const floor = await bare(`b${window}-`, items, window);
  const bareRate = items / ((performance.now() - b0) / 1000);
  const [ours, base] = [show(took), show(floor)];
  console.log(
    `${window} in flight: tinyv ${rate.toFixed(0)} items/s (bare client ${bareRate.toFixed(0)} calls/s, ${((100 * rate) / bareRate).toFixed(1)}%); ` +
      `round trip p50 ${f(ours.p50)} ms, p90 ${f(ours.p90)}, p99 ${f(ours.p99)}; bare p50 ${f(base.p50)} ms, p90 ${f(base.p90)}, p99 ${f(base.p99)}; ` +
      `tinyv adds p50 ${f(ours.p50 - base.p50)} ms`,
  );
}

client.close();
await server.stop();
await llama.stop();
rmSync(dir, { recursive: true, force: true });
