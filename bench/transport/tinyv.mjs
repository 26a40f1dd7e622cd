// The real `tinyv serve` (rules only, default settings) end to end from a grpc-js
// client: unary Verify with 64 calls in flight for a fixed time, then one
// VerifyStream of N varied items (items/s), checking every verdict.
//
// Usage (after `npm run build`):
//   node bench/transport/tinyv.mjs [--seconds 3] [--items 10000] [--rounds 3] [--json OUT.json] [--ghz PATH] [-- SERVE ARGS...]
import { spawn } from "node:child_process";
import { once } from "node:events";
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { create } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import {
  GetServerInfoRequestSchema,
  RuleOutcome,
  VerifyRequestSchema,
} from "../../dist/gen/tinyv/v1/verifier_pb.js";
import { serviceDefinition } from "../../dist/server/descriptor.js";
import { fmt, ghz, ghzPath, median } from "./common.mjs";

const { values: args, positionals: serveArgs } = parseArgs({
  allowPositionals: true,
  options: {
    seconds: { type: "string", default: "3" },
    items: { type: "string", default: "10000" },
    rounds: { type: "string", default: "3" },
    window: { type: "string", default: "1024" },
    ghz: { type: "string", default: "" },
    json: { type: "string" },
  },
});

const CLI = fileURLToPath(new URL("../../bin/tinyv.js", import.meta.url));

/** Start `tinyv serve` on free ports; resolves when both address lines are out. */
async function startTinyv(extra) {
  const proc = spawn(process.execPath, [CLI, "serve", "--port", "0", "--http-port", "0", ...extra], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  proc.stderr.on("data", (d) => {
    err += d;
  });
  const grpcPort = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`tinyv did not start: ${err}`)), 30_000);
    proc.stdout.on("data", (d) => {
      out += d;
      const g = /^listening on .*:(\d+)$/m.exec(out);
      if (g && /^http on /m.test(out)) {
        clearTimeout(timer);
        resolve(Number(g[1]));
      }
    });
    proc.once("exit", (code) => reject(new Error(`tinyv exited with ${code}: ${err}`)));
  });
  return { proc, grpcPort, stderr: () => err };
}

/**
 * Varied items around gold "\frac12" / "the answer is \boxed{0.5}": fractions with
 * finite decimals written five ways, one of the five wrong. Returns [request, expected].
 */
function item(i) {
  const dens = [2, 4, 5, 8, 10, 16, 20, 25];
  const b = dens[i % dens.length];
  const a = 1 + (Math.floor(i / dens.length) % (b - 1 || 1));
  const value = String(a / b);
  const forms = [
    [`the answer is \\boxed{${value}}`, true],
    [`so we get $\\frac{${a}}{${b}}$. The final answer is \\boxed{\\frac{${a}}{${b}}}`, true],
    [`Therefore the answer is \\boxed{${2 * a}/${2 * b}}.`, true],
    [`Thus $x = ${value}$, i.e. \\boxed{\\dfrac{${a}}{${b}}}`, true],
    [`the answer is \\boxed{${a + b}/${b}}`, false],
  ];
  const [response, expected] = forms[i % forms.length];
  const groundTruth = i === 0 ? "\\frac12" : `\\frac{${a}}{${b}}`;
  return [
    create(VerifyRequestSchema, {
      id: String(i),
      groundTruth,
      response: i === 0 ? "the answer is \\boxed{0.5}" : response,
    }),
    expected,
  ];
}

const Client = grpc.makeGenericClientConstructor(serviceDefinition(), "VerifierService");

function call(client, method, req) {
  return new Promise((resolve, reject) =>
    client[method](req, (err, res) => (err ? reject(err) : resolve(res))),
  );
}

/** Unary Verify, 64 in flight for `ms`; checks every verdict against its expectation. */
async function unary(client, ms, inflight = 64) {
  const end = performance.now() + ms;
  const start = performance.now();
  let done = 0;
  let wrong = 0;
  let next = 0;
  await Promise.all(
    Array.from({ length: inflight }, async () => {
      while (performance.now() < end) {
        const [req, expected] = item(next++ % 1000);
        const v = await call(client, "Verify", req);
        if (v.correct !== expected || v.id !== req.id || v.error) wrong++;
        done++;
      }
    }),
  );
  return { perSec: done / ((performance.now() - start) / 1000), calls: done, wrong };
}

