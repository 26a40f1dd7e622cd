import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import https from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import { describe, expect, it } from "vitest";
import { type Verdict, VerifyRequestSchema } from "../../src/gen/tinyv/v1/verifier_pb.js";
import { serviceDefinition } from "../../src/server/descriptor.js";
import { FakeVllm } from "../support/fake-vllm.js";
import { readJsonl, runCli } from "../support/run-cli.js";
import { CLI, failure, grpcClient, openStream, startTinyv, unary } from "../support/tinyv.js";
import { selfSignedCert } from "../support/tls.js";

const run = (args: string[], env: NodeJS.ProcessEnv = {}) =>
  spawnSync(process.execPath, [CLI, ...args], {
    encoding: "utf8",
    env: { ...process.env, ...env },
    timeout: 60_000,
  });

/** A labelled JSONL file of these rows (then `extra`, raw) in a new folder, and where `--out` may write. */
function labelledFile(rows: object[], extra = "") {
  const dir = mkdtempSync(join(tmpdir(), "tinyv-"));
  const file = join(dir, "set.jsonl");
  writeFileSync(file, `${rows.map((r) => JSON.stringify(r)).join("\n")}\n${extra}`);
  return { file, out: join(dir, "out.jsonl") };
}

describe("tinyv CLI", () => {
  it("rejects a bad setting with one line naming it and exit code 2 (flag, env, file)", () => {
    const flag = run(["serve", "--port", "70000"]);
    expect(flag.status).toBe(2);
    expect(flag.stderr.trim().split("\n")).toHaveLength(1);
    expect(flag.stderr).toMatch(/--port="70000"/);

    const env = run(["serve"], { TINYV_MODE: "fancy" });
    expect(env.status).toBe(2);
    expect(env.stderr).toMatch(/TINYV_MODE/);

    const dir = mkdtempSync(join(tmpdir(), "tinyv-"));
    const file = join(dir, "config.json");
    writeFileSync(file, JSON.stringify({ llmWeight: 3 }));
    const fromFile = run(["serve", "--config", file]);
    expect(fromFile.status).toBe(2);
    expect(fromFile.stderr).toMatch(/llmWeight/);

    writeFileSync(file, JSON.stringify({ colour: "blue" }));
    expect(run(["serve", "--config", file]).stderr).toMatch(/unknown setting "colour"/);
    expect(run(["serve", "--no-such-flag"]).status).toBe(2);
  });

  it("takes settings from a config file, overridden by env, overridden by flags", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tinyv-"));
    const file = join(dir, "config.json");
    writeFileSync(file, JSON.stringify({ maxBatchItems: 5, maxItemBytes: 100 }));
    const server = await startTinyv(["--config", file, "--max-item-bytes", "300"], {
      TINYV_MAX_BATCH_ITEMS: "7",
    });
    const client = grpcClient(server.grpcAddress);
    const info = await unary<{ limits: { maxBatchItems: number; maxItemBytes: bigint } }>(
      client,
      "GetServerInfo",
      {},
    );
    expect(info.limits.maxBatchItems).toBe(7);
    expect(info.limits.maxItemBytes).toBe(300n);
    client.close();
    await server.stop();
  });

  it("check prints one verdict as JSON", () => {
    const ok = run(["check", "--gold", "\\frac12", "--response", "The answer is \\boxed{0.5}."]);
    expect(ok.status).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ correct: true, reward: 1, decidedBy: "DECIDED_BY_RULES" });
    const wrong = run(["check", "--gold", "10", "--response", "\\boxed{100}"]);
    expect(JSON.parse(wrong.stdout)).toMatchObject({
      correct: false,
      reward: 0,
      ruleOutcome: "RULE_OUTCOME_MISMATCH",
    });
    expect(run(["check", "--gold", "1"]).status).toBe(2);
  });

  it("eval reports recall and false positives, writes --out, and names each skipped line", () => {
    const { file, out } = labelledFile(
      [
        { id: "p1", question: "q", ground_truth: "2", response: "\\boxed{2}", label: true },
        { id: "p2", question: "q", ground_truth: "1/2", response: "\\boxed{0.5}", label: true },
        { id: "n1", question: "q", ground_truth: "2", response: "\\boxed{3}", label: false },
      ],
      `{not json\n{"id":"x","ground_truth":"1","response":"1"}\n`,
    );
    const res = run(["eval", file, "--out", out, "--mode", "rules_only"]);
    expect(res.stderr).toMatch(/set.jsonl:4: skipped: not JSON/);
    expect(res.stderr).toMatch(/set.jsonl:5: skipped: "label" must be true or false/);
    expect(res.stdout).toMatch(/correct accepted \(recall\): 2\/2/);
    expect(res.stdout).toMatch(/wrong accepted \(false positives\): 0\/1/);
    expect(res.stdout).toMatch(/skipped lines: 2/);
    expect(res.status).toBe(1); // skipped input is not a clean run
    const written = readJsonl(out);
    expect(written.map((r) => [r.id, r.correct])).toEqual([
      ["p1", true],
      ["p2", true],
      ["n1", false],
    ]);
    expect(written[0]).toMatchObject({
      label: true,
      reward: 1,
      decided_by: "RULES",
      rule_outcome: "MATCH",
      extracted_answer: "2",
    });
    const json = run(["eval", file, "--json"]);
    expect(JSON.parse(json.stdout).total).toMatchObject({ n: 3, acceptedCorrect: 2, acceptedWrong: 0 });
  });

  it("eval --out rows say why the LLM gave no verdict (llm_detail), and only then", async () => {
    // The stand-in: a backend error for one answer, text that is neither True nor False for another.
    const llm = await FakeVllm.start({
      script: (call) =>
        call.answer === "5"
          ? { status: 500, message: "CUDA out of memory" }
          : call.answer === "6"
            ? { text: "Perhaps." }
            : { text: "True" },
    });
    try {
      const { file, out } = labelledFile([
        { id: "err", question: "q", ground_truth: "4", response: "\\boxed{5}", label: false },
        { id: "odd", question: "q", ground_truth: "4", response: "\\boxed{6}", label: false },
        { id: "yes", question: "q", ground_truth: "4", response: "\\boxed{7}", label: true },
        { id: "rules", question: "q", ground_truth: "4", response: "\\boxed{4}", label: true },
      ]);
      const res = await runCli(["eval", file, "--out", out, "--llm-url", llm.url, "--llm-retries", "0"]);
      expect(res.status, res.stderr).toBe(0);
      const byId = Object.fromEntries(readJsonl(out).map((r) => [r.id, r]));
      expect(byId.err).toMatchObject({ llm_outcome: "ERROR", llm_detail: expect.stringMatching(/500/) });
      expect(byId.err.llm_detail).toContain("CUDA out of memory");
      expect(byId.odd).toMatchObject({ llm_outcome: "UNPARSEABLE", llm_detail: expect.any(String) });
      expect(byId.odd.llm_detail).not.toBe("");
      expect(byId.yes).toMatchObject({ llm_outcome: "TRUE", decided_by: "LLM", correct: true });
      expect(byId.yes).not.toHaveProperty("llm_detail");
      expect(byId.rules).toMatchObject({ llm_outcome: "NOT_ASKED", decided_by: "RULES" });
      expect(byId.rules).not.toHaveProperty("llm_detail");
    } finally {
      await llm.stop();
    }
  });

  it("on SIGTERM answers every item it read, ends open streams with UNAVAILABLE, and exits 0", async () => {
    const server = await startTinyv();
    const client = grpcClient(server.grpcAddress);
    const call = openStream(client);
    const got: Verdict[] = [];
    const ended = new Promise<grpc.ServiceError | undefined>((resolve) => {
      call.on("data", (v: Verdict) => got.push(v));
      call.on("end", () => resolve(undefined));
      call.on("error", (e: grpc.ServiceError) => resolve(e));
    });
    for (let i = 0; i < 20_000; i++) {
      call.write(create(VerifyRequestSchema, { id: `t${i}`, groundTruth: "1", response: "\\boxed{1}" }));
    }
    // Stop once the stream is surely under way, with many items still unsent or in flight. The client
    // never half-closes: only the drain can end this stream, and well before the 30 s grace period.
    await new Promise<void>((resolve) => call.once("data", () => resolve()));
    const started = Date.now();
    const exit = server.stop("SIGTERM");
    const err = await ended;
    expect(err?.code).toBe(grpc.status.UNAVAILABLE);
    const read = Number(/the (\d+) items read were answered/.exec(err?.details ?? "")?.[1]);
    expect(got.length).toBe(read);
    expect(new Set(got.map((v) => v.id)).size).toBe(read);
    expect(got.every((v) => v.correct)).toBe(true);
    expect(await exit).toBe(0);
    expect(Date.now() - started).toBeLessThan(15_000);
    client.close();
  });

  it("requires the bearer token when one is set", async () => {
    const server = await startTinyv(["--auth-token", "s3cret"]);
    const client = grpcClient(server.grpcAddress);
    const req = create(VerifyRequestSchema, { groundTruth: "1", response: "1" });
    const denied = await failure(unary(client, "Verify", req));
    expect(denied.code).toBe(grpc.status.UNAUTHENTICATED);
    const md = new grpc.Metadata();
    md.set("authorization", "Bearer s3cret");
    expect((await unary<Verdict>(client, "Verify", req, md)).correct).toBe(true);
    const http = await fetch(`${server.httpUrl}/tinyv.v1.VerifierService/Verify`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ groundTruth: "1", response: "1" }),
    });
    expect(http.status).toBe(401);
    client.close();
    await server.stop();
  });

  it("serves gRPC and HTTP over TLS when given a certificate", async () => {
    const { key, cert } = selfSignedCert();
    const server = await startTinyv(["--tls-cert", cert, "--tls-key", key]);
    const ca = readFileSync(cert);
    const VerifierClient = grpc.makeGenericClientConstructor(serviceDefinition(), "VerifierService");
    const client = new VerifierClient(`localhost:${server.grpcPort}`, grpc.credentials.createSsl(ca));
    const v = await unary<Verdict>(
      client,
      "Verify",
      create(VerifyRequestSchema, { groundTruth: "2", response: "\\boxed{2}" }),
    );
    expect(v.correct).toBe(true);
    client.close();
    const body = await new Promise<string>((resolve, reject) => {
      const req = https.request(
        `https://localhost:${server.httpPort}/tinyv.v1.VerifierService/Verify`,
        { method: "POST", ca, headers: { "content-type": "application/json" } },
        (res) => {
          let data = "";
          res.on("data", (d) => (data += d));
          res.on("end", () => resolve(data));
        },
      );
      req.on("error", reject);
      req.end(JSON.stringify({ groundTruth: "2", response: "\\boxed{2}" }));
    });
    expect(JSON.parse(body)).toMatchObject({ correct: true, reward: 1 });
    await server.stop();
  });
});
