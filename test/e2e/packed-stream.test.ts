/**
 * VerifyPackedStream against a real `tinyv serve`: many items to a message each way (what the Python
 * SDK's coalescer rides), the same verdicts as VerifyStream, and the batch limit on a pack.
 */
import { create } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type VerdictPack,
  type VerifyPack,
  VerifyPackSchema,
  VerifyRequestSchema,
} from "../../src/gen/tinyv/v1/verifier_pb.js";
import { grpcClient, startTinyv, type Tinyv } from "../support/tinyv.js";

type PackedCall = grpc.ClientDuplexStream<VerifyPack, VerdictPack>;

function packed(client: grpc.Client): PackedCall {
  return (client as unknown as { VerifyPackedStream: (md: grpc.Metadata) => PackedCall }).VerifyPackedStream(
    new grpc.Metadata(),
  );
}

/** Send the packs, half-close, and collect every pack of verdicts (or the call's error). */
function run(
  client: grpc.Client,
  packs: VerifyPack[],
): Promise<{ packs: VerdictPack[]; error?: grpc.ServiceError }> {
  return new Promise((resolve) => {
    const call = packed(client);
    const got: VerdictPack[] = [];
    call.on("data", (p: VerdictPack) => got.push(p));
    call.on("end", () => resolve({ packs: got }));
    call.on("error", (error: grpc.ServiceError) => resolve({ packs: got, error }));
    for (const p of packs) call.write(p);
    call.end();
  });
}

const pack = (from: number, n: number) =>
  create(VerifyPackSchema, {
    items: Array.from({ length: n }, (_, k) => {
      const i = from + k;
      // Every third answer is wrong: the rules reject it.
      return create(VerifyRequestSchema, {
        id: `i${i}`,
        groundTruth: String(i),
        response: `\\boxed{${i % 3 ? i : i + 1}}`,
      });
    }),
  });

describe("VerifyPackedStream", () => {
  let t: Tinyv;
  let client: grpc.Client;
  beforeAll(async () => {
    t = await startTinyv(["--max-batch-items", "200", "--log-level", "warn"]);
    client = grpcClient(t.grpcAddress);
  });
  afterAll(async () => {
    client.close();
    await t.stop();
  });

  it("answers every item of every pack once, by id, in packs of the verdicts ready", async () => {
    const { packs, error } = await run(
      client,
      Array.from({ length: 20 }, (_, p) => pack(p * 100, 100)),
    );
    expect(error).toBeUndefined();
    const verdicts = packs.flatMap((p) => p.verdicts);
    expect(verdicts).toHaveLength(2000);
    const byId = new Map(verdicts.map((v) => [v.id, v]));
    expect(byId.size).toBe(2000);
    for (let i = 0; i < 2000; i++) expect(byId.get(`i${i}`)?.correct).toBe(i % 3 !== 0);
    // Packed both ways: far fewer messages than verdicts came back.
    expect(packs.length).toBeLessThan(1000);
    expect(Math.max(...packs.map((p) => p.verdicts.length))).toBeGreaterThan(1);
  }, 60_000);

  it("a pack over --max-batch-items ends the call with INVALID_ARGUMENT, naming the limit", async () => {
    const { error } = await run(client, [pack(0, 10), pack(10, 201)]);
    expect(error?.code).toBe(3);
    expect(error?.details).toMatch(/201 items; the limit is 200 \(--max-batch-items\)/);
  }, 30_000);

  it("an empty pack is no item, and the stream still ends", async () => {
    const { packs, error } = await run(client, [create(VerifyPackSchema, {}), pack(0, 3)]);
    expect(error).toBeUndefined();
    expect(packs.flatMap((p) => p.verdicts.map((v) => v.id)).sort()).toEqual(["i0", "i1", "i2"]);
  }, 30_000);
});
