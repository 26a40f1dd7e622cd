import { setMaxListeners } from "node:events";
import { create } from "@bufbuild/protobuf";
import {
  ErrorCode,
  type GetServerInfoRequest,
  type ServerInfo,
  ServerInfoSchema,
  type Verdict,
  type VerdictPack,
  VerdictPackSchema,
  type VerifyBatchRequest,
  type VerifyBatchResponse,
  VerifyBatchResponseSchema,
  type VerifyPack,
  type VerifyRequest,
} from "../gen/tinyv/v1/verifier_pb.js";
import { errorVerdict, type HybridVerifier } from "../hybrid/verifier.js";
import type { Judge } from "../llm/types.js";
import { VERSION } from "../version.js";
import { Code, ServiceError } from "./errors.js";
import { AsyncQueue } from "./queue.js";
import { ByteBudget, StreamWindow, type WindowLimits } from "./window.js";

const STOPPED = Symbol("stopped");

/** Per-stream window: items and bytes held before reading pauses. */
const DEFAULT_WINDOW: WindowLimits = { items: 512, bytes: 16 * 1024 * 1024 };
/** While draining, how long a write may wait for a client that does not read. */
const DRAIN_STALL_MS = 1_000;
/** All streams together. */
const DEFAULT_SHARED_BYTES = 512 * 1024 * 1024;

/** A stream message that could not be decoded: it gets an error verdict, the stream goes on. */
export class Malformed {
  constructor(readonly reason: string) {}
}

export interface ServiceLimits {
  maxMessageBytes: number;
  maxBatchItems: number;
  ruleBudgetMs: number;
  llmTimeoutMs: number;
  ruleWorkers: number;
  /** One stream's window: items and bytes held (read, not yet written) before reading pauses. */
  streamWindow?: WindowLimits;
  /** Bytes all streams may hold together. */
  streamSharedBytes?: number;
}

/**
 * The one implementation of tinyv.v1.VerifierService. The gRPC (grpc-js) and
 * Connect adapters only translate transport details into these calls.
 */
export class VerifierServiceImpl {
  /** Aborted when the server starts draining; each open stream listens once. */
  private readonly draining = new AbortController();
  private readonly drainStall = new AbortController();
  private readonly shared: ByteBudget;

  constructor(
    private readonly hybrid: HybridVerifier,
    private readonly judge: Judge | undefined,
    private readonly limits: ServiceLimits,
  ) {
    listenMany(this.draining.signal);
    this.shared = new ByteBudget(limits.streamSharedBytes ?? DEFAULT_SHARED_BYTES);
  }

  verify(req: VerifyRequest, signal?: AbortSignal): Promise<Verdict> {
    listenMany(signal);
    return this.guarded(req.id, this.hybrid.verify(req, undefined, signal));
  }

  /** `invalid(i)`: why item i is bad before it is even read (e.g. a JSON value the decoder dropped). */
  async verifyBatch(
    req: VerifyBatchRequest,
    signal?: AbortSignal,
    invalid?: (index: number) => string | undefined,
  ): Promise<VerifyBatchResponse> {
    if (req.items.length > this.limits.maxBatchItems) {
      throw new ServiceError(
        Code.InvalidArgument,
        `batch has ${req.items.length} items; the limit is ${this.limits.maxBatchItems} (--max-batch-items): split it or use VerifyStream`,
      );
    }
    listenMany(signal);
    const verdicts = await Promise.all(
      req.items.map((item, i) => {
        const why = invalid?.(i);
        if (why) return errorVerdict(item.id, ErrorCode.INVALID_ARGUMENT, why);
        return this.guarded(item.id, this.hybrid.verify(item, req.options, signal));
      }),
    );
    return create(VerifyBatchResponseSchema, { verdicts });
  }

