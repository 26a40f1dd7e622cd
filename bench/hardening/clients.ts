/**
 * Careless clients, measured (issue 12's "done when"):
 *
 *   non-readers   6, then (on a fresh server) 60, processes in a row, each a VerifyStream sending
 *                 1 MB answers until the server stops reading, reading nothing, then leaving (the
 *                 process exits; every other one cancels first). The server's memory before, at its
 *                 peak and after; its open streams after; a plain Verify's time after each client.
 *   <sup> box     4 items of `\boxed{<sup> x 50,000}` (250 KB) at once, 5 rounds, while a probe
 *                 process times a plain Verify every 20 ms: each item's time against the budget,
 *                 and the probe's.
 *
 * Usage: npm run build && node --import ./bench/llm/ts.mjs bench/hardening/clients.ts [--json F]
 */
import { writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { create } from "@bufbuild/protobuf";
import { type Verdict, VerifyRequestSchema } from "../../src/gen/tinyv/v1/verifier_pb.js";
import { grpcClient, startTinyv, unary } from "../../test/support/tinyv.js";
import { machine, metric, nonReader, rssMiB, sleep, startProbe, summary } from "./common.js";

const { values: args } = parseArgs({ options: { json: { type: "string" } } });
const BUDGET_MS = 2_000; // --rule-budget-ms's default

const item = (id: string, gold: string, response: string) =>
  create(VerifyRequestSchema, { id, groundTruth: gold, response });

async function nonReaders(count: number) {
  const t = await startTinyv(["--log-level", "error"]);
  const client = grpcClient(t.grpcAddress);
  await unary(client, "Verify", item("warm", "3", "\\boxed{3}"));
  await sleep(2_000);
  const idleMiB = rssMiB(t);
  let peakMiB = idleMiB;
  const verifyMs: number[] = [];
  const started = Date.now();
  for (let k = 0; k < count; k++) {
    const left = nonReader(t, 600, 1_000_000, 1_500, k % 2 ? "cancel" : "exit");
    const sampler = setInterval(() => {
      peakMiB = Math.max(peakMiB, rssMiB(t));
    }, 100);
    await left;
    clearInterval(sampler);
    const t0 = performance.now();
    const v = await unary<Verdict>(client, "Verify", item(`after${k}`, "3", "\\boxed{3}"));
    verifyMs.push(performance.now() - t0);
    if (!v.correct) throw new Error("a plain Verify was judged wrong");
  }
  const seconds = (Date.now() - started) / 1000;
  let openStreams = await metric(t, "tinyv_open_streams");
  for (let i = 0; i < 50 && openStreams !== 0; i++) {
    await sleep(200);
    openStreams = await metric(t, "tinyv_open_streams");
  }
  await sleep(10_000);
  const result = {
    clients: count,
    seconds: Math.round(seconds),
    idleMiB,
    peakMiB,
    afterMiB: rssMiB(t),
    openStreamsAfter: openStreams,
    alive: t.proc.exitCode === null,
    verifyAfterEachMs: summary(verifyMs),
  };
  client.close();
  await t.stop();
  return result;
}

async function supBox() {
  const t = await startTinyv(["--log-level", "error"]);
  const client = grpcClient(t.grpcAddress);
  await unary(client, "Verify", item("warm", "3", "\\boxed{3}"));
  const sup = `\\boxed{${"<sup>".repeat(50_000)}}`;
  const probe = startProbe(t.grpcAddress, 20);
  await sleep(1_000);
  const itemMs: number[] = [];
  const outcomes = new Set<number>();
  for (let round = 0; round < 5; round++) {
    await Promise.all(
      Array.from({ length: 4 }, async (_, i) => {
        const t0 = performance.now();
        const v = await unary<Verdict>(client, "Verify", item(`h${round}-${i}`, "3", sup));
        itemMs.push(performance.now() - t0);
        outcomes.add(v.ruleOutcome);
      }),
    );
  }
  await sleep(1_000);
  const samples = await probe.stop();
  client.close();
  await t.stop();
  return {
    items: itemMs.length,
    budgetMs: BUDGET_MS,
    itemMs: summary(itemMs),
    ruleOutcomes: [...outcomes],
    probeMs: summary(samples.map(([, ms]) => ms)),
    probeFailed: samples.filter(([, , ok]) => !ok).length,
  };
}

const result = {
  machine: machine(),
  date: new Date().toISOString(),
  nonReaders: [await nonReaders(6), await nonReaders(60)],
  sup: await supBox(),
};
console.log(JSON.stringify(result, null, 2));
if (args.json) writeFileSync(args.json, `${JSON.stringify(result, null, 2)}\n`);
