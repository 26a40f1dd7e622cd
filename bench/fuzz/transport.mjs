// Fuzzes a real `tinyv serve` over both ports for --minutes (test/fuzz/transport.ts: random and
// mutated protobuf, JSON and frames, cut at random points, over grpc-js, node:http2, node:http and
// bare sockets) while a control client calls Verify every 100 ms, and prints what broke.
//
//   npm run build && node bench/fuzz/transport.mjs [--minutes 10] [--lanes 8] [--seed 1] [--out bench/out/fuzz-transport]
//
// Broken: the server exits; a call the client ended does not end within 20 s; a 5xx or a gRPC
// UNKNOWN / INTERNAL / DATA_LOSS for client garbage; an item error INTERNAL; a half-closed stream
// short of verdicts; a control call that fails; streams left open after the clients leave; the
// server logging a handler failure.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import "../llm/ts.mjs";

const { startTinyv } = await import("../../test/support/tinyv.ts");
const { fuzzTransport, summarize } = await import("../../test/fuzz/transport-run.ts");
const { describeOp } = await import("../../test/fuzz/transport.ts");

const args = process.argv.slice(2);
const flag = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const MINUTES = Number(flag("minutes", 10));
const LANES = Number(flag("lanes", 8));
const SEED = Number(flag("seed", 1));
const OUT = flag("out", "bench/out/fuzz-transport");
const load = () =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(" ");
const rss = (pid) =>
  Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0) / 1024;
const metric = async (t, name) => {
  const text = await (await fetch(`${t.httpUrl}/metrics`)).text();
  return Number(new RegExp(`^${name} (\\S+)$`, "m").exec(text)?.[1] ?? Number.NaN);
};

console.log(`transport fuzz: ${MINUTES} min, ${LANES} lanes, seed ${SEED}; load average ${load()}`);
const t = await startTinyv(["--log-level", "warn"]);
const target = { grpcAddress: t.grpcAddress, httpPort: t.httpPort };
const pid = t.proc.pid;
const rssStart = rss(pid);
let rssPeak = rssStart;
let last = Date.now();
const report = await fuzzTransport(target, {
  lanes: LANES,
  durationMs: MINUTES * 60_000,
  seed: SEED,
  onProgress: (r) => {
    rssPeak = Math.max(rssPeak, rss(pid));
    if (Date.now() - last < 30_000) return;
    last = Date.now();
    console.log(
      `  ${r.ops} ops, ${r.found.length} problems, control ${r.control.calls} (${r.control.failures.length} failed), RSS ${rssPeak.toFixed(0)} MB peak, load ${load()}`,
    );
  },
});

const alive = t.proc.exitCode === null;
let open = Number.NaN;
for (let i = 0; alive && i < 100; i++) {
  open = await metric(t, "tinyv_open_streams");
  if (open === 0) break;
  await new Promise((r) => setTimeout(r, 100));
}
const rssEnd = alive ? rss(pid) : Number.NaN;
const logged = t
  .stderr()
  .split("\n")
  .filter((l) => /failed|Error|uncaught|unhandled/i.test(l));
await t.stop();

console.log(`\n${summarize(report)}`);
console.log(`server alive at the end: ${alive}; open streams after the clients left: ${open}`);
console.log(
  `server RSS: start ${rssStart.toFixed(0)} MB, peak ${rssPeak.toFixed(0)} MB, end ${rssEnd.toFixed(0)} MB`,
);
console.log(`server log lines naming a failure: ${logged.length}`);
for (const l of logged.slice(0, 10)) console.log(`  LOG ${l.slice(0, 300)}`);
console.log(`load average at end: ${load()}`);
mkdirSync(OUT, { recursive: true });
for (const [i, f] of report.found.entries())
  writeFileSync(join(OUT, `found-${i}.json`), `${JSON.stringify(f)}\n`);
if (report.found.length)
  console.log(`saved ${report.found.length} under ${OUT}/ (first: ${describeOp(report.found[0].op)})`);
const broken =
  !alive || open !== 0 || report.found.length > 0 || report.control.failures.length > 0 || logged.length > 0;
process.exitCode = broken ? 1 : 0;
