import http2 from "node:http2";
import { setTimeout as sleep } from "node:timers/promises";
import { create } from "@bufbuild/protobuf";
import type * as grpc from "@grpc/grpc-js";
import { afterEach, describe, expect, it } from "vitest";
import { type Verdict, VerifyRequestSchema } from "../../src/gen/tinyv/v1/verifier_pb.js";
import { grpcClient, openStream, startTinyv, type Tinyv } from "../support/tinyv.js";

const item = (i: number) =>
  create(VerifyRequestSchema, { id: String(i), groundTruth: "2", response: `\\boxed{${i % 3}}` });

/** Ms from connecting until the server's GOAWAY, and its error code (NO_ERROR is a graceful one). */
async function goawayAfter(address: string, waitMs = 5_000): Promise<{ ms: number; code: number }> {
  const started = Date.now();
  const session = http2.connect(`http://${address}`);
  session.on("error", () => undefined);
  try {
    return await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no GOAWAY within ${waitMs} ms`)), waitMs);
      session.once("goaway", (code) => {
        clearTimeout(timer);
        resolve({ ms: Date.now() - started, code });
      });
    });
  } finally {
    session.destroy();
  }
}

/** Writes one item every `everyMs` for `count` items on one stream, then half-closes; resolves to the outcome. */
function slowStream(client: grpc.Client, count: number, everyMs: number) {
  return new Promise<{ verdicts: Verdict[]; error?: grpc.ServiceError }>((resolve) => {
    const call = openStream(client);
    const verdicts: Verdict[] = [];
    call.on("data", (v: Verdict) => verdicts.push(v));
    call.on("end", () => resolve({ verdicts }));
    call.on("error", (error: grpc.ServiceError) => resolve({ verdicts, error }));
    (async () => {
      for (let i = 0; i < count; i++) {
        call.write(item(i));
        await sleep(everyMs);
      }
      call.end();
    })();
  });
}

describe("server-side max connection age (--max-connection-age-ms, --max-connection-age-grace-ms)", () => {
  let server: Tinyv | undefined;
  let client: grpc.Client | undefined;
  afterEach(async () => {
    client?.close();
    await server?.stop();
  });

  it("sends a graceful GOAWAY at about the age (within grpc-js's +-10% jitter), never without the setting", async () => {
    server = await startTinyv(["--max-connection-age-ms", "400", "--workers", "1"]);
    const { ms, code } = await goawayAfter(server.grpcAddress);
    expect(code).toBe(http2.constants.NGHTTP2_NO_ERROR);
    expect(ms).toBeGreaterThanOrEqual(350);
    expect(ms).toBeLessThan(2_000);
    await server.stop();

    server = await startTinyv(["--workers", "1"]);
    await expect(goawayAfter(server.grpcAddress, 1_500)).rejects.toThrow(/no GOAWAY/);
  }, 30_000);

  it("lets a stream open at the GOAWAY run to its end when there is no grace limit, and new calls reconnect", async () => {
    server = await startTinyv(["--max-connection-age-ms", "300", "--workers", "1"]);
    client = grpcClient(server.grpcAddress);
    // 24 items 50 ms apart: about 1.2 s on one stream, through at least two GOAWAYs' worth of age.
    const first = await slowStream(client, 24, 50);
    expect(first.error).toBeUndefined();
    expect(first.verdicts.map((v) => v.id).sort()).toEqual(
      Array.from({ length: 24 }, (_, i) => String(i)).sort(),
    );
    // The client's connection was closed by age; the next stream opens a new one.
    const second = await slowStream(client, 3, 0);
    expect(second.error).toBeUndefined();
    expect(second.verdicts).toHaveLength(3);
  }, 30_000);

  it("cuts a stream still open when the grace runs out (the Python and Rust clients resend its unanswered items)", async () => {
    server = await startTinyv([
      "--max-connection-age-ms",
      "300",
      "--max-connection-age-grace-ms",
      "200",
      "--workers",
      "1",
    ]);
    client = grpcClient(server.grpcAddress);
    const held = await slowStream(client, 60, 50); // 3 s, far past age + grace
    expect(held.error?.code).toBeDefined();
    expect(held.verdicts.length).toBeGreaterThan(0);
    expect(held.verdicts.length).toBeLessThan(60);
  }, 30_000);
});
