/**
 * Drives the transport fuzzer (test/fuzz/transport.ts) against a running server: `lanes` concurrent
 * sequences of generated ops (lane i, batch k is fast-check's sample with seed SEED + i * 1e6 + k, so
 * any op can be made again), and a control client calling Verify every 100 ms, alternating between
 * grpc-js on the gRPC port and Connect JSON on the HTTP port, which must always answer right.
 */

import { create } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import fc from "fast-check";
import { VerifyRequestSchema } from "../../src/gen/tinyv/v1/verifier_pb.js";
import { serviceDefinition } from "../../src/server/descriptor.js";
import { describeOp, type Op, opArb, runOp, type Target } from "./transport.js";

export interface Found {
  op: Op;
  problem: string;
}

export interface FuzzReport {
  ops: number;
  byType: Record<string, number>;
  found: Found[];
  control: { calls: number; failures: string[]; ms: number[] };
}

export interface FuzzOptions {
  lanes: number;
  durationMs: number;
  seed: number;
  /** Stop early once this many problems are found. */
  maxFound?: number;
  onProgress?: (r: FuzzReport) => void;
}

const BATCH = 20;
const CONTROL_EVERY_MS = 100;
const Verifier = grpc.makeGenericClientConstructor(serviceDefinition(), "VerifierService");

/** One right-answer Verify, on one port or the other; resolves to its latency, or throws. */
async function controlCall(target: Target, client: grpc.Client, n: number): Promise<number> {
  const t0 = performance.now();
  const fields = { id: `control-${n}`, groundTruth: "\\frac12", response: "\\boxed{0.5}" };
  let correct: boolean;
  if (n % 2 === 0) {
    correct = await new Promise((resolve, reject) =>
      (
        client as unknown as {
          Verify: (r: unknown, o: grpc.CallOptions, cb: grpc.requestCallback<{ correct: boolean }>) => void;
        }
      ).Verify(create(VerifyRequestSchema, fields), { deadline: Date.now() + 10_000 }, (err, res) =>
        err ? reject(err) : resolve(Boolean(res?.correct)),
      ),
    );
  } else {
    const res = await fetch(`http://127.0.0.1:${target.httpPort}/tinyv.v1.VerifierService/Verify`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(fields),
      signal: AbortSignal.timeout(10_000),
    });
    if (res.status !== 200) throw new Error(`HTTP ${res.status}`);
    correct = ((await res.json()) as { correct: boolean }).correct;
  }
  if (!correct) throw new Error("control verdict wrong");
  return performance.now() - t0;
}

export async function fuzzTransport(target: Target, options: FuzzOptions): Promise<FuzzReport> {
  const report: FuzzReport = { ops: 0, byType: {}, found: [], control: { calls: 0, failures: [], ms: [] } };
  const deadline = Date.now() + options.durationMs;
  const done = () =>
    Date.now() >= deadline || report.found.length >= (options.maxFound ?? Number.POSITIVE_INFINITY);

  const controlClient = new Verifier(target.grpcAddress, grpc.credentials.createInsecure(), {
    "grpc.use_local_subchannel_pool": 1,
  });
  const control = (async () => {
    for (let n = 0; !done(); n++) {
      const next = Date.now() + CONTROL_EVERY_MS;
      try {
        report.control.ms.push(await controlCall(target, controlClient, n));
      } catch (err) {
        report.control.failures.push(`${n % 2 === 0 ? "grpc" : "connect"}: ${(err as Error).message}`);
      }
      report.control.calls++;
      await new Promise((r) => setTimeout(r, Math.max(0, next - Date.now())));
    }
  })();

  const lane = async (i: number) => {
    // Each lane has a connection of its own.
    const client = new grpc.Client(target.grpcAddress, grpc.credentials.createInsecure(), {
      "grpc.use_local_subchannel_pool": 1,
      "grpc.max_send_message_length": -1,
      "grpc.max_receive_message_length": -1,
    });
    for (let k = 0; !done(); k++) {
      const ops = fc.sample(opArb, { seed: options.seed + i * 1_000_000 + k, numRuns: BATCH });
      for (const op of ops) {
        if (done()) break;
        const problem = await runOp(target, op, client);
        report.ops++;
        report.byType[op.t] = (report.byType[op.t] ?? 0) + 1;
        if (problem) report.found.push({ op, problem });
      }
      options.onProgress?.(report);
    }
    client.close();
  };
  await Promise.all(Array.from({ length: options.lanes }, (_, i) => lane(i)));
  await control;
  controlClient.close();
  return report;
}

export function summarize(r: FuzzReport): string {
  const ms = [...r.control.ms].sort((a, b) => a - b);
  const q = (p: number) =>
    ms.length ? (ms[Math.min(ms.length - 1, Math.floor(p * ms.length))] as number) : Number.NaN;
  const lines = [
    `ops: ${r.ops} ${JSON.stringify(r.byType)}`,
    `problems: ${r.found.length}`,
    `control Verify: ${r.control.calls} calls, ${r.control.failures.length} failed; p50 ${q(0.5).toFixed(1)} ms, p99 ${q(0.99).toFixed(1)} ms, max ${(ms[ms.length - 1] ?? Number.NaN).toFixed(1)} ms`,
    ...r.found.slice(0, 20).map((f) => `  PROBLEM ${f.problem.slice(0, 300)} <- ${describeOp(f.op)}`),
    ...r.control.failures.slice(0, 10).map((f) => `  CONTROL FAILED ${f}`),
  ];
  return lines.join("\n");
}
