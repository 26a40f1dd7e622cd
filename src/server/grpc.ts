import { readFileSync } from "node:fs";
import * as grpc from "@grpc/grpc-js";
import { loadFileDescriptorSetFromBuffer } from "@grpc/proto-loader";
import { ReflectionService } from "@grpc/reflection";
import { HealthImplementation } from "grpc-health-check";
import {
  type Verdict,
  type VerdictPack,
  VerifierService,
  type VerifyPack,
  type VerifyRequest,
} from "../gen/tinyv/v1/verifier_pb.js";
import { AUTH_FAILED, type Auth } from "./auth.js";
import { descriptorSet, serviceDefinition } from "./descriptor.js";
import { Code, ServiceError } from "./errors.js";
import type { Metrics } from "./metrics.js";
import type { TransportOptions } from "./options.js";
import { Malformed, type VerifierServiceImpl } from "./service.js";
import { StreamSlots } from "./slots.js";

/** After the last handler finishes, how long bytes may still wait for clients to read them. */
const FLUSH_MS = 1_000;

type Call = grpc.ServerUnaryCall<unknown, unknown> | grpc.ServerDuplexStream<unknown, unknown>;

/** The grpc-js adapter: HTTP/2 gRPC, plus standard health checking and reflection (v1, v1alpha). */
export class GrpcTransport {
  readonly server: grpc.Server;
  readonly health = new HealthImplementation({ "": "SERVING", [VerifierService.typeName]: "SERVING" });
  private readonly slots: StreamSlots;
  /** Handlers running now (unary calls and streams). */
  private active = 0;

