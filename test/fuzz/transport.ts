/**
 * Fuzzing a real `tinyv serve` over its two ports, shared by the bounded test
 * (test/fuzz/transport.test.ts) and the long bench (bench/fuzz/transport.mjs).
 *
 * An operation (`Op`, plain JSON, so a failing one is saved and replayed as is) is one of:
 * - grpc-unary / grpc-stream: grpc-js calls carrying raw bytes (random, mutated or valid protobuf);
 * - h2: a hand-made HTTP/2 request (node:http2) with odd headers and gRPC frames, cut at a random
 *   byte and then ended, reset or dropped with the connection;
 * - h2-frames: the HTTP/2 preface and random frames on a bare socket;
 * - http: a Connect (JSON or binary, unary or streaming, gzip or not), gRPC-Web or trainer-route
 *   request over node:http, cut and ended or dropped;
 * - http-raw: random HTTP/1.1 bytes on a bare socket.
 * What each must do: end within OP_BOUND_MS when the client ends it; never a 5xx (500, 502, 503)
 * or a gRPC UNKNOWN / INTERNAL / DATA_LOSS for client garbage; never an item error INTERNAL; a
 * half-closed stream gets one verdict per message. Meanwhile a control client calls Verify every
 * 100 ms on both ports and must always get the right verdict.
 */
import http from "node:http";
import http2 from "node:http2";
import net from "node:net";
import { gzipSync } from "node:zlib";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import fc from "fast-check";
import {
  ErrorCode,
  VerdictSchema,
  VerifyBatchRequestSchema,
  VerifyBatchResponseSchema,
  VerifyRequestSchema,
} from "../../src/gen/tinyv/v1/verifier_pb.js";
import { PIECES } from "./latex.js";

/** Bytes as base64, so an Op is plain JSON. */
type B64 = string;

export type Op =
  | { t: "grpc-unary"; method: string; body: B64; timeoutMs?: number }
  | { t: "grpc-stream"; messages: B64[]; end: "half-close" | "cancel" | "unread-cancel" }
  | {
      t: "h2";
      path: string;
      headers: Record<string, string>;
      body: B64;
      cut: number;
      end: "end" | "rst" | "destroy";
      read: boolean;
    }
  | { t: "h2-frames"; bytes: B64 }
  | {
      t: "http";
      path: string;
      headers: Record<string, string>;
      body: B64;
      cut: number;
      end: "end" | "destroy";
    }
  | { t: "http-raw"; bytes: B64 };

export interface Target {
  grpcAddress: string;
  httpPort: number;
}

/** Far past the rule budget (2 s) and any item's LLM-free path: a call not over by then is hung. */
export const OP_BOUND_MS = 20_000;
const SERVICE = "/tinyv.v1.VerifierService/";
const METHODS = ["Verify", "VerifyBatch", "VerifyStream", "GetServerInfo"];
const BAD_GRPC = new Set([grpc.status.UNKNOWN, grpc.status.INTERNAL, grpc.status.DATA_LOSS]);
/**
 * INTERNAL that grpc-js itself sends, before any handler runs, for a malformed grpc-timeout header
 * and for a compressed message that does not decompress (grpc-go answers both with Internal too).
 * No server interceptor sees these, so they are reported apart, not as our faults.
 */
const LIBRARY_INTERNAL = /^(?:Invalid grpc-timeout value|Failed to decompress message)/;

/** A gRPC status that is the server's fault, not the client's. */
export function badStatus(code: number, details: string): boolean {
  return BAD_GRPC.has(code) && !(code === grpc.status.INTERNAL && LIBRARY_INTERNAL.test(details));
}

const safeDecode = (s: string) => {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
};
const b64 = (u: Uint8Array) => Buffer.from(u).toString("base64");
const unb64 = (s: B64) => Buffer.from(s, "base64");

// ---------------------------------------------------------------- message bodies

const text = fc.oneof(
  fc.array(fc.constantFrom(...PIECES), { maxLength: 20 }).map((xs) => xs.join("")),
  fc.string({ unit: "binary", maxLength: 60 }),
  fc.constantFrom("3", "\\boxed{3}", "\\frac12", "\\boxed{0.5}", ""),
);

