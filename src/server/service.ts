import { setMaxListeners } from "node:events";
import { create } from "@bufbuild/protobuf";
import {
  ErrorCode,
  type GetServerInfoRequest,
  type ServerInfo,
  ServerInfoSchema,
  type Verdict,
  type VerifyBatchRequest,
  type VerifyBatchResponse,
  VerifyBatchResponseSchema,
  type VerifyRequest,
} from "../gen/tinyv/v1/verifier_pb.js";
import { errorVerdict, type HybridVerifier } from "../hybrid/verifier.js";
import type { Judge } from "../llm/types.js";
import { VERSION } from "../version.js";
import { Code, ServiceError } from "./errors.js";
import { AsyncQueue } from "./queue.js";

const DRAINED = Symbol("drained");

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
  /** Verdicts of one stream computed but not yet written, before reading pauses. */
  streamWindow?: number;
}

/**
 * The one implementation of tinyv.v1.VerifierService. The gRPC (grpc-js) and
 * Connect adapters only translate transport details into these calls.
 */
export class VerifierServiceImpl {
  /** Aborted when the server starts draining; each open stream listens once. */
  private readonly draining = new AbortController();

  constructor(
    private readonly hybrid: HybridVerifier,
    private readonly judge: Judge | undefined,
    private readonly limits: ServiceLimits,
  ) {
    listenMany(this.draining.signal);
  }

  verify(req: VerifyRequest, signal?: AbortSignal): Promise<Verdict> {
    listenMany(signal);
    return this.guarded(req.id, this.hybrid.verify(req, undefined, signal));
  }

  async verifyBatch(req: VerifyBatchRequest, signal?: AbortSignal): Promise<VerifyBatchResponse> {
    if (req.items.length > this.limits.maxBatchItems) {
      throw new ServiceError(
        Code.InvalidArgument,
        `batch has ${req.items.length} items; the limit is ${this.limits.maxBatchItems} (--max-batch-items): split it or use VerifyStream`,
      );
    }
    listenMany(signal);
    const verdicts = await Promise.all(
      req.items.map((item) => this.guarded(item.id, this.hybrid.verify(item, req.options, signal))),
    );
    return create(VerifyBatchResponseSchema, { verdicts });
  }

  /**
   * Verdicts leave as soon as each is ready. Reading pauses while `streamWindow`
   * verdicts wait to be computed or written, so a slow reader bounds memory.
   * When the server drains, reading stops, the items already read are answered,
   * and the stream ends with UNAVAILABLE so the client resends the rest elsewhere.
   */
  async *verifyStream(
    input: AsyncIterable<VerifyRequest | Malformed>,
    signal?: AbortSignal,
  ): AsyncGenerator<Verdict> {
    listenMany(signal);
    const window = this.limits.streamWindow ?? 512;
    const out = new AsyncQueue<Verdict>();
    let pending = 0; // read, verdict not computed yet
    let unyielded = 0; // read, verdict not handed to the transport yet
    let inputDone = false;
    let cutShort = false;
    let resume: (() => void) | undefined;
    let index = 0;

    const close = () => {
      if (!cutShort) return out.end();
      const why = `server shutting down: the ${index} items read were answered; send the rest again`;
      out.fail(new ServiceError(Code.Unavailable, why));
    };
    const settle = (v: Verdict) => {
      pending--;
      out.push(v);
      if (inputDone && pending === 0) close();
    };
    // Each wait below can be cut short by the drain. One listener per stream, and no promise that
    // outlives its wait, so a stream of millions of items holds nothing per item.
    let interrupt: ((v: typeof DRAINED) => void) | undefined;
    const onDrain = () => interrupt?.(DRAINED);
    const drainable = <T>(p: Promise<T>) =>
      new Promise<T | typeof DRAINED>((resolve, reject) => {
        interrupt = resolve;
        if (this.draining.signal.aborted) resolve(DRAINED);
        p.then(resolve, reject);
      });
    const reader = async () => {
      const items = input[Symbol.asyncIterator]();
      this.draining.signal.addEventListener("abort", onDrain);
      try {
        for (;;) {
          const next = await drainable(items.next());
          if (next === DRAINED) {
            cutShort = true;
            void items.return?.();
            break;
          }
          if (next.done || signal?.aborted) break;
          const item = next.value;
          pending++;
          unyielded++;
          index++;
          if (item instanceof Malformed) {
            settle(errorVerdict("", ErrorCode.INVALID_ARGUMENT, `stream message ${index}: ${item.reason}`));
          } else {
            this.guarded(item.id, this.hybrid.verify(item, undefined, signal)).then(settle);
          }
          if (unyielded >= window) await drainable(new Promise<void>((r) => (resume = r)));
        }
        inputDone = true;
        if (pending === 0) close();
      } catch (err) {
        out.fail(err);
      } finally {
        this.draining.signal.removeEventListener("abort", onDrain);
      }
    };
    void reader();
    for await (const v of out) {
      yield v;
      unyielded--;
      if (resume && unyielded < window) {
        const r = resume;
        resume = undefined;
        r();
      }
    }
  }

  /** Stop reading open streams (they end once their items are answered); unary calls finish as usual. */
  drain(): void {
    this.draining.abort();
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

/** Every pending item of a call may watch its signal (to abort its LLM call): thousands are expected, not a leak. */
function listenMany(signal: AbortSignal | undefined): void {
  if (signal) setMaxListeners(0, signal);
}
