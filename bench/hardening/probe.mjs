// A plain Verify client in a process of its own (so the load's event loop cannot delay it): one call
// every INTERVAL ms, one at a time, each timed. On stdin's close it prints one JSON line:
// {"samples": [[secondsSinceStart, ms, ok], ...]}.
// Usage: node probe.mjs ADDRESS INTERVAL_MS
import { create } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import { VerifyRequestSchema } from "../../dist/gen/tinyv/v1/verifier_pb.js";
import { serviceDefinition } from "../../dist/server/descriptor.js";

const [address, interval] = process.argv.slice(2);
const Client = grpc.makeGenericClientConstructor(serviceDefinition(), "VerifierService");
const client = new Client(address, grpc.credentials.createInsecure());
const request = create(VerifyRequestSchema, {
  id: "probe",
  groundTruth: "\\frac{1}{2}",
  response: "\\boxed{0.5}",
});
const samples = [];
const start = performance.now();
let running = true;

async function loop() {
  while (running) {
    const t0 = performance.now();
    const ok = await new Promise((resolve) =>
      client.Verify(request, { deadline: Date.now() + 10_000 }, (err, v) => resolve(!err && v.correct)),
    );
    const t1 = performance.now();
    samples.push([Math.round((t0 - start) / 10) / 100, Math.round((t1 - t0) * 100) / 100, ok]);
    await new Promise((r) => setTimeout(r, Math.max(0, Number(interval) - (t1 - t0))));
  }
}

process.stdin.on("close", () => {
  running = false;
  process.stdout.write(`${JSON.stringify({ samples })}\n`, () => process.exit(0));
});
process.stdin.resume();
loop();