const optionsArb = fc.record(
  {
    mode: fc.oneof(fc.integer({ min: 0, max: 4 }), fc.integer({ min: -5, max: 1000 })),
    llmWeight: fc.double(),
    softReward: fc.boolean(),
  },
  { requiredKeys: [] },
);

const requestArb = fc.record(
  {
    id: fc.string({ maxLength: 20 }),
    question: text,
    groundTruth: text,
    response: text,
    options: optionsArb,
    dataSource: fc.string({ maxLength: 10 }),
  },
  { requiredKeys: [] },
);

const varint = (n: number): number[] => {
  const out: number[] = [];
  let x = n;
  while (x > 127) {
    out.push((x & 127) | 128);
    x = Math.floor(x / 128);
  }
  out.push(x);
  return out;
};

/** Length-delimited field 99 nested `depth` deep (unknown to every message). */
function nestedUnknown(depth: number): Uint8Array {
  let inner: number[] = [];
  for (let i = 0; i < depth; i++) inner = [0x9a, 0x06, ...varint(inner.length), ...inner];
  return Uint8Array.from(inner);
}

/** Protobuf bytes: valid, mutated, or hostile by construction. */
const protoArb: fc.Arbitrary<Uint8Array> = fc.oneof(
  {
    weight: 4,
    arbitrary: requestArb.map((r) => toBinary(VerifyRequestSchema, create(VerifyRequestSchema, r))),
  },
  {
    weight: 4,
    arbitrary: fc
      .tuple(
        requestArb.map((r) => toBinary(VerifyRequestSchema, create(VerifyRequestSchema, r))),
        fc.array(fc.tuple(fc.nat(), fc.nat(), fc.integer({ min: 0, max: 255 })), {
          minLength: 1,
          maxLength: 8,
        }),
      )
      .map(([bytes, edits]) => {
        let b = [...bytes];
        for (const [op, at, v] of edits) {
          const i = b.length === 0 ? 0 : at % b.length;
          if (op % 4 === 0) b[i] = v;
          else if (op % 4 === 1) b = b.slice(0, i);
          else if (op % 4 === 2) b.splice(i, 0, v);
          else b = [...b, ...varint(v * 8 + (at % 6)), ...varint(at)];
        }
        return Uint8Array.from(b);
      }),
  },
  { weight: 2, arbitrary: fc.uint8Array({ maxLength: 512 }) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      Uint8Array.from([0x0b].concat(Array(20_000).fill(0x0b))), // start-group, 20,000 deep
      Uint8Array.from([0x22, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x41]), // response: 4 GiB long, 1 byte there
      Uint8Array.from([0x2a, 0x02, 0x08, 0xff]), // options.mode: a truncated varint
      Uint8Array.from([0x0a, 0x03, 0xed, 0xa0, 0x80]), // id: a UTF-8 encoded surrogate
      Uint8Array.from(Array(11).fill(0xff)), // a varint past 64 bits
      nestedUnknown(2_000),
      Uint8Array.from([0x22, ...varint(200_000), ...Buffer.alloc(200_000, 0x7b)]), // 200 KB of "{"
    ),
  },
);

const batchArb = fc
  .array(requestArb, { maxLength: 20 })
  .map((items) => toBinary(VerifyBatchRequestSchema, create(VerifyBatchRequestSchema, { items })));

const bodyFor = (method: string) => (method === "VerifyBatch" ? fc.oneof(batchArb, protoArb) : protoArb);

/** A gRPC (or gRPC-Web, or Connect streaming) frame: flag byte, length, payload; the length may lie. */
const frameArb = fc
  .tuple(
    protoArb,
    fc.constantFrom(0, 0, 0, 1, 2, 0x80, 0xff),
    fc.constantFrom(0, 0, 0, 1, -1, 1_000_000, 0xffffffff),
  )
  .map(([payload, flag, lie]) => {
    const head = Buffer.alloc(5);
    head[0] = flag;
    head.writeUInt32BE(Math.max(0, Math.min(0xffffffff, payload.length + lie)), 1);
    return Buffer.concat([head, payload]);
  });