/** One VerifyStream of `n` items, at most `windowSize` unanswered; items/s and checks. */
async function stream(client, n, windowSize) {
  const items = Array.from({ length: n }, (_, i) => item(i));
  const pending = new Map(items.map(([req, expected]) => [req.id, expected]));
  const s = client.VerifyStream();
  let sent = 0;
  let got = 0;
  let wrong = 0;
  let errors = 0;
  let blocked = false;
  const start = performance.now();
  function pump() {
    while (!blocked && sent < n && sent - got < windowSize) {
      const ok = s.write(items[sent++][0]);
      if (!ok) {
        blocked = true;
        s.once("drain", () => {
          blocked = false;
          pump();
        });
      }
    }
    if (sent === n && !s.writableEnded) s.end();
  }
  const done = new Promise((resolve, reject) => {
    s.on("data", (v) => {
      got++;
      const expected = pending.get(v.id);
      if (expected === undefined) wrong++;
      else if (v.error) errors++;
      else if (v.correct !== expected || v.ruleOutcome === RuleOutcome.OVER_BUDGET) wrong++;
      pending.delete(v.id);
      pump();
    });
    s.on("end", resolve);
    s.on("error", reject);
  });
  pump();
  await done;
  const elapsed = (performance.now() - start) / 1000;
  return { perSec: n / elapsed, seconds: elapsed, got, missing: pending.size, wrong, errors };
}

async function main() {
  const ms = Number(args.seconds) * 1000;
  const n = Number(args.items);
  const rounds = Number(args.rounds);
  const server = await startTinyv(serveArgs);
  const client = new Client(`127.0.0.1:${server.grpcPort}`, grpc.credentials.createInsecure());
  const info = await call(client, "GetServerInfo", create(GetServerInfoRequestSchema));
  const u = [];
  const st = [];
  const g = [];
  const ghzBin = ghzPath(args.ghz);
  try {
    await unary(client, 500); // warm-up: connection, JIT, rule workers
    await stream(client, 1000, Number(args.window));
    for (let r = 0; r < rounds; r++) {
      const a = await unary(client, ms);
      process.stderr.write(`unary round ${r + 1}: ${fmt(a.perSec)} calls/s, ${a.wrong} wrong\n`);
      u.push(a);
      const b = await stream(client, n, Number(args.window));
      process.stderr.write(
        `stream round ${r + 1}: ${fmt(b.perSec)} items/s (${b.seconds.toFixed(2)} s), ${b.got}/${n} back, ${b.wrong} wrong, ${b.errors} errors\n`,
      );
      st.push(b);
      if (ghzBin) {
        const c = ghz(ghzBin, `127.0.0.1:${server.grpcPort}`, 20000);
        process.stderr.write(`ghz round ${r + 1}: ${fmt(c.perSec)} calls/s, ${c.ok}/${c.n} OK\n`);
        g.push(c);
      }
    }
  } finally {
    client.close();
    server.proc.kill("SIGTERM");
    await once(server.proc, "exit");
  }
  const wrongU = u.reduce((s, x) => s + x.wrong, 0);
  const bad = st.reduce((s, x) => s + x.wrong + x.errors + x.missing, 0);
  const lines = [
    `tinyv serve ${serveArgs.join(" ") || "(defaults: rules only)"} (version ${info.version}, ${info.ruleWorkers} rule workers), median of ${rounds} rounds`,
    "",
    "| measure | rate | checks |",
    "|---|---:|---|",
    `| unary Verify, 64 in flight, ${args.seconds} s | ${fmt(median(u.map((x) => x.perSec)))} calls/s | ${wrongU} wrong of ${u.reduce((s, x) => s + x.calls, 0)} |`,
    `| VerifyStream, ${fmt(n)} items, window ${args.window} | ${fmt(median(st.map((x) => x.perSec)))} items/s (${median(st.map((x) => x.seconds)).toFixed(2)} s) | ${bad} wrong/missing/errors of ${n * rounds} |`,
  ];
  if (g.length > 0) {
    lines.push(
      `| ghz, unary Verify, -c 64 -n 20000 (Go client) | ${fmt(median(g.map((x) => x.perSec)))} calls/s | ${g.reduce((s, x) => s + x.n - x.ok, 0)} not OK of ${g.reduce((s, x) => s + x.n, 0)} |`,
    );
  }
  console.log(lines.join("\n"));
  const json = (_k, v) => (typeof v === "bigint" ? Number(v) : v);
  if (args.json) writeFileSync(args.json, JSON.stringify({ info, unary: u, stream: st, ghz: g }, json, 2));
}

await main();
