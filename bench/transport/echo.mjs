// Transport overhead alone: tinyv.v1.VerifierService with a handler that answers a
// constant Verdict at once (no verifier), served (a) by @grpc/grpc-js and (b) by
// @connectrpc/connect-node's gRPC handler on node:http2 (h2c), both called from the
// same grpc-js client. Measures unary Verify calls/s at 64 and at 1 in flight, and
// VerifyStream messages/s; rounds alternate a, b, a, b... and the table gives the
// median round and the median of the per-round ratios to grpc-js. A third server, connect-node with
// Nagle's algorithm off (socket.setNoDelay), shows what the default costs.
//
// The servers run in a child process (this file with --serve), the client here:
// two processes, so neither side steals the other's event loop.
//
// Usage (after `npm run build`):
//   node bench/transport/echo.mjs [--seconds 3] [--rounds 3] [--window 256] [--json OUT.json] [--ghz PATH]
import { fork } from "node:child_process";
import { once } from "node:events";
import { rmSync, writeFileSync } from "node:fs";
import http2 from "node:http2";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { create } from "@bufbuild/protobuf";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import * as grpc from "@grpc/grpc-js";
import {
  DecidedBy,
  LlmOutcome,
  Mode,
  RuleOutcome,
  ServerInfoSchema,
  VerdictSchema,
  VerifierService,
  VerifyBatchResponseSchema,
  VerifyRequestSchema,
} from "../../dist/gen/tinyv/v1/verifier_pb.js";
import { descriptorSet, serviceDefinition } from "../../dist/server/descriptor.js";
import { fmt, ghz, ghzPath, median } from "./common.mjs";

const { values: args } = parseArgs({
  options: {
    serve: { type: "boolean", default: false },
    seconds: { type: "string", default: "3" },
    rounds: { type: "string", default: "3" },
    window: { type: "string", default: "256" },
    json: { type: "string" },
    ghz: { type: "string", default: "" },
  },
});

/** A realistic verdict, every field set as the real server sets them. */
function verdict(id) {
  return create(VerdictSchema, {
    id,
    reward: 1,
    correct: true,
    decidedBy: DecidedBy.RULES,
    extractedAnswer: "0.5",
    ruleOutcome: RuleOutcome.MATCH,
    llmOutcome: LlmOutcome.NOT_ASKED,
    timings: { rulesMs: 0.05, llmMs: 0, totalMs: 0.1 },
    mode: Mode.RULES_ONLY,
  });
}

// ---------------------------------------------------------------- servers (child)

async function serve() {
  const grpcServer = new grpc.Server();
  grpcServer.addService(serviceDefinition(), {
    Verify: (call, cb) => cb(null, verdict(call.request.id)),
    VerifyBatch: (call, cb) =>
      cb(null, create(VerifyBatchResponseSchema, { verdicts: call.request.items.map((i) => verdict(i.id)) })),
    GetServerInfo: (_call, cb) => cb(null, create(ServerInfoSchema)),
    VerifyStream: (call) => {
      call.on("data", (req) => {
        if (!call.write(verdict(req.id))) {
          call.pause();
          call.once("drain", () => call.resume());
        }
      });
      call.on("end", () => call.end());
      call.on("error", () => {});
    },
  });
  const grpcPort = await new Promise((resolve, reject) =>
    grpcServer.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, port) =>
      err ? reject(err) : resolve(port),
    ),
  );

  const handler = connectNodeAdapter({
    routes: (router) =>
      router.service(VerifierService, {
        verify: (req) => verdict(req.id),
        verifyBatch: (req) => ({ verdicts: req.items.map((i) => verdict(i.id)) }),
        verifyStream: async function* (reqs) {
          for await (const req of reqs) yield verdict(req.id);
        },
        getServerInfo: () => ({}),
      }),
  });
  const h2 = http2.createServer(handler);
  h2.listen(0, "127.0.0.1");
  await once(h2, "listening");
  // The same, with Nagle's algorithm off on accepted sockets (node:http2 leaves it on).
  const h2nd = http2.createServer(handler);
  h2nd.on("connection", (socket) => socket.setNoDelay(true));
  h2nd.listen(0, "127.0.0.1");
  await once(h2nd, "listening");
  process.send({ grpcPort, connectPort: h2.address().port, noDelayPort: h2nd.address().port });
}

// ---------------------------------------------------------------- client (parent)

const Client = grpc.makeGenericClientConstructor(serviceDefinition(), "VerifierService");

function verify(client, req) {
  return new Promise((resolve, reject) =>
    client.Verify(req, (err, res) => (err ? reject(err) : resolve(res))),
  );
}

/** Unary Verify with `inflight` calls outstanding for `ms`; calls/s and mean latency. */
async function unary(client, inflight, ms) {
  const req = create(VerifyRequestSchema, {
    id: "x",
    groundTruth: "\\frac12",
    response: "the answer is \\boxed{0.5}",
  });
  const end = performance.now() + ms;
  let done = 0;
  let latency = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: inflight }, async () => {
      while (performance.now() < end) {
        const t0 = performance.now();
        await verify(client, req);
        latency += performance.now() - t0;
        done++;
      }
    }),
  );
  const elapsed = (performance.now() - start) / 1000;
  return { perSec: done / elapsed, meanMs: latency / done };
}