const framesArb = fc.array(frameArb, { minLength: 0, maxLength: 6 }).map((fs) => Buffer.concat(fs));

// ---------------------------------------------------------------- JSON bodies

const jsonRequestArb = requestArb.map((r) => {
  const { options, ...rest } = r;
  const mode = typeof options?.mode === "number" ? options.mode : undefined;
  return {
    ...rest,
    options: options && { ...options, mode: mode === undefined ? undefined : `MODE_${mode}` },
  };
});

/** Replace the value at a random place in a JSON tree with something of another type. */
function mutateJson(v: unknown, path: number[], replacement: unknown): unknown {
  if (path.length === 0 || v === null || typeof v !== "object") return replacement;
  const [head, ...rest] = path as [number, ...number[]];
  if (Array.isArray(v)) {
    if (v.length === 0) return [replacement];
    const i = head % v.length;
    return v.map((x, j) => (j === i ? mutateJson(x, rest, replacement) : x));
  }
  const keys = Object.keys(v);
  if (keys.length === 0) return { id: replacement };
  const key = keys[head % keys.length] as string;
  return { ...(v as object), [key]: mutateJson((v as Record<string, unknown>)[key], rest, replacement) };
}

const TRICKY_JSON = [
  "[".repeat(100_000),
  `${"[".repeat(5_000)}${"]".repeat(5_000)}`,
  `{"items":${"[".repeat(3_000)}${"]".repeat(3_000)}}`,
  '{"groundTruth":"3","response":"3","options":{"mode":"MODE_BOGUS","llmWeight":"NaN"}}',
  '{"groundTruth":1e999,"response":-0}',
  '{"id":"\\ud800","groundTruth":"\\u0000","response":"\\uDFFF"}',
  '{"__proto__":{"polluted":1},"constructor":{"prototype":{}},"groundTruth":"3","response":"3"}',
  '{"items":null,"options":[]}',
  '{"query":[null],"prompts":{},"labels":1}',
  '{"query":["x"],"prompts":["x"],"labels":[{"a":[{}]}]}',
  '{"response":"3","label":{"ground_truth":[[["3"]]]}}',
  '{"responses_create_params":{"input":[{"content":[]}]},"response":{"output":[{"content":[{"text":null}]}]}}',
  "null",
  '"just a string"',
  "123",
  "",
  "{",
];

const jsonBodyArb: fc.Arbitrary<string> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc
      .tuple(
        fc.oneof(
          jsonRequestArb,
          fc.array(jsonRequestArb, { maxLength: 5 }).map((items) => ({ items })),
        ),
        fc.array(fc.nat(), { maxLength: 4 }),
        fc.jsonValue({ maxDepth: 3 }),
        fc.boolean(),
      )
      .map(([v, path, repl, mutate]) => JSON.stringify(mutate ? mutateJson(v, path, repl) : v)),
  },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 5 }).map((v) => JSON.stringify(v)) },
  { weight: 1, arbitrary: fc.constantFrom(...TRICKY_JSON) },
  {
    weight: 1,
    arbitrary: fc.tuple(jsonRequestArb, fc.nat()).map(([v, cut]) => {
      const s = JSON.stringify(v);
      return s.slice(0, cut % (s.length + 1));
    }),
  },
);

// ---------------------------------------------------------------- requests

/** A gzip body: valid, or garbage that claims to be gzip; compression bombs live in the HTTP op. */
const GZIP_BOMB = gzipSync(Buffer.alloc(80 * 1024 * 1024)); // 80 MiB of zeros in ~80 KiB: over --max-message-bytes

const contentEncoding = (body: Buffer, how: number): [Record<string, string>, Buffer] => {
  switch (how % 8) {
    case 0:
      return [{ "content-encoding": "gzip" }, gzipSync(body)];
    case 1:
      return [{ "content-encoding": "gzip" }, body];
    case 2:
      return [{ "content-encoding": "gzip" }, GZIP_BOMB];
    case 3:
      return [{ "content-encoding": "snappy" }, body];
    case 4:
      return [{ "content-encoding": "br" }, Buffer.from([0xff, 0xfe])];
    default:
      return [{}, body];
  }
};