  constructor(
    private readonly impl: VerifierServiceImpl,
    private readonly metrics: Metrics,
    private readonly options: TransportOptions,
  ) {
    this.slots = new StreamSlots(options.maxStreams, options.maxStreamsPerConnection);
    this.server = new grpc.Server({
      "grpc.max_receive_message_length": options.maxMessageBytes,
      "grpc.max_send_message_length": options.maxMessageBytes,
      // A peer that stops answering pings, or a connection left idle, is dropped.
      "grpc.keepalive_time_ms": options.keepaliveMs,
      "grpc.keepalive_timeout_ms": options.keepaliveTimeoutMs,
      "grpc.max_connection_idle_ms": options.idleTimeoutMs,
      interceptors: [noWritesAfterEnd(), authInterceptor(options.auth)],
      // 0 leaves grpc-js's default: no age limit, no grace limit.
      ...(options.maxConnectionAgeMs && { "grpc.max_connection_age_ms": options.maxConnectionAgeMs }),
      ...(options.maxConnectionAgeGraceMs && {
        "grpc.max_connection_age_grace_ms": options.maxConnectionAgeGraceMs,
      }),
    });
    this.server.addService(serviceDefinition(), this.handlers());
    const libraries = undecodableAsInvalid(this.server);
    this.health.addToServer(libraries as grpc.Server);
    new ReflectionService(loadFileDescriptorSetFromBuffer(descriptorSet())).addToServer(
      libraries as grpc.Server,
    );
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

  /** What the health service reports. */
  setServing(on: boolean): void {
    const status = on ? "SERVING" : "NOT_SERVING";
    this.health.setStatus("", status);
    this.health.setStatus(VerifierService.typeName, status);
  }

  /**
   * Stop taking calls and let the open ones finish; past `graceMs`, cut them.
   * Once every handler has finished, what is left is only bytes waiting for
   * clients that read nothing: they get FLUSH_MS, not the whole grace period.
   */
  async close(graceMs: number): Promise<void> {
    this.setServing(false);
    await new Promise<void>((resolve) => {
      const cut = () => {
        clearTimeout(timer);
        clearInterval(idle);
        this.server.forceShutdown();
        resolve();
      };
      const timer = setTimeout(cut, graceMs);
      let idleSince: number | undefined;
      const idle = setInterval(() => {
        if (this.active > 0) idleSince = undefined;
        else idleSince ??= Date.now();
        if (idleSince !== undefined && idleSince + FLUSH_MS <= Date.now()) cut();
      }, 100);
      this.server.tryShutdown(() => {
        clearTimeout(timer);
        clearInterval(idle);
        resolve();
      });
    });
  }

  private handlers(): grpc.UntypedServiceImplementation {
    const unary =
      <Req, Res>(name: string, fn: (req: Req, signal: AbortSignal) => Promise<Res> | Res) =>
      (call: grpc.ServerUnaryCall<Req | Error, Res>, callback: grpc.sendUnaryData<Res>) => {
        this.metrics.rpcs.inc({ method: name, transport: "grpc" });
        if (call.request instanceof Error) {
          return callback({ code: grpc.status.INVALID_ARGUMENT, details: call.request.message });
        }
        const request = call.request;
        const signal = abortOn(call);
        this.active++;
        Promise.resolve()
          .then(() => fn(request, signal))
          .then(
            (res) => callback(null, res),
            (err) => callback(toStatus(err)),
          )
          .finally(() => this.active--);
      };
    return {
      Verify: unary("Verify", (req: VerifyRequest, signal) => this.impl.verify(req, signal)),
      VerifyBatch: unary("VerifyBatch", (req: Parameters<VerifierServiceImpl["verifyBatch"]>[0], signal) =>
        this.impl.verifyBatch(req, signal),
      ),
      GetServerInfo: unary("GetServerInfo", () => this.impl.getServerInfo()),
      VerifyStream: (call: grpc.ServerDuplexStream<VerifyRequest | Error, Verdict>) =>
        this.stream("VerifyStream", call, (input, signal) => this.impl.verifyStream(input, signal)),
      VerifyPackedStream: (call: grpc.ServerDuplexStream<VerifyPack | Error, VerdictPack>) =>
        this.stream("VerifyPackedStream", call, (input, signal) =>
          this.impl.verifyPackedStream(input, signal),
        ),
    };
  }

  private async stream<Req, Res>(
    name: string,
    call: grpc.ServerDuplexStream<Req | Error, Res>,
    run: (input: AsyncIterable<Req | Malformed>, signal: AbortSignal) => AsyncIterable<Res>,
  ): Promise<void> {
    this.metrics.rpcs.inc({ method: name, transport: "grpc" });
    const release = this.slots.take(call.getPeer());
    if (typeof release === "string") {
      return void call.emit("error", { code: grpc.status.RESOURCE_EXHAUSTED, details: release });
    }
    const signal = abortOn(call);
    this.metrics.streams.inc();
    this.active++;
    const stallMs = this.options.streamStallMs;
    try {
      const input = messages(call, (m) => (m instanceof Error ? new Malformed(m.message) : m));
      for await (const verdict of run(input, signal)) {
        if (signal.aborted) break;
        const full = !call.write(verdict);
        if (full && !(await drained(call, [signal, this.impl.stalledDrain], stallMs)) && !signal.aborted) {
          // The client reads nothing: stop holding its verdicts (it can resend the rest).
          throw new ServiceError(
            Code.ResourceExhausted,
            `stream closed: the client read no verdict for ${stallMs} ms (--stream-stall-ms)`,
          );
        }
      }
      if (!signal.aborted) call.end();
    } catch (err) {
      if (!signal.aborted) call.emit("error", toStatus(err));
    } finally {
      release();
      this.active--;
      this.metrics.streams.dec();
    }
  }
}

/**
 * Health and reflection come from libraries whose decoders throw on bytes that do not decode, which
 * grpc-js answers INTERNAL (the transport fuzzer found it); through this, such a request gets
 * INVALID_ARGUMENT, as on VerifierService. Both libraries only call `addService`.
 */
function undecodableAsInvalid(server: grpc.Server): Pick<grpc.Server, "addService"> {
  class Undecodable {
    constructor(readonly why: string) {}
  }
  const invalid = (u: Undecodable) => ({ code: grpc.status.INVALID_ARGUMENT, details: u.why });
  return {
    addService(definition, implementation) {
      const def: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
      const impl: grpc.UntypedServiceImplementation = {};
      for (const [name, method] of Object.entries(definition)) {
        const handler = (implementation[name] ?? implementation[method.originalName ?? ""]) as (
          ...a: unknown[]
        ) => void;
        def[name] = {
          ...method,
          requestDeserialize: (b: Buffer) => {
            try {
              return method.requestDeserialize(b);
            } catch (err) {
              return new Undecodable(`cannot decode the request: ${(err as Error).message}`);
            }
          },
        };
        impl[name] = method.requestStream
          ? (call: grpc.ServerDuplexStream<unknown, unknown>) => {
              const emit = call.emit.bind(call);
              call.emit = (event: string | symbol, ...args: unknown[]) =>
                event === "data" && args[0] instanceof Undecodable
                  ? emit("error", invalid(args[0]))
                  : emit(event, ...args);
              handler(call);
            }
          : (call: grpc.ServerUnaryCall<unknown, unknown>, callback?: grpc.sendUnaryData<unknown>) => {
              if (!(call.request instanceof Undecodable)) return handler(call, callback);
              if (callback) callback(invalid(call.request));
              else call.emit("error", invalid(call.request));
            };
      }
      server.addService(def, impl);
    },
  };
}

/**
 * grpc-js ends a call by itself when a message does not decompress or decode (or comes in an
 * encoding it lacks): with headers already sent, it ends the HTTP/2 stream and sends its status in
 * the trailers when the stream asks for them. A handler's write after that (ours, still answering
 * earlier items, or the reflection library's) errors the stream, the trailers are never sent, and
 * the call never ends (found by the transport fuzzer). So a write after the stream's end is dropped,
 * as grpc-js drops one on a cancelled call. This reads the base call's `stream`, a grpc-js internal
 * (1.14, pinned in package-lock.json); without it the guard does nothing.
 */
function noWritesAfterEnd(): grpc.ServerInterceptor {
  return (_method, call) => {
    const stream = (call as unknown as { stream?: { writableEnded?: boolean } }).stream;
    return new grpc.ServerInterceptingCall(call, {
      sendMessage: (message, next) => {
        if (!stream?.writableEnded) next(message);
      },
    });
  };
}

/** Every call but health checks needs the token (reflection too, unless opened on purpose). */
function authInterceptor(auth: Auth): grpc.ServerInterceptor {
  return (method, call) =>
    new grpc.ServerInterceptingCall(call, {
      start: (next) =>
        next({
          onReceiveMetadata: (metadata, mdNext) => {
            const open =
              method.path.startsWith("/grpc.health.v1.") ||
              (method.path.startsWith("/grpc.reflection.") && auth.isOpen("reflection"));
            const got = metadata.get("authorization")[0];
            if (open || auth.allows(typeof got === "string" ? got : undefined)) return mdNext(metadata);
            call.sendStatus({ code: grpc.status.UNAUTHENTICATED, details: AUTH_FAILED, metadata: null });
          },
        }),
    });
}

/**
 * Resolves true when the call can take more writes, false when `ms` pass first or a
 * signal aborts. A plain timer, not AbortSignal.timeout(): composed with
 * AbortSignal.any, Node 20 may collect the timeout signal before it fires.
 */
function drained(call: grpc.ServerDuplexStream<unknown, unknown>, signals: AbortSignal[], ms: number) {
  return new Promise<boolean>((resolve) => {
    const done = (ok: boolean) => {
      clearTimeout(timer);
      call.off("drain", onDrain);
      for (const s of signals) s.removeEventListener("abort", onAbort);
      resolve(ok);
    };
    const onDrain = () => done(true);
    const onAbort = () => done(false);
    const timer = setTimeout(onAbort, ms);
    if (signals.some((s) => s.aborted)) return done(false);
    call.once("drain", onDrain);
    for (const s of signals) s.addEventListener("abort", onAbort, { once: true });
  });
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

/** Messages read off a call but not yet taken by the service: past either bound the call pauses. */
const BUFFER_MESSAGES = 256;
const BUFFER_BYTES = 4 * 1024 * 1024;

/**
 * The call's messages as an async iterable, from 'data' events (the call pauses
 * while 256 messages or 4 MiB wait unread, so HTTP/2 flow control holds the
 * client back); it ends at half-close and throws on error.
 */
async function* messages<A, B>(
  call: grpc.ServerDuplexStream<A, unknown>,
  fn: (a: A) => B,
): AsyncGenerator<B> {
  const buffered: A[] = [];
  let bytes = 0;
  let ended = false;
  let failure: Error | undefined;
  let wake: (() => void) | undefined;
  const notify = () => {
    wake?.();
    wake = undefined;
  };
  call.on("data", (m: A) => {
    buffered.push(m);
    bytes += sizeOf(m);
    if (buffered.length >= BUFFER_MESSAGES || bytes >= BUFFER_BYTES) call.pause();
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
  try {
    for (;;) {
      const m = buffered.shift();
      if (m !== undefined) {
        bytes -= sizeOf(m);
        if (call.isPaused() && buffered.length < BUFFER_MESSAGES / 4 && bytes < BUFFER_BYTES / 4)
          call.resume();
        yield fn(m);
        continue;
      }
      if (failure) throw failure;
      if (ended) return;
      await new Promise<void>((r) => (wake = r));
    }
  } finally {
    // The service stopped reading (client gone, drain): drop what is buffered.
    buffered.length = 0;
  }
}

/** Rough in-memory size of a decoded request (its strings), for the read buffer's bound. */
function sizeOf(m: unknown): number {
  if (m instanceof Error) return 64;
  const items = (m as Partial<VerifyPack>).items;
  if (items) return items.reduce((n, r) => n + sizeOf(r), 64);
  const r = m as Partial<VerifyRequest>;
  return 64 + (r.question?.length ?? 0) + (r.groundTruth?.length ?? 0) + (r.response?.length ?? 0);
}