/** One VerifyStream kept `window` messages ahead of its replies for `ms`; replies/s. */
async function bidi(client, windowSize, ms) {
  const call = client.VerifyStream();
  let sent = 0;
  let got = 0;
  let stop = false;
  const start = performance.now();
  const finished = new Promise((resolve, reject) => {
    call.on("data", () => {
      got++;
      pump();
    });
    call.on("end", resolve);
    call.on("error", reject);
  });
  let blocked = false;
  function pump() {
    if (stop || blocked) return;
    while (sent - got < windowSize) {
      const ok = call.write(
        create(VerifyRequestSchema, { id: String(sent), groundTruth: "\\frac12", response: "\\boxed{0.5}" }),
      );
      sent++;
      if (!ok) {
        blocked = true;
        call.once("drain", () => {
          blocked = false;
          pump();
        });
        return;
      }
    }
  }
  pump();
  await new Promise((r) => setTimeout(r, ms));
  stop = true;
  const measured = got;
  const elapsed = (performance.now() - start) / 1000;
  call.end();
  await finished;
  if (got !== sent) throw new Error(`stream lost messages: sent ${sent}, got ${got}`);
  return { perSec: measured / elapsed };
}

// ghz's .proto parser rejects proto3 `optional`, and these servers have no reflection: hand ghz
// the compiled descriptors.
const PROTOSET = join(tmpdir(), `tinyv-${process.pid}.protoset`);

async function main() {
  const ms = Number(args.seconds) * 1000;
  const rounds = Number(args.rounds);
  const windowSize = Number(args.window);
  const child = fork(new URL(import.meta.url).pathname, ["--serve"], { stdio: "inherit" });
  const [ports] = await once(child, "message");
  const addresses = {
    "grpc-js": `127.0.0.1:${ports.grpcPort}`,
    "connect-node (h2c)": `127.0.0.1:${ports.connectPort}`,
    "connect-node (h2c, noDelay)": `127.0.0.1:${ports.noDelayPort}`,
  };
  const servers = Object.fromEntries(
    Object.entries(addresses).map(([name, address]) => [
      name,
      new Client(address, grpc.credentials.createInsecure()),
    ]),
  );
  const measures = {
    "unary Verify, 64 in flight (calls/s)": (c) => unary(c, 64, ms),
    "unary Verify, 1 in flight (calls/s)": (c) => unary(c, 1, ms),
    [`VerifyStream, window ${windowSize} (msgs/s)`]: (c) => bidi(c, windowSize, ms),
  };
  const ghzBin = ghzPath(args.ghz);
  if (ghzBin) {
    writeFileSync(PROTOSET, descriptorSet());
    measures["unary Verify, ghz -c 64 -n 10000 (calls/s)"] = (_c, name) => {
      const res = ghz(ghzBin, addresses[name], 10000, PROTOSET);
      if (res.ok !== res.n) throw new Error(`ghz: ${res.ok} of ${res.n} calls OK against ${name}`);
      return res;
    };
  }
  const results = {};
  try {
    // Warm-up: connections, JIT, both servers.
    for (const client of Object.values(servers)) {
      await unary(client, 64, 500);
      await unary(client, 1, 300);
      await bidi(client, windowSize, 500);
    }
    for (const [measure, fn] of Object.entries(measures)) {
      results[measure] = Object.fromEntries(Object.keys(servers).map((s) => [s, []]));
      for (let r = 0; r < rounds; r++) {
        for (const [name, client] of Object.entries(servers)) {
          const res = await fn(client, name);
          results[measure][name].push(res);
          process.stderr.write(
            `${measure} | ${name} | round ${r + 1}: ${fmt(res.perSec)}${res.meanMs ? ` (mean ${res.meanMs.toFixed(3)} ms)` : ""}\n`,
          );
        }
      }
    }
  } finally {
    for (const c of Object.values(servers)) c.close();
    child.kill();
    rmSync(PROTOSET, { force: true });
  }

  const [a, ...others] = Object.keys(servers);
  const lines = [
    `| measure (median of ${rounds} × ${args.seconds} s) | ${[a, ...others].join(" | ")} | ${others.map((o) => `${o} / ${a}`).join(" | ")} |`,
    `|---|${[a, ...others, ...others].map(() => "---:").join("|")}|`,
  ];
  const summary = {};
  for (const [measure, byServer] of Object.entries(results)) {
    const rate = (s) => median(byServer[s].map((x) => x.perSec));
    const lat = (s) =>
      byServer[s][0].meanMs ? ` (${median(byServer[s].map((x) => x.meanMs)).toFixed(3)} ms)` : "";
    const cells = [a, ...others].map((s) => `${fmt(rate(s))}${lat(s)}`);
    // Ratio per round (the two ran back to back), then the median: steadier than a ratio of medians.
    const ratio = (s) => median(byServer[s].map((x, i) => x.perSec / byServer[a][i].perSec));
    const ratios = others.map((s) => ratio(s).toFixed(2));
    lines.push(`| ${measure} | ${cells.join(" | ")} | ${ratios.join(" | ")} |`);
    summary[measure] = Object.fromEntries(
      [a, ...others].map((s) => [s, { median: rate(s), rounds: byServer[s] }]),
    );
  }
  console.log(lines.join("\n"));
  if (args.json) writeFileSync(args.json, JSON.stringify(summary, null, 2));
}

if (args.serve) await serve();
else await main();