const PATHS = [
  ...METHODS.map((m) => SERVICE + m),
  `${SERVICE}Nope`,
  "/grpc.health.v1.Health/Check",
  "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
  "/",
  `/${"a".repeat(8_000)}`,
  `${SERVICE}Verify?x=${"%ff".repeat(100)}`,
];
const HTTP_PATHS = [
  ...PATHS,
  "/openrlhf",
  "/get_reward",
  "/slime",
  "/verify",
  "/seed_session",
  "/metrics",
  "/healthz",
];

const grpcHeadersArb = fc.record(
  {
    "content-type": fc.constantFrom(
      "application/grpc",
      "application/grpc+proto",
      "application/grpc+json",
      "text/plain",
      "",
    ),
    "grpc-encoding": fc.constantFrom("gzip", "deflate", "identity", "snappy", "x".repeat(300)),
    "grpc-accept-encoding": fc.constantFrom("gzip", "identity,deflate", ""),
    "grpc-timeout": fc.constantFrom("1n", "50m", "1S", "99999999H", "abc", "0m", "-1S"),
    te: fc.constantFrom("trailers", "gzip"),
    "user-agent": fc.constantFrom("fuzz", "u".repeat(16_000)),
    authorization: fc.constantFrom("Bearer x", ""),
  },
  { requiredKeys: [] },
);

const httpOpArb: fc.Arbitrary<Op> = fc
  .tuple(
    fc.constantFrom(...HTTP_PATHS),
    fc.constantFrom(
      "application/json",
      "application/json",
      "application/proto",
      "application/connect+json",
      "application/connect+proto",
      "application/grpc-web+proto",
      "application/grpc-web",
      "application/grpc-web-text",
      "application/grpc",
      "text/plain",
      "",
    ),
    fc.oneof(
      jsonBodyArb.map((s) => Buffer.from(s)),
      protoArb.map(Buffer.from),
      framesArb,
    ),
    fc.nat(),
    fc.record(
      {
        "connect-protocol-version": fc.constantFrom("1", "2", ""),
        "connect-timeout-ms": fc.constantFrom("1", "100", "abc", "99999999999"),
        "connect-content-encoding": fc.constantFrom("gzip", "zstd"),
        "x-grpc-web": fc.constantFrom("1"),
        "transfer-encoding": fc.constantFrom("chunked"),
      },
      { requiredKeys: [] },
    ),
    fc.nat(),
    fc.constantFrom<"end" | "destroy">("end", "end", "end", "destroy"),
  )
  .map(([path, type, raw, how, extra, cut, end]) => {
    const [encHeaders, body] = contentEncoding(raw, how);
    return {
      t: "http" as const,
      path,
      headers: { "content-type": type, ...encHeaders, ...extra },
      body: b64(body),
      cut: end === "destroy" ? cut % (body.length + 1) : body.length,
      end,
    };
  });

const PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
const h2FrameArb = fc
  .tuple(
    fc.integer({ min: 0, max: 12 }),
    fc.integer({ min: 0, max: 255 }),
    fc.integer({ min: 0, max: 9 }),
    fc.uint8Array({ maxLength: 64 }),
    fc.boolean(),
  )
  .map(([type, flags, stream, payload, honest]) => {
    const head = Buffer.alloc(9);
    head.writeUIntBE(honest ? payload.length : (payload.length * 7 + 3) & 0xffffff, 0, 3);
    head[3] = type;
    head[4] = flags;
    head.writeUInt32BE(stream, 5);
    return Buffer.concat([head, payload]);
  });

