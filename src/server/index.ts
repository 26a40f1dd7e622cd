import { defaultMode } from "../config/load.js";
import type { Config } from "../config/schema.js";
import { Mode } from "../gen/tinyv/v1/verifier_pb.js";
import { HybridVerifier, type VerdictObserver } from "../hybrid/verifier.js";
import { createJudge, type LlmJudge } from "../llm/index.js";
import type { Log } from "../log.js";
import { RulePool } from "../rules/pool.js";
import { Auth } from "./auth.js";
import { GrpcTransport } from "./grpc.js";
import { HttpTransport } from "./http.js";
import { Metrics } from "./metrics.js";
import { VerifierServiceImpl } from "./service.js";

const MODE_BY_NAME = {
  addon: Mode.ADDON,
  llm_only: Mode.LLM_ONLY,
  rules_only: Mode.RULES_ONLY,
  mixed: Mode.MIXED,
};

/** The verifier stack without transport: shared by `serve`, `check` and `eval`. */
export interface Engine {
  hybrid: HybridVerifier;
  judge: LlmJudge | undefined;
  pool: RulePool;
  close(): Promise<void>;
}

/**
 * `waitForJudge` (the default, for `check` and `eval`): resolve once the LLM is
 * ready. `serve` passes false, opens its ports at once and waits for `judge.ready()` itself.
 */
export async function createEngine(
  config: Config,
  log: Log,
  observe?: VerdictObserver,
  waitForJudge = true,
): Promise<Engine> {
  const pool = new RulePool({
    threads: config.workers,
    budgetMs: config.ruleBudgetMs,
    relTol: config.relTol,
  });
  const warming = pool.warm();
  const judge = config.llmUrl.length > 0 ? createJudge(config, log) : undefined;
  const mode = defaultMode(config);
  if (!judge && mode !== "rules_only") {
    log(
      "warn",
      `mode ${mode} wants an LLM but none is configured (--llm-url): rule verdicts only, LLM outcome NOT_CONFIGURED`,
    );
  }
  const ready = judge?.ready();
  if (waitForJudge) await ready;
  await warming;
  const hybrid = new HybridVerifier(
    pool,
    judge,
    {
      defaultMode: MODE_BY_NAME[mode],
      llmWeight: config.llmWeight,
      softReward: config.softReward,
      llmFailure: config.llmFailure,
      llmTailChars: config.llmTailChars,
      restatedAnswers: config.restatedAnswers,
      maxItemBytes: config.maxItemBytes,
    },
    observe,
  );
  return {
    hybrid,
    judge,
    pool,
    close: async () => {
      await judge?.close();
      await pool.close();
    },
  };
}

export interface RunningServer {
  grpcPort: number;
  httpPort: number;
  /** Stop taking calls, let in-flight items finish (up to the grace period), release everything. */
  close(): Promise<void>;
}

export async function startServer(config: Config, log: Log): Promise<RunningServer> {
  const metrics = new Metrics();
  const engine = await createEngine(config, log, metrics.observe, false);
  const judge = engine.judge;
  if (judge) metrics.watchJudge(() => judge.stats());
  const impl = new VerifierServiceImpl(engine.hybrid, engine.judge, {
    maxMessageBytes: config.maxMessageBytes,
    maxBatchItems: config.maxBatchItems,
    ruleBudgetMs: config.ruleBudgetMs,
    llmTimeoutMs: config.llmTimeoutMs,
    ruleWorkers: config.workers,
    streamWindow: { items: config.streamWindowItems, bytes: config.streamWindowBytes },
    streamSharedBytes: config.streamSharedBytes,
  });
  const shared = {
    host: config.host,
    maxMessageBytes: config.maxMessageBytes,
    auth: new Auth(config.authToken, config.authOpen),
    tlsCert: config.tlsCert,
    tlsKey: config.tlsKey,
    streamStallMs: config.streamStallMs,
    maxStreams: config.maxStreams,
    maxStreamsPerConnection: config.maxStreamsPerConnection,
    keepaliveMs: config.keepaliveMs,
    keepaliveTimeoutMs: config.keepaliveTimeoutMs,
    idleTimeoutMs: config.idleTimeoutMs,
  };
  const grpc = new GrpcTransport(impl, metrics, {
    ...shared,
    port: config.port,
    maxConnectionAgeMs: config.maxConnectionAgeMs,
    maxConnectionAgeGraceMs: config.maxConnectionAgeGraceMs,
  });
  const http = new HttpTransport(impl, metrics, { ...shared, port: config.httpPort });
  let grpcPort: number;
  let httpPort: number;
  try {
    grpcPort = await grpc.listen();
    httpPort = await http.listen();
  } catch (err) {
    grpc.server.forceShutdown();
    http.server.close();
    await engine.close();
    throw err;
  }
  // The ports are open at once, so a probe can tell "starting" from "dead": NOT_SERVING until the LLM
  // is ready (or its ready wait runs out); calls that come meanwhile wait for it.
  let closing = false;
  if (judge) {
    grpc.setServing(false);
    http.setServing(false);
    void judge.ready().then(() => {
      if (closing) return;
      grpc.setServing(true);
      http.setServing(true);
    });
  }
  return {
    grpcPort,
    httpPort,
    close: async () => {
      closing = true;
      impl.drain();
      await Promise.all([grpc.close(config.shutdownGraceMs), http.close(config.shutdownGraceMs)]);
      await engine.close();
    },
  };
}
