import type { Config } from "../config/schema.js";
import type { Log } from "../log.js";
import { Auth } from "./auth.js";
import { createEngine } from "./engine.js";
import { GrpcTransport } from "./grpc.js";
import { HttpTransport } from "./http.js";
import { Metrics } from "./metrics.js";
import { VerifierServiceImpl } from "./service.js";

export { createEngine, type Engine } from "./engine.js";

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