export const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc
      .tuple(
        fc.constantFrom("Verify", "Verify", "VerifyBatch", "GetServerInfo", "Nope"),
        fc.option(fc.integer({ min: 1, max: 3000 })),
      )
      .chain(([method, timeoutMs]) =>
        bodyFor(method).map((body) => ({
          t: "grpc-unary" as const,
          method,
          body: b64(body),
          timeoutMs: timeoutMs ?? undefined,
        })),
      ),
  },
  {
    weight: 3,
    arbitrary: fc
      .tuple(
        fc.array(protoArb, { maxLength: 12 }),
        fc.constantFrom<"half-close" | "cancel" | "unread-cancel">(
          "half-close",
          "half-close",
          "cancel",
          "unread-cancel",
        ),
      )
      .map(([ms, end]) => ({ t: "grpc-stream" as const, messages: ms.map(b64), end })),
  },
  {
    weight: 4,
    arbitrary: fc
      .tuple(
        fc.constantFrom(...PATHS),
        grpcHeadersArb,
        framesArb,
        fc.nat(),
        fc.constantFrom<"end" | "rst" | "destroy">("end", "end", "rst", "destroy"),
        fc.boolean(),
      )
      .map(([path, headers, body, cut, end, read]) => ({
        t: "h2" as const,
        path,
        headers: { "content-type": "application/grpc", te: "trailers", ...headers },
        body: b64(body),
        cut: end === "end" && cut % 2 === 0 ? body.length : cut % (body.length + 1),
        end,
        read,
      })),
  },
  {
    weight: 1,
    arbitrary: fc.tuple(fc.boolean(), fc.array(h2FrameArb, { maxLength: 12 })).map(([preface, frames]) => ({
      t: "h2-frames" as const,
      bytes: b64(Buffer.concat([preface ? PREFACE : Buffer.alloc(0), ...frames])),
    })),
  },
  { weight: 6, arbitrary: httpOpArb },
  {
    weight: 1,
    arbitrary: fc
      .oneof(
        fc.uint8Array({ maxLength: 600 }).map(Buffer.from),
        fc
          .tuple(
            fc.constantFrom("GET", "POST", "PUT", "OPTIONS", "PRI", "G\0T"),
            fc.constantFrom(...HTTP_PATHS),
            fc.constantFrom("HTTP/1.1", "HTTP/1.0", "HTTP/2.0", "HTTP/9"),
            fc.constantFrom(
              "Content-Length: 5\r\n\r\n{}",
              "Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n",
              "Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n3\r\n{}}\r\n0\r\n\r\n",
              "Content-Length: -1\r\n\r\n",
              `X-Big: ${"b".repeat(20_000)}\r\n\r\n`,
              "Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}GET / HTTP/1.1\r\n\r\n",
              "\r\n",
            ),
          )
          .map(([m, p, v, rest]) => Buffer.from(`${m} ${p} ${v}\r\nHost: x\r\n${rest}`, "latin1")),
      )
      .map((bytes) => ({ t: "http-raw" as const, bytes: b64(bytes) })),
  },
);

// ---------------------------------------------------------------- running an op

/** What an op showed: nothing (fine), or a broken rule. */
export type Problem = string | undefined;

function verdictProblem(bytes: Buffer, batch: boolean): Problem {
  try {
    const verdicts = batch
      ? fromBinary(VerifyBatchResponseSchema, bytes).verdicts
      : [fromBinary(VerdictSchema, bytes)];
    const bad = verdicts.find((v) => v.error?.code === ErrorCode.INTERNAL);
    return bad ? `item error INTERNAL: ${bad.error?.message}` : undefined;
  } catch (err) {
    return `reply does not decode: ${(err as Error).message}`;
  }
}

const identity = (b: Buffer) => b;

function grpcUnary(client: grpc.Client, op: Extract<Op, { t: "grpc-unary" }>): Promise<Problem> {
  return new Promise((resolve) => {
    const deadline = op.timeoutMs ? Date.now() + op.timeoutMs : undefined;
    client.makeUnaryRequest(
      SERVICE + op.method,
      identity,
      identity,
      unb64(op.body),
      new grpc.Metadata(),
      { deadline },
      (err, res) => {
        if (err)
          return resolve(
            badStatus(err.code, err.details) ? `gRPC ${grpc.status[err.code]}: ${err.details}` : undefined,
          );
        if (op.method === "Verify" || op.method === "VerifyBatch")
          return resolve(verdictProblem(res as Buffer, op.method === "VerifyBatch"));
        resolve(undefined);
      },
    );
  });
}