  /**
   * Verdicts leave as soon as each is ready. Reading pauses while the stream's
   * window (items and bytes held: read but not answered, answered but not
   * written) or the server's shared byte budget is full, so a client that stops
   * reading holds a bounded amount of memory. When `signal` aborts (the client
   * went away, cancelled, or its deadline passed) everything the stream holds is
   * released at once and its pending LLM calls are aborted. When the server
   * drains, reading stops, the items already read are answered, and the stream
   * ends with UNAVAILABLE so the client resends the rest elsewhere.
   */
  async *verifyStream(
    input: AsyncIterable<VerifyRequest | Malformed>,
    signal?: AbortSignal,
  ): AsyncGenerator<Verdict> {
    for await (const [v] of this.stream(input, signal, 1)) yield v as Verdict;
  }

  /**
   * VerifyStream with packs of items each way: the items of each pack are read as if streamed one by
   * one (the same window), and each pack out holds the verdicts ready at that moment.
   */
  async *verifyPackedStream(
    input: AsyncIterable<VerifyPack | Malformed>,
    signal?: AbortSignal,
  ): AsyncGenerator<VerdictPack> {
    const max = this.limits.maxBatchItems;
    for await (const verdicts of this.stream(unpack(input, max), signal, max)) {
      yield create(VerdictPackSchema, { verdicts });
    }
  }

  /** The stream's core: verdicts in groups of those ready, at most `pack` to a group. */
  private async *stream(
    input: AsyncIterable<VerifyRequest | Malformed>,
    signal: AbortSignal | undefined,
    pack: number,
  ): AsyncGenerator<Verdict[]> {
    const out = new AsyncQueue<Verdict>();
    const gone = new AbortController(); // the stream is over, for whatever reason
    // The client is gone: nothing more will be written, so the verdicts still to come are not awaited.
    const onGone = () => {
      gone.abort(signal?.reason);
      out.end();
    };
    if (signal?.aborted) onGone();
    signal?.addEventListener("abort", onGone, { once: true });
    listenMany(gone.signal);
    // Reading stops when the stream is over or the server drains (listeners, not AbortSignal.any:
    // Node 20's composed signals can be collected while still wanted).
    const stop = new AbortController();
    const stopReading = stop.signal;
    const onStopCause = () => stop.abort();
    for (const cause of [gone.signal, this.draining.signal]) {
      if (cause.aborted) stop.abort();
      cause.addEventListener("abort", onStopCause, { once: true });
    }
    const window = new StreamWindow(this.limits.streamWindow ?? DEFAULT_WINDOW, this.shared);
    let pending = 0; // read, verdict not computed yet
    let inputDone = false;
    let index = 0;
    let cutShort = false; // reading stopped by the drain, not by the client's half-close

    const close = () => {
      if (!cutShort) return out.end();
      const why = `server shutting down: the ${index} items read were answered; send the rest again`;
      out.fail(new ServiceError(Code.Unavailable, why));
    };
    const settle = (cost: number, v: Verdict) => {
      pending--;
      if (gone.signal.aborted) return;
      // The item's bytes are now its verdict's.
      window.release(cost, 1);
      window.hold(verdictBytes(v), 1);
      out.push(v);
      if (inputDone && pending === 0) close();
    };
    // Waiting for the next message can be cut short by stopReading. One listener per stream, and no
    // promise that outlives its wait (a race against one long-lived promise would keep a reaction
    // per item), so a stream of millions of items holds nothing per item.
    let interrupt: ((v: typeof STOPPED) => void) | undefined;
    const onStop = () => interrupt?.(STOPPED);
    stopReading.addEventListener("abort", onStop, { once: true });
    const nextOrStop = <T>(p: Promise<T>) =>
      new Promise<T | typeof STOPPED>((resolve, reject) => {
        interrupt = resolve;
        p.then(resolve, reject);
      });
    const reader = async () => {
      const items = input[Symbol.asyncIterator]();
      try {
        for (;;) {
          const next = stopReading.aborted ? STOPPED : await nextOrStop(items.next());
          if (next === STOPPED) {
            cutShort = !gone.signal.aborted;
            void items.return?.();
            break;
          }
          if (next.done) break;
          const item = next.value;
          index++;
          pending++;
          if (item instanceof Malformed) {
            const v = errorVerdict("", ErrorCode.INVALID_ARGUMENT, `stream message ${index}: ${item.reason}`);
            window.hold(0, 1);
            settle(0, v);
          } else {
            const cost = itemBytes(item);
            window.hold(cost, 1);
            this.guarded(item.id, this.hybrid.verify(item, undefined, gone.signal)).then((v) =>
              settle(cost, v),
            );
          }
          await window.admit(0, stopReading);
        }
        inputDone = true;
        if (pending === 0) close();
      } catch (err) {
        out.fail(err);
      }
    };
    void reader();
    try {
      for await (const v of out) {
        const group = pack > 1 ? [v, ...out.take(pack - 1)] : [v];
        yield group;
        window.release(
          group.reduce((n, g) => n + verdictBytes(g), 0),
          group.length,
        );
      }
    } finally {
      // Normal end, error, or the transport stopped pulling (client gone): release everything now.
      // Aborting also wakes the reader, which then lets go of the input.
      gone.abort(new ServiceError(Code.Canceled, "stream closed"));
      signal?.removeEventListener("abort", onGone);
      stopReading.removeEventListener("abort", onStop);
      this.draining.signal.removeEventListener("abort", onStopCause);
      out.end();
      window.releaseAll();
    }
  }

