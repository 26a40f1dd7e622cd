import { once } from "node:events";
import { readFileSync } from "node:fs";
import * as grpc from "@grpc/grpc-js";
import { loadFileDescriptorSetFromBuffer } from "@grpc/proto-loader";
import { ReflectionService } from "@grpc/reflection";
import { HealthImplementation } from "grpc-health-check";
import { type Verdict, VerifierService, type VerifyRequest } from "../gen/tinyv/v1/verifier_pb.js";
import { descriptorSet, serviceDefinition } from "./descriptor.js";
import { Code, ServiceError } from "./errors.js";
import type { Metrics } from "./metrics.js";
import type { TransportOptions } from "./options.js";
import { Malformed, type VerifierServiceImpl } from "./service.js";

type Call = grpc.ServerUnaryCall<unknown, unknown> | grpc.ServerDuplexStream<unknown, unknown>;

/** The grpc-js adapter: HTTP/2 gRPC, plus standard health checking and reflection (v1, v1alpha). */
export class GrpcTransport {
  readonly server: grpc.Server;
  readonly health = new HealthImplementation({ "": "SERVING", [VerifierService.typeName]: "SERVING" });

  constructor(
    private readonly impl: VerifierServiceImpl,
    private readonly metrics: Metrics,
    private readonly options: TransportOptions,
  ) {
    this.server = new grpc.Server({
      "grpc.max_receive_message_length": options.maxMessageBytes,
      "grpc.max_send_message_length": options.maxMessageBytes,
    });
    this.server.addService(serviceDefinition(), this.handlers());
    this.health.addToServer(this.server);
    new ReflectionService(loadFileDescriptorSetFromBuffer(descriptorSet())).addToServer(this.server);
  }

  /** Bind and start; resolves to the bound port. */
  listen(): Promise<number> {
    const { host, port, tlsCert, tlsKey } = this.options;
    const creds = tlsCert
      ? grpc.ServerCredentials.createSsl(null, [
          { cert_chain: readFileSync(tlsCert), private_key: readFileSync(tlsKey) },
        ])
      : grpc.ServerCredentials.createInsecure();
    const address = host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
    return new Promise((resolve, reject) =>
      this.server.bindAsync(address, creds, (err, bound) => (err ? reject(err) : resolve(bound))),
    );
  }

  /** Stop taking calls and let the open ones finish; past `graceMs`, cut them. */
  async close(graceMs: number): Promise<void> {
    this.health.setStatus("", "NOT_SERVING");
    this.health.setStatus(VerifierService.typeName, "NOT_SERVING");
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.server.forceShutdown();
        resolve();
      }, graceMs);
      this.server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  private handlers(): grpc.UntypedServiceImplementation {
    const unary =
      <Req, Res>(name: string, fn: (req: Req, signal: AbortSignal) => Promise<Res> | Res) =>
      (call: grpc.ServerUnaryCall<Req | Error, Res>, callback: grpc.sendUnaryData<Res>) => {
        this.metrics.rpcs.inc({ method: name, transport: "grpc" });
        const denied = this.deny(call);
        if (denied) return callback(denied);
        if (call.request instanceof Error) {
          return callback({ code: grpc.status.INVALID_ARGUMENT, details: call.request.message });
        }
        const request = call.request;
        const signal = abortOn(call);
        Promise.resolve()
          .then(() => fn(request, signal))
          .then(
            (res) => callback(null, res),
            (err) => callback(toStatus(err)),
          );
      };
    return {
      Verify: unary("Verify", (req: VerifyRequest, signal) => this.impl.verify(req, signal)),
      VerifyBatch: unary("VerifyBatch", (req: Parameters<VerifierServiceImpl["verifyBatch"]>[0], signal) =>
        this.impl.verifyBatch(req, signal),
      ),
      GetServerInfo: unary("GetServerInfo", () => this.impl.getServerInfo()),
      VerifyStream: (call: grpc.ServerDuplexStream<VerifyRequest | Error, Verdict>) => this.stream(call),
    };
  }

  private async stream(call: grpc.ServerDuplexStream<VerifyRequest | Error, Verdict>): Promise<void> {
    this.metrics.rpcs.inc({ method: "VerifyStream", transport: "grpc" });
    const denied = this.deny(call);
    if (denied) return void call.emit("error", denied);
    const signal = abortOn(call);
    this.metrics.streams.inc();
    try {
      const input = messages(call, (m) => (m instanceof Error ? new Malformed(m.message) : m));
      for await (const verdict of this.impl.verifyStream(input, signal)) {
        if (signal.aborted) break;
        // Wait for the socket to drain, or for the call to end; no listener outlives the wait.
        if (!call.write(verdict)) await once(call, "drain", { signal }).catch(() => undefined);
      }
      if (!signal.aborted) call.end();
    } catch (err) {
      if (!signal.aborted) call.emit("error", toStatus(err));
    } finally {
      this.metrics.streams.dec();
    }
  }

  private deny(call: Call): Partial<grpc.StatusObject> | undefined {
    const token = this.options.authToken;
    if (!token) return undefined;
    const got = call.metadata.get("authorization")[0];
    if (got === `Bearer ${token}`) return undefined;
    return { code: grpc.status.UNAUTHENTICATED, details: "missing or wrong 'authorization: Bearer <token>'" };
  }
}

/** An AbortSignal that fires when the client cancels or the call's deadline passes. */
function abortOn(call: Call): AbortSignal {
  const ctl = new AbortController();
  call.once("cancelled", () => ctl.abort(new ServiceError(Code.Canceled, "call cancelled")));
  const deadline = call.getDeadline();
  const ms = deadline instanceof Date ? deadline.getTime() - Date.now() : Number(deadline) - Date.now();
  if (Number.isFinite(ms) && ms < 2 ** 31) {
    const timer = setTimeout(
      () => ctl.abort(new ServiceError(Code.DeadlineExceeded, "deadline exceeded")),
      Math.max(0, ms),
    );
    timer.unref();
    call.once("finish", () => clearTimeout(timer));
    call.once("cancelled", () => clearTimeout(timer));
  }
  return ctl.signal;
}

function toStatus(err: unknown): Partial<grpc.StatusObject> {
  if (err instanceof ServiceError) return { code: err.code as number, details: err.message };
  return { code: grpc.status.INTERNAL, details: `internal error: ${(err as Error)?.message ?? String(err)}` };
}

/**
 * The call's messages as an async iterable, from 'data' events (the call pauses
 * while 256 messages wait unread); it ends at half-close and throws on error.
 */
async function* messages<A, B>(
  call: grpc.ServerDuplexStream<A, unknown>,
  fn: (a: A) => B,
): AsyncGenerator<B> {
  const buffered: A[] = [];
  let ended = false;
  let failure: Error | undefined;
  let wake: (() => void) | undefined;
  const notify = () => {
    wake?.();
    wake = undefined;
  };
  call.on("data", (m: A) => {
    buffered.push(m);
    if (buffered.length >= 256) call.pause();
    notify();
  });
  call.on("end", () => {
    ended = true;
    notify();
  });
  call.on("error", (e: Error) => {
    failure = e;
    notify();
  });
  call.on("cancelled", () => {
    failure ??= new ServiceError(Code.Canceled, "call cancelled");
    notify();
  });
  for (;;) {
    const m = buffered.shift();
    if (m !== undefined) {
      if (buffered.length < 64 && call.isPaused()) call.resume();
      yield fn(m);
      continue;
    }
    if (failure) throw failure;
    if (ended) return;
    await new Promise<void>((r) => (wake = r));
  }
}