function grpcStream(client: grpc.Client, op: Extract<Op, { t: "grpc-stream" }>): Promise<Problem> {
  return new Promise((resolve) => {
    const call = client.makeBidiStreamRequest(
      `${SERVICE}VerifyStream`,
      identity,
      identity,
      new grpc.Metadata(),
    );
    const verdicts: Buffer[] = [];
    call.on("error", () => {});
    if (op.end === "unread-cancel") call.pause();
    else call.on("data", (b: Buffer) => verdicts.push(b));
    for (const m of op.messages) call.write(unb64(m));
    if (op.end !== "half-close") {
      setTimeout(() => call.cancel(), op.end === "cancel" ? 5 : 200);
      return resolve(undefined);
    }
    call.end();
    call.on("status", (s: grpc.StatusObject) => {
      if (badStatus(s.code, s.details)) return resolve(`stream ended ${grpc.status[s.code]}: ${s.details}`);
      if (s.code !== grpc.status.OK) return resolve(undefined);
      if (verdicts.length !== op.messages.length)
        return resolve(`${op.messages.length} messages, ${verdicts.length} verdicts`);
      resolve(verdicts.map((v) => verdictProblem(v, false)).find((p) => p !== undefined));
    });
  });
}

function h2Request(target: Target, op: Extract<Op, { t: "h2" }>): Promise<Problem> {
  return new Promise((resolve) => {
    const session = http2.connect(`http://${target.grpcAddress}`);
    session.on("error", () => {});
    const finish = (p: Problem) => {
      session.destroy();
      resolve(p);
    };
    let req: http2.ClientHttp2Stream;
    try {
      req = session.request({ ":method": "POST", ":path": op.path, ...op.headers });
    } catch {
      return finish(undefined); // headers node:http2 itself refuses to send
    }
    req.on("error", () => {});
    let status = 0;
    let grpcStatus: number | undefined;
    let grpcMessage = "";
    const read = (h: http2.IncomingHttpHeaders) => {
      if (h[":status"] !== undefined) status = Number(h[":status"]);
      if (h["grpc-status"] !== undefined) grpcStatus = Number(h["grpc-status"]);
      if (h["grpc-message"] !== undefined) grpcMessage = safeDecode(String(h["grpc-message"]));
    };
    req.on("response", read);
    req.on("trailers", read);
    if (op.read) req.on("data", () => {});
    else req.pause();
    const body = unb64(op.body).subarray(0, op.cut);
    req.write(body);
    if (op.end === "rst") {
      req.close(http2.constants.NGHTTP2_CANCEL);
      return finish(undefined);
    }
    if (op.end === "destroy") return finish(undefined);
    req.end();
    if (!op.read) req.resume(); // a client that ends its request reads the reply
    req.on("data", () => {});
    req.on("close", () => {
      if (status >= 500 && status !== 501) return finish(`HTTP ${status} on ${short(op.path)}`);
      if (grpcStatus !== undefined && badStatus(grpcStatus, grpcMessage))
        return finish(`grpc-status ${grpc.status[grpcStatus]} on ${short(op.path)}: ${grpcMessage}`);
      finish(undefined);
    });
  });
}

/** Bytes on a bare socket; whatever comes back, the connection is dropped after a short wait. */
function socketBytes(port: number, host: string, bytes: Buffer): Promise<Problem> {
  return new Promise((resolve) => {
    const s = net.connect(port, host, () => s.write(bytes));
    s.on("error", () => {});
    s.on("data", () => {});
    const timer = setTimeout(() => s.destroy(), 300);
    s.on("close", () => {
      clearTimeout(timer);
      resolve(undefined);
    });
  });
}

function httpRequest(target: Target, op: Extract<Op, { t: "http" }>): Promise<Problem> {
  return new Promise((resolve) => {
    const headers = Object.fromEntries(Object.entries(op.headers).filter(([, v]) => v !== ""));
    const timed = "connect-timeout-ms" in headers;
    let req: http.ClientRequest;
    try {
      req = http.request({
        host: "127.0.0.1",
        port: target.httpPort,
        method: "POST",
        path: op.path,
        headers,
        agent: false,
      });
    } catch {
      return resolve(undefined);
    }
    req.on("error", () => resolve(undefined));
    req.on("response", (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("error", () => resolve(undefined));
      res.on("end", () => {
        const s = res.statusCode ?? 0;
        // 501: a compression the server lacks (Connect's rule); 504: the client's own deadline passed;
        // 505: a bidi stream over HTTP/1.1, which cannot carry one (Connect's rule).
        const allowed = s === 501 || (s === 504 && timed) || (s === 505 && op.path.endsWith("/VerifyStream"));
        if (s >= 500 && !allowed)
          return resolve(`HTTP ${s} on ${short(op.path)}: ${Buffer.concat(chunks).toString().slice(0, 300)}`);
        resolve(bodyProblem(op, res, Buffer.concat(chunks)));
      });
    });
    const body = unb64(op.body);
    req.write(body.subarray(0, op.cut));
    if (op.end === "destroy") {
      req.destroy();
      return resolve(undefined);
    }
    req.end();
  });
}