  /** Stop reading open streams (they end once their items are answered); unary calls finish as usual. */
  drain(): void {
    this.draining.abort();
    setTimeout(() => this.drainStall.abort(), DRAIN_STALL_MS).unref();
  }

  /**
   * Aborts shortly after the drain starts: a transport then stops waiting on a
   * client that reads nothing (its stream ends; the client resends what it did not get).
   */
  get stalledDrain(): AbortSignal {
    return this.drainStall.signal;
  }

  getServerInfo(_req?: GetServerInfoRequest): ServerInfo {
    const s = this.hybrid.settings;
    return create(ServerInfoSchema, {
      version: VERSION,
      defaultMode: s.defaultMode,
      defaultLlmWeight: s.llmWeight,
      llmBackends: this.judge?.backends() ?? [],
      llmModel: this.judge?.model() ?? "",
      ruleWorkers: this.limits.ruleWorkers,
      limits: {
        maxMessageBytes: BigInt(this.limits.maxMessageBytes),
        maxItemBytes: BigInt(s.maxItemBytes),
        maxBatchItems: this.limits.maxBatchItems,
        ruleBudgetMs: this.limits.ruleBudgetMs,
        llmTimeoutMs: this.judge ? this.limits.llmTimeoutMs : 0,
      },
    });
  }

  /** A fault while verifying one item becomes that item's error, never the call's. */
  private guarded(id: string, verdict: Promise<Verdict>): Promise<Verdict> {
    return verdict.catch((err: unknown) =>
      errorVerdict(id, ErrorCode.INTERNAL, `internal error: ${(err as Error).message}`),
    );
  }
}

/** The items of each pack in turn; a pack over `max` items ends the stream (as a batch would fail). */
async function* unpack(
  packs: AsyncIterable<VerifyPack | Malformed>,
  max: number,
): AsyncGenerator<VerifyRequest | Malformed> {
  for await (const p of packs) {
    if (p instanceof Malformed) {
      yield p;
      continue;
    }
    if (p.items.length > max) {
      throw new ServiceError(
        Code.InvalidArgument,
        `a pack has ${p.items.length} items; the limit is ${max} (--max-batch-items)`,
      );
    }
    yield* p.items;
  }
}

/** Every pending item of a call may watch its signal (to abort its LLM call): thousands are expected, not a leak. */
function listenMany(signal: AbortSignal | undefined): void {
  if (signal) setMaxListeners(0, signal);
}

/** What an item costs a stream's window: its text, as held in memory (a rough byte count). */
function itemBytes(r: VerifyRequest): number {
  return (
    64 + r.id.length + r.question.length + r.groundTruth.length + r.response.length + r.dataSource.length
  );
}

function verdictBytes(v: Verdict): number {
  return 128 + v.id.length + v.extractedAnswer.length + v.llmDetail.length + (v.error?.message.length ?? 0);
}
