/**
 * Soak (issue 12): for --minutes (default 10), one `tinyv serve` (addon mode, verdict cache off)
 * with the vLLM stand-in failing now and then (faulty-vllm.ts), under a mix of clients at once:
 *
 *   well-behaved streams  3 lanes, each a VerifyStream of 200 items after another (1 in 5 wrong, so
 *                         asked of the LLM); every item must come back once, right answers correct
 *   unary load            VerifyBatch of 50 items, one after another
 *   cancelling clients    a stream of 20 items cancelled 0-300 ms after it opens, every 500 ms
 *   non-readers           a process sending 1 MB answers, reading nothing, leaving after 2 s (exit or
 *                         cancel, in turn), every 15 s
 *   pathological items    a 250 KB box of <sup> every 1 s; a 2 MB answer (over --max-item-bytes)
 *                         every 2 s; each must get a verdict or a clear error (never INTERNAL)
 *   probe                 a plain Verify every 50 ms from a process of its own, timed
 *
 * It prints the probe's latency per minute and overall, the server's memory each minute, every
 * count, and then, after the clients have left, the open streams and the memory.
 *
 * Usage: npm run build && node --import ./bench/llm/ts.mjs bench/hardening/soak.ts [--minutes 10] [--json F]
 *        [--parts streams,unary,cancel,nonreaders,pathological]
 */
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { create } from "@bufbuild/protobuf";
import type * as grpc from "@grpc/grpc-js";
import {
  type Verdict,
  VerifyBatchRequestSchema,
  type VerifyRequest,
  VerifyRequestSchema,
} from "../../src/gen/tinyv/v1/verifier_pb.js";
import { grpcClient, openStream, startTinyv, unary } from "../../test/support/tinyv.js";
import { MB, machine, metric, nonReader, rssMiB, sleep, startProbe, summary } from "./common.js";

const { values: args } = parseArgs({
  options: {
    minutes: { type: "string", default: "10" },
    json: { type: "string" },
    parts: { type: "string", default: "streams,unary,cancel,nonreaders,pathological" },
  },
});
const parts = new Set(String(args.parts).split(","));
const runMs = Number(args.minutes) * 60_000;

async function startFaultyLlm() {
  const main = fileURLToPath(new URL("./faulty-vllm.ts", import.meta.url));
  const hooks = fileURLToPath(new URL("../llm/ts.mjs", import.meta.url));
  const child = spawn(process.execPath, ["--import", hooks, main, "30"], {
    stdio: ["pipe", "pipe", "inherit"],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = "";
    child.stdout.on("data", (d: Buffer) => {
      out += d;
      const m = /fake vllm (\S+)/.exec(out);
      if (m) resolve(m[1] as string);
    });
    child.on("exit", (code) => reject(new Error(`faulty vllm exited with ${code}`)));
  });
  return { url, stop: () => child.kill("SIGTERM") };
}

const item = (id: string, gold: string, response: string): VerifyRequest =>
  create(VerifyRequestSchema, { id, groundTruth: gold, response, question: `What is ${gold}?` });

const llm = await startFaultyLlm();
const t = await startTinyv([
  "--llm-url",
  llm.url,
  "--llm-timeout-ms",
  "2000",
  "--cache-entries",
  "0",
  "--stream-stall-ms",
  "5000",
  "--log-level",
  "error",
]);
const client = grpcClient(t.grpcAddress);
await unary(client, "Verify", item("warm", "3", "\\boxed{3}"));
const idleMiB = rssMiB(t);

const counts = {
  streams: 0,
  streamErrors: [] as string[],
  itemsSent: 0,
  itemsAnswered: 0,
  missing: 0,
  duplicates: 0,
  rightJudgedWrong: 0,
  unaryBatches: 0,
  unaryItems: 0,
  unaryErrors: [] as string[],
  cancelled: 0,
  nonReaders: 0,
  pathological: 0,
  pathologicalUnclear: [] as string[],
};
let running = true;
const deadline = Date.now() + runMs;

/** One well-behaved stream: every id back once; right answers (decided by the rules) correct. */
function wellBehavedStream(lane: number, n: number): Promise<void> {
  const items = Array.from({ length: n }, (_, k) => {
    const gold = String(100 + ((lane * 7919 + n * k) % 900));
    const right = k % 5 !== 0;
    return item(
      `w${lane}-${counts.streams}-${k}`,
      gold,
      `So the answer is \\boxed{${right ? gold : `${gold}1`}}.`,
    );
  });
  const wanted = new Map(items.map((it, k) => [it.id, k % 5 !== 0]));
  counts.streams++;
  counts.itemsSent += n;
  return new Promise((resolve) => {
    const call = openStream(client);
    const seen = new Set<string>();
    call.on("data", (v: Verdict) => {
      if (seen.has(v.id)) counts.duplicates++;
      seen.add(v.id);
      counts.itemsAnswered++;
      if (wanted.get(v.id) === true && !v.correct) counts.rightJudgedWrong++;
    });
    call.on("error", (e: grpc.ServiceError) => {
      counts.streamErrors.push(e.message);
    });
    call.on("close", () => {
      for (const id of wanted.keys()) if (!seen.has(id)) counts.missing++;
      resolve();
    });
    for (const it of items) call.write(it);
    call.end();
  });
}

