import { readFileSync } from "node:fs";
import http from "node:http";
import https from "node:https";
import type { AddressInfo } from "node:net";
import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import { ErrorCode, VerifierService } from "../gen/tinyv/v1/verifier_pb.js";
import { errorVerdict } from "../hybrid/verifier.js";
import { AUTH_FAILED } from "./auth.js";
import { connectAdapter } from "./connect-adapter.js";
import { ServiceError } from "./errors.js";
import { type Problem, problemsKey } from "./json-check.js";
import type { Metrics } from "./metrics.js";
import type { TransportOptions } from "./options.js";
import { answer, ROUTES } from "./routes/index.js";
import type { VerifierServiceImpl } from "./service.js";

type Req = http.IncomingMessage;
type Res = http.ServerResponse;

/**
 * The HTTP port: the same service over Connect (JSON or binary over HTTP/1.1, so
 * curl works) and gRPC-Web, plus plain endpoints: GET /metrics (Prometheus),
 * GET /healthz, and the trainer routes of routes/ (OpenRLHF's /openrlhf and /get_reward, slime's /slime,
 * NeMo Gym's /verify and /seed_session).
 */
export class HttpTransport {
  readonly server: http.Server;
  private serving = true;

  constructor(
    private readonly impl: VerifierServiceImpl,
    private readonly metrics: Metrics,
    private readonly options: TransportOptions,
  ) {
    const counting: Interceptor = (next) => async (req) => {
      metrics.rpcs.inc({ method: req.method.name, transport: "connect" });
      if (!options.auth.allows(req.header.get("authorization") ?? undefined)) {
        throw new ConnectError(AUTH_FAILED, Code.Unauthenticated);
      }
      return next(req);
    };
    const handler = connectAdapter({
      routes: (router) =>
        router.service(VerifierService, {
          verify: (req, ctx) => {
            const bad = ctx.values.get(problemsKey);
            if (bad.length > 0) return errorVerdict(req.id, ErrorCode.INVALID_ARGUMENT, describe(bad));
            return connectErrors(() => impl.verify(req, ctx.signal));
          },
          verifyBatch: (req, ctx) =>
            connectErrors(() => impl.verifyBatch(req, ctx.signal, itemProblems(ctx.values.get(problemsKey)))),
          verifyStream: (reqs, ctx) => connectStreamErrors(impl.verifyStream(reqs, ctx.signal)),
          verifyPackedStream: (packs, ctx) => connectStreamErrors(impl.verifyPackedStream(packs, ctx.signal)),
          getServerInfo: () => impl.getServerInfo(),
        }),
      interceptors: [counting],
      readMaxBytes: options.maxMessageBytes,
      writeMaxBytes: options.maxMessageBytes,
      // Trainers read `correct: false` and `reward: 0` too: never omit them.
      jsonOptions: { alwaysEmitImplicit: true },
      fallback: (req, res) => void this.plain(req, res),
    });
    this.server = options.tlsCert
      ? https.createServer(
          { cert: readFileSync(options.tlsCert), key: readFileSync(options.tlsKey) },
          handler,
        )
      : http.createServer(handler);
  }

  listen(): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(this.options.port, this.options.host, () =>
        resolve((this.server.address() as AddressInfo).port),
      );
    });
  }

  /** What GET /healthz reports. */
  setServing(on: boolean): void {
    this.serving = on;
  }

  async close(graceMs: number): Promise<void> {
    this.serving = false;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeIdleConnections();
    const timer = setTimeout(() => this.server.closeAllConnections(), graceMs);
    await closed;
    clearTimeout(timer);
  }

  private async plain(req: Req, res: Res): Promise<void> {
    const path = (req.url ?? "/").split("?")[0];
    try {
      if (req.method === "GET" && path === "/metrics") {
        if (!this.options.auth.isOpen("metrics") && !this.options.auth.allows(req.headers.authorization)) {
          return reply(res, 401, { error: AUTH_FAILED });
        }
        res.setHeader("content-type", this.metrics.registry.contentType);
        return void res.end(await this.metrics.registry.metrics());
      }
      if (req.method === "GET" && path === "/healthz") {
        res.statusCode = this.serving ? 200 : 503;
        return void res.end(this.serving ? "SERVING\n" : "NOT_SERVING\n");
      }
      const route = ROUTES.get(path ?? "");
      if (route) {
        if (req.method !== "POST") return reply(res, 405, { error: `POST a JSON body to ${path}` });
        if (!this.options.auth.allows(req.headers.authorization))
          return reply(res, 401, { error: AUTH_FAILED });
        this.metrics.rpcs.inc({ method: route.method, transport: "http" });
        const body = await readJson(req, this.options.maxMessageBytes);
        return reply(res, 200, await answer(route, body, this.impl, this.metrics.observe));
      }
      reply(res, 404, {
        error: `no route for ${req.method} ${path}; see /tinyv.v1.VerifierService/*, /metrics, /healthz, ${[...ROUTES.keys()].join(", ")}`,
      });
    } catch (err) {
      const status = err instanceof ServiceError ? (err.code === Code.ResourceExhausted ? 413 : 400) : 500;
      reply(res, status, { error: (err as Error).message });
    }
  }
}

function reply(res: Res, status: number, body: unknown): void {
  res.statusCode = status;
  res.setHeader("content-type", "application/json");
  res.end(JSON.stringify(body));
}

async function readJson(req: Req, maxBytes: number): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > maxBytes)
      throw new ServiceError(Code.ResourceExhausted, `body over ${maxBytes} bytes (--max-message-bytes)`);
    chunks.push(chunk as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch (err) {
    throw new ServiceError(Code.InvalidArgument, `body is not JSON: ${(err as Error).message}`);
  }
}

/** A service error as Connect reports it; anything else as it is. */
function asConnect(err: unknown): unknown {
  return err instanceof ServiceError ? new ConnectError(err.message, err.code) : err;
}

async function connectErrors<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw asConnect(err);
  }
}

async function* connectStreamErrors<T>(stream: AsyncIterable<T>): AsyncGenerator<T> {
  try {
    yield* stream;
  } catch (err) {
    throw asConnect(err);
  }
}

function describe(problems: Problem[]): string {
  return problems.map((p) => p.message).join("; ");
}

/**
 * VerifyBatch's JSON problems by item: one under `items[i]` is item i's own; one
 * in the batch's options is every item's.
 */
function itemProblems(problems: Problem[]): ((index: number) => string | undefined) | undefined {
  if (problems.length === 0) return undefined;
  const shared = problems.filter((p) => p.path[0] !== "items");
  return (index) => {
    const mine = problems.filter((p) => p.path[0] === "items" && p.path[1] === index);
    return mine.length + shared.length > 0 ? describe([...shared, ...mine]) : undefined;
  };
}