/** Inside a 200: no item error INTERNAL, no end-of-stream error internal/unknown. */
function bodyProblem(op: Extract<Op, { t: "http" }>, res: http.IncomingMessage, body: Buffer): Problem {
  const type = String(res.headers["content-type"] ?? "");
  const text = body.toString("utf8");
  if (type.startsWith("application/json")) {
    if (/"code":\s*"(?:internal|unknown|data_loss)"|ERROR_CODE_INTERNAL/.test(text))
      return `${short(op.path)}: ${text.slice(0, 300)}`;
  } else if (type.startsWith("application/connect+")) {
    // The end-of-stream envelope (flag 2) holds any error as JSON.
    if (/"code":\s*"(?:internal|unknown|data_loss)"/.test(text))
      return `${short(op.path)} stream: ${text.slice(0, 300)}`;
  } else if (type.startsWith("application/grpc-web")) {
    const trailer = body.toString("latin1");
    const m = /grpc-status:\s*(\d+)/.exec(trailer);
    const details = safeDecode(/grpc-message:\s*([^\r\n]*)/.exec(trailer)?.[1] ?? "");
    if (m && badStatus(Number(m[1]), details))
      return `${short(op.path)} grpc-web: grpc-status ${m[1]} ${details}`;
  }
  return undefined;
}

/** Runs one op; a problem, or "hung" past `boundMs`. */
export async function runOp(
  target: Target,
  op: Op,
  client: grpc.Client,
  boundMs = OP_BOUND_MS,
): Promise<Problem> {
  const host = "127.0.0.1";
  const run = (): Promise<Problem> => {
    switch (op.t) {
      case "grpc-unary":
        return grpcUnary(client, op);
      case "grpc-stream":
        return grpcStream(client, op);
      case "h2":
        return h2Request(target, op);
      case "h2-frames":
        return socketBytes(Number(target.grpcAddress.split(":")[1]), host, unb64(op.bytes));
      case "http":
        return httpRequest(target, op);
      case "http-raw":
        return socketBytes(target.httpPort, host, unb64(op.bytes));
    }
  };
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<Problem>((resolve) => {
    timer = setTimeout(() => resolve(`no end within ${boundMs} ms`), boundMs);
  });
  try {
    return await Promise.race([run(), hung]);
  } finally {
    clearTimeout(timer);
  }
}

/** A one-line description of an op (bodies by size). */
export function describeOp(op: Op): string {
  const size = (s: B64) => `${unb64(s).length} B`;
  switch (op.t) {
    case "grpc-unary":
      return `grpc-unary ${op.method} ${size(op.body)}${op.timeoutMs ? ` deadline ${op.timeoutMs} ms` : ""}`;
    case "grpc-stream":
      return `grpc-stream ${op.messages.length} messages, ${op.end}`;
    case "h2":
      return `h2 ${op.path.slice(0, 60)} ${JSON.stringify(op.headers).slice(0, 200)} ${size(op.body)} cut ${op.cut} ${op.end}`;
    case "http":
      return `http ${op.path.slice(0, 60)} ${JSON.stringify(op.headers).slice(0, 200)} ${size(op.body)} cut ${op.cut} ${op.end}`;
    default:
      return `${op.t} ${size(op.bytes)}`;
  }
}

/** A path as problems name it: fuzzed paths can be kilobytes long and would hide the problem itself. */
function short(path: string): string {
  return path.length > 80 ? `${path.slice(0, 80)}…` : path;
}