async function wellBehaved(lane: number) {
  while (running) await wellBehavedStream(lane, 200);
}

async function unaryLoad() {
  for (let b = 0; running; b++) {
    const items = Array.from({ length: 50 }, (_, k) => item(`u${b}-${k}`, String(k), `\\boxed{${k}}`));
    try {
      const r = await unary<{ verdicts: Verdict[] }>(
        client,
        "VerifyBatch",
        create(VerifyBatchRequestSchema, { items }),
      );
      counts.unaryBatches++;
      counts.unaryItems += r.verdicts.length;
      if (r.verdicts.some((v) => !v.correct))
        counts.unaryErrors.push(`batch ${b}: a right answer judged wrong`);
    } catch (e) {
      counts.unaryErrors.push((e as Error).message);
      await sleep(100); // a failing call must not spin
    }
  }
}

async function cancelling() {
  for (let c = 0; running; c++) {
    const call = openStream(client);
    call.on("error", () => {});
    call.on("data", () => {});
    for (let k = 0; k < 20; k++) call.write(item(`c${c}-${k}`, "7", `\\boxed{${k % 2 ? 7 : 8}}`));
    await sleep(Math.floor(Math.random() * 300));
    call.cancel();
    counts.cancelled++;
    await sleep(500);
  }
}

async function nonReaders() {
  for (let k = 0; running; k++) {
    await nonReader(t, 600, 1_000_000, 2_000, k % 2 ? "cancel" : "exit");
    counts.nonReaders++;
    await sleep(13_000);
  }
}

async function pathological() {
  const sup = `\\boxed{${"<sup>".repeat(50_000)}}`;
  const huge = `\\boxed{${"9".repeat(2 * MB)}}`;
  for (let k = 0; running; k++) {
    const response = k % 2 ? huge : sup;
    try {
      const v = await unary<Verdict>(client, "Verify", item(`p${k}`, "3", response));
      if (v.error?.code === 5 /* ERROR_CODE_INTERNAL */)
        counts.pathologicalUnclear.push(`item error ${v.error.message}`);
    } catch (e) {
      const code = (e as grpc.ServiceError).code;
      if (code === 13 || code === 2) counts.pathologicalUnclear.push((e as Error).message);
    }
    counts.pathological++;
    await sleep(1_000);
  }
}

const probe = startProbe(t.grpcAddress, 50);
const memory: [number, number][] = [];
const started = Date.now();
const sampler = setInterval(
  () => memory.push([Math.round((Date.now() - started) / 1000), rssMiB(t)]),
  10_000,
);
const load = [
  ...(parts.has("streams") ? [wellBehaved(0), wellBehaved(1), wellBehaved(2)] : []),
  ...(parts.has("unary") ? [unaryLoad()] : []),
  ...(parts.has("cancel") ? [cancelling()] : []),
  ...(parts.has("nonreaders") ? [nonReaders()] : []),
  ...(parts.has("pathological") ? [pathological()] : []),
];
while (Date.now() < deadline) await sleep(1_000);
running = false;
const samples = await probe.stop();
await Promise.all(load);
clearInterval(sampler);
const endOfLoadMiB = rssMiB(t);
await sleep(20_000); // the clients have left: streams close, the heap settles
const after = {
  openStreams: await metric(t, "tinyv_open_streams"),
  rssMiB: rssMiB(t),
  alive: t.proc.exitCode === null,
};

const perMinute = [];
for (let m = 0; m * 60 < runMs / 1000; m++) {
  perMinute.push({
    minute: m + 1,
    ...summary(samples.filter(([s]) => s >= m * 60 && s < (m + 1) * 60).map(([, ms]) => ms)),
    maxRssMiB: Math.max(...memory.filter(([s]) => s > m * 60 && s <= (m + 1) * 60).map(([, r]) => r)),
  });
}
const result = {
  machine: machine(),
  date: new Date().toISOString(),
  minutes: Number(args.minutes),
  probe: { ...summary(samples.map(([, ms]) => ms)), failed: samples.filter(([, , ok]) => !ok).length },
  perMinute,
  memory: { idleMiB, endOfLoadMiB, maxMiB: Math.max(...memory.map(([, r]) => r)), after },
  counts: {
    ...counts,
    streamErrors: counts.streamErrors.length,
    firstStreamErrors: counts.streamErrors.slice(0, 3),
    unaryErrors: counts.unaryErrors.length,
    firstUnaryErrors: counts.unaryErrors.slice(0, 3),
    pathologicalUnclear: counts.pathologicalUnclear.slice(0, 5),
  },
  llmCalls: await metric(t, "tinyv_llm_requests_total"),
};
console.log(JSON.stringify(result, null, 2));
if (args.json) writeFileSync(args.json, `${JSON.stringify(result, null, 2)}\n`);
client.close();
await t.stop();
llm.stop();
