import { createRequire } from "node:module";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { createClient } from "@connectrpc/connect";
import { createGrpcWebTransport } from "@connectrpc/connect-node";
import * as grpc from "@grpc/grpc-js";
import { loadSync } from "@grpc/proto-loader";
import { service as healthService } from "grpc-health-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  DecidedBy,
  ErrorCode,
  Mode,
  RuleOutcome,
  type Verdict,
  VerdictSchema,
  VerifierService,
  VerifyBatchRequestSchema,
  type VerifyBatchResponse,
  type VerifyRequest,
  VerifyRequestSchema,
} from "../../src/gen/tinyv/v1/verifier_pb.js";
import {
  failure,
  grpcClient,
  openStream,
  startTinyv,
  streamAll,
  type Tinyv,
  unary,
} from "../support/tinyv.js";

const item = (id: string, groundTruth: string, response: string): VerifyRequest =>
  create(VerifyRequestSchema, { id, groundTruth, response });

describe("tinyv serve (rules only), over real sockets", () => {
  let server: Tinyv;
  let client: grpc.Client;

  beforeAll(async () => {
    server = await startTinyv(["--max-item-bytes", "4096", "--max-message-bytes", "1000000"]);
    client = grpcClient(server.grpcAddress);
  });
  afterAll(async () => {
    client?.close();
    expect(await server.stop()).toBe(0);
  });

  it("answers the README's curl call over Connect JSON", async () => {
    const res = await fetch(`${server.httpUrl}/tinyv.v1.VerifierService/Verify`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ groundTruth: "\\frac12", response: "so the answer is \\boxed{0.5}" }),
    });
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body).toMatchObject({
      correct: true,
      reward: 1,
      decidedBy: "DECIDED_BY_RULES",
      extractedAnswer: "0.5",
    });
  });

  it("keeps zero values in Connect JSON (a wrong answer says correct: false, reward: 0)", async () => {
    const res = await fetch(`${server.httpUrl}/tinyv.v1.VerifierService/Verify`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ id: "w", groundTruth: "2", response: "\\boxed{3}" }),
    });
    expect(await res.json()).toMatchObject({
      id: "w",
      correct: false,
      reward: 0,
      ruleOutcome: "RULE_OUTCOME_MISMATCH",
    });
  });

  it("verifies over grpc-js, unary and batch in request order", async () => {
    const v = await unary<Verdict>(client, "Verify", item("one", "3", "\\boxed{3}"));
    expect(v).toMatchObject({
      id: "one",
      correct: true,
      reward: 1,
      decidedBy: DecidedBy.RULES,
      mode: Mode.RULES_ONLY,
    });
    const batch = create(VerifyBatchRequestSchema, {
      items: [
        item("a", "7", "\\boxed{7}"),
        item("b", "7", "\\boxed{8}"),
        item("c", "\\frac{1}{2}", "\\boxed{0.5}"),
      ],
    });
    const res = await unary<VerifyBatchResponse>(client, "VerifyBatch", batch);
    expect(res.verdicts.map((x) => [x.id, x.correct])).toEqual([
      ["a", true],
      ["b", false],
      ["c", true],
    ]);
  });

  it("streams 10,000 items and answers each id exactly once", async () => {
    const items = Array.from({ length: 10_000 }, (_, i) =>
      item(`s${i}`, String(i % 97), `\\boxed{${i % 89}}`),
    );
    const verdicts = await streamAll(client, items);
    expect(verdicts).toHaveLength(10_000);
    const ids = new Set(verdicts.map((v) => v.id));
    expect(ids.size).toBe(10_000);
    for (const v of verdicts) {
      const i = Number(v.id.slice(1));
      expect(v.correct, JSON.stringify({ ...v, timings: undefined })).toBe(i % 97 === i % 89);
    }
  });

  it("gives bad items a per-item error and leaves their neighbours alone (batch and stream)", async () => {
    const big = "x".repeat(5000);
    const items = [
      item("ok1", "4", "\\boxed{4}"),
      item("empty", "", "\\boxed{4}"),
      item("huge", "4", big),
      item("ok2", "5", "\\boxed{5}"),
    ];
    const { verdicts } = await unary<VerifyBatchResponse>(
      client,
      "VerifyBatch",
      create(VerifyBatchRequestSchema, { items }),
    );
    const streamed = await streamAll(client, items);
    for (const set of [verdicts, streamed]) {
      const byId = new Map(set.map((v) => [v.id, v]));
      expect(byId.get("ok1")).toMatchObject({ correct: true, reward: 1 });
      expect(byId.get("ok2")).toMatchObject({ correct: true, reward: 1 });
      expect(byId.get("empty")?.error).toMatchObject({
        code: ErrorCode.INVALID_ARGUMENT,
        message: "ground_truth is empty",
      });
      expect(byId.get("huge")?.error?.code).toBe(ErrorCode.TOO_LARGE);
      expect(byId.get("huge")?.error?.message).toMatch(/response is 5000 bytes; the limit is 4096/);
      expect(byId.get("huge")?.reward).toBe(0);
    }
  });

  it("answers a malformed message with INVALID_ARGUMENT, and a malformed stream message with an error verdict", async () => {
    const garbage = Buffer.from([0x0a, 0xff, 0xff, 0xff]); // field 1, length far past the end
    const raw = new grpc.Client(server.grpcAddress, grpc.credentials.createInsecure());
    const status = await new Promise<grpc.ServiceError>((resolve) =>
      raw.makeUnaryRequest(
        "/tinyv.v1.VerifierService/Verify",
        (b: Buffer) => b,
        (b: Buffer) => b,
        garbage,
        (err) => resolve(err as grpc.ServiceError),
      ),
    );
    expect(status.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(status.details).toMatch(/cannot decode tinyv.v1.VerifyRequest/);

    const got = await new Promise<Verdict[]>((resolve, reject) => {
      const call = raw.makeBidiStreamRequest(
        "/tinyv.v1.VerifierService/VerifyStream",
        (b: Buffer) => b,
        (b: Buffer) => fromBinary(VerdictSchema, b),
      );
      const out: Verdict[] = [];
      call.on("data", (v: Verdict) => out.push(v));
      call.on("end", () => resolve(out));
      call.on("error", reject);
      call.write(Buffer.from(toBinary(VerifyRequestSchema, item("before", "1", "\\boxed{1}"))));
      call.write(garbage);
      call.write(Buffer.from(toBinary(VerifyRequestSchema, item("after", "1", "\\boxed{1}"))));
      call.end();
    });
    raw.close();
    expect(got).toHaveLength(3);
    expect(got.find((v) => v.id === "before")?.correct).toBe(true);
    expect(got.find((v) => v.id === "after")?.correct).toBe(true);
    expect(got.find((v) => v.id === "")?.error?.code).toBe(ErrorCode.INVALID_ARGUMENT);
  });

  it("rejects a message over the size limit with a clear RESOURCE_EXHAUSTED", async () => {
    const items = Array.from({ length: 400 }, (_, i) => item(`m${i}`, "1", "y".repeat(4000)));
    const err = await failure(unary(client, "VerifyBatch", create(VerifyBatchRequestSchema, { items })));
    expect(err.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    expect(err.details).toMatch(/larger than max/i);
  });

  it("survives clients that half-close early or cancel mid-stream", async () => {
    // Half-close right after writing: every verdict still arrives.
    const early = await streamAll(client, [item("h1", "1", "\\boxed{1}"), item("h2", "2", "\\boxed{3}")]);
    expect(early.map((v) => v.id).sort()).toEqual(["h1", "h2"]);

    // Cancel after the first verdicts of a long stream.
    await new Promise<void>((resolve) => {
      const call = openStream(client);
      let seen = 0;
      call.on("data", () => {
        if (++seen === 100) call.cancel();
      });
      call.on("error", (e: grpc.ServiceError) => {
        expect(e.code).toBe(grpc.status.CANCELLED);
        resolve();
      });
      for (let i = 0; i < 5000; i++) call.write(item(`c${i}`, "1", "\\boxed{1}"));
    });
    // A stream that is abandoned with no half-close, then the channel closed.
    const other = grpcClient(server.grpcAddress);
    const call = openStream(other);
    call.on("error", () => {});
    call.write(item("x", "1", "\\boxed{1}"));
    other.close();

    const v = await unary<Verdict>(client, "Verify", item("after-cancel", "9", "\\boxed{9}"));
    expect(v.correct).toBe(true);
  });

  it("reports SERVING on grpc.health.v1 and lists the service over reflection v1 and v1alpha", async () => {
    const Health = grpc.makeGenericClientConstructor(healthService, "Health");
    const health = new Health(server.grpcAddress, grpc.credentials.createInsecure());
    for (const svc of ["", "tinyv.v1.VerifierService"]) {
      const res = await unary<{ status: string }>(health, "check", { service: svc });
      expect(res.status).toBe("SERVING");
    }
    health.close();

    const require = createRequire(import.meta.url);
    for (const version of ["v1", "v1alpha"]) {
      const file = require.resolve(
        `@grpc/reflection/build/proto/grpc/reflection/${version}/reflection.proto`,
      );
      const pkg = grpc.loadPackageDefinition(loadSync(file)) as never as {
        grpc: { reflection: Record<string, { ServerReflection: grpc.ServiceClientConstructor }> };
      };
      const Reflection = pkg.grpc.reflection[version]?.ServerReflection as grpc.ServiceClientConstructor;
      const refl = new Reflection(server.grpcAddress, grpc.credentials.createInsecure());
      const names = await new Promise<string[]>((resolve, reject) => {
        const call = (
          refl as unknown as { ServerReflectionInfo: () => grpc.ClientDuplexStream<object, never> }
        ).ServerReflectionInfo();
        call.on("data", (res: { listServicesResponse?: { service: { name: string }[] } }) =>
          resolve(res.listServicesResponse?.service.map((s) => s.name) ?? []),
        );
        call.on("error", reject);
        call.write({ listServices: "" });
        call.end();
      });
      refl.close();
      expect(names).toContain("tinyv.v1.VerifierService");
      expect(names).toContain("grpc.health.v1.Health");
    }
  });

  it("serves the same service over gRPC-Web with Connect's client", async () => {
    const web = createClient(
      VerifierService,
      createGrpcWebTransport({ baseUrl: server.httpUrl, httpVersion: "1.1" }),
    );
    const info = await web.getServerInfo({});
    expect(info.defaultMode).toBe(Mode.RULES_ONLY);
    expect(Number(info.limits?.maxItemBytes)).toBe(4096);
    const v = await web.verify({ id: "web", groundTruth: "(1,2)", response: "\\boxed{(1,2)}" });
    expect(v).toMatchObject({ id: "web", correct: true, ruleOutcome: RuleOutcome.MATCH });
  });

  it("serves Prometheus metrics and the OpenRLHF endpoint on the HTTP port", async () => {
    const rm = await fetch(`${server.httpUrl}/openrlhf`, {
      method: "POST",
      body: JSON.stringify({
        query: ["Q? \\boxed{5}", "Q? \\boxed{6}"],
        prompts: ["Q? ", "Q? "],
        labels: ["5", "5"],
      }),
    });
    expect(await rm.json()).toMatchObject({ rewards: [1, 0], scores: [1, 0] });
    const bad = await fetch(`${server.httpUrl}/openrlhf`, {
      method: "POST",
      body: JSON.stringify({ query: ["a"] }),
    });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toMatch(/labels/);
    const metrics = await (await fetch(`${server.httpUrl}/metrics`)).text();
    expect(metrics).toMatch(/tinyv_items_total\{mode="RULES_ONLY",decided_by="RULES",rule_outcome="MATCH"/);
    expect(metrics).toMatch(/tinyv_item_errors_total\{code="TOO_LARGE"\} [1-9]/);
  });
});
