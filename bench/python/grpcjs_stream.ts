// The grpc-js client's rate on one VerifyStream, to set the Python SDK's stream against it.
// Usage: node --import ./bench/llm/ts.mjs bench/python/grpcjs_stream.ts HOST:PORT ITEMS.jsonl [REPS=1]
// Each line of ITEMS.jsonl: {"id", "question", "ground_truth", "response"}. Prints one JSON line per rep.
import { readFileSync } from "node:fs";
import { create } from "@bufbuild/protobuf";
import { VerifyRequestSchema } from "../../src/gen/tinyv/v1/verifier_pb.js";
import { grpcClient, streamAll } from "../../test/support/tinyv.js";

const [address, file, reps = "1"] = process.argv.slice(2);
if (!address || !file) throw new Error("usage: grpcjs_stream.ts HOST:PORT ITEMS.jsonl [REPS]");
const items = readFileSync(file, "utf8")
  .split("\n")
  .filter((line) => line.trim())
  .map((line) => {
    const row = JSON.parse(line);
    return create(VerifyRequestSchema, {
      id: row.id,
      question: row.question,
      groundTruth: row.ground_truth,
      response: row.response,
    });
  });
const client = grpcClient(address);
await streamAll(client, items.slice(0, 256)); // warm up the connection and the rule workers
for (let rep = 0; rep < Number(reps); rep++) {
  const start = performance.now();
  const verdicts = await streamAll(client, items);
  const seconds = (performance.now() - start) / 1000;
  if (verdicts.length !== items.length)
    throw new Error(`${verdicts.length} verdicts for ${items.length} items`);
  console.log(JSON.stringify({ items: items.length, seconds, rate: items.length / seconds }));
}
client.close();
