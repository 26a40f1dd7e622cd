/**
 * A short run of the transport fuzzer on every CI run (the long run is bench/fuzz/transport.mjs):
 * 25 s of generated ops on 4 lanes against a real `tinyv serve`, with a fresh seed each time (printed,
 * and each problem names its op), while a control client calls Verify every 100 ms on both ports.
 * Afterwards the server is alive, holds no stream open, and logged no handler failure.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTinyv, type Tinyv } from "../support/tinyv.js";
import { eventually } from "../support/wait.js";
import { describeOp } from "./transport.js";
import { fuzzTransport, summarize } from "./transport-run.js";

const RUN_MS = 25_000;

describe("fuzz: both ports of a real server", () => {
  let t: Tinyv;
  beforeAll(async () => {
    t = await startTinyv(["--log-level", "warn"]);
  });
  afterAll(() => t.stop());

  it("garbage gets a clear answer, every call ends, the control client is always served", async () => {
    const seed = Math.floor(Math.random() * 2 ** 31);
    const target = { grpcAddress: t.grpcAddress, httpPort: t.httpPort };
    const report = await fuzzTransport(target, { lanes: 4, durationMs: RUN_MS, seed, maxFound: 5 });
    // Known and open (test/fuzz/corpus/transport/reflection-compressed-no-encoding.json): grpc-js never
    // ends a reflection stream whose client half-closes inside a message. The bench still reports it.
    const known = (f: (typeof report.found)[number]) =>
      f.problem.startsWith("no end within") &&
      "path" in f.op &&
      f.op.path === "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo";
    const found = report.found
      .filter((f) => !known(f))
      .map((f) => `${f.problem} <- ${describeOp(f.op)} ${JSON.stringify(f.op).slice(0, 2000)}`);
    expect(found, `seed ${seed}\n${summarize(report)}`).toEqual([]);
    expect(report.control.failures, `seed ${seed}`).toEqual([]);
    expect(report.control.calls).toBeGreaterThan(20);
    expect(report.ops).toBeGreaterThan(100);
    expect(t.proc.exitCode).toBeNull();
    await eventually(async () => {
      const text = await (await fetch(`${t.httpUrl}/metrics`)).text();
      return /^tinyv_open_streams 0$/m.test(text);
    }, 10_000);
    expect(t.stderr()).not.toMatch(/failed|uncaught|unhandled/i);
  }, 90_000);
});
