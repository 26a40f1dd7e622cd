import { defaultMode } from "../config/load.js";
import type { Config } from "../config/schema.js";
import { createLog } from "../log.js";
import { startServer } from "../server/index.js";

/** `tinyv serve`: bound addresses on stdout first (scripts read them), logs on stderr. */
export async function serve(config: Config): Promise<void> {
  const log = createLog(config.logLevel);
  const server = await startServer(config, log);
  const host = config.host.includes(":") ? `[${config.host}]` : config.host;
  process.stdout.write(`listening on ${host}:${server.grpcPort}\nhttp on ${host}:${server.httpPort}\n`);
  log(
    "info",
    `tinyv serving: gRPC ${host}:${server.grpcPort}, HTTP ${host}:${server.httpPort}, mode ${defaultMode(config)}, ${config.workers} rule workers${config.tlsCert ? ", TLS" : ""}${config.authToken ? ", bearer auth" : ""}`,
  );
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) {
      log("warn", `${signal} again: exiting now`);
      process.exit(1);
    }
    stopping = true;
    log("info", `${signal}: finishing in-flight items (up to ${config.shutdownGraceMs} ms), then exiting`);
    server.close().then(
      () => {
        log("info", "stopped");
        process.exit(0);
      },
      (err) => {
        log("error", `shutdown failed: ${(err as Error).message}`);
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
}
