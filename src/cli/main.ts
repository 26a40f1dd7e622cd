import { setFlagsFromString } from "node:v8";
import { ConfigError } from "../config/load.js";
import { VERSION } from "../version.js";
import { parseCommand, settingsHelp } from "./args.js";

const USAGE = `tinyv ${VERSION}: reward service for RL on reasoning models (rules + TinyV LLM verifier)

usage:
  tinyv serve [settings]                          run the gRPC + HTTP service
  tinyv check --gold G --response R [--question Q] [settings]
                                                  verify one item, print the verdict as JSON
  tinyv eval FILE.jsonl [FILE ...] [--out RESULTS.jsonl] [--report REPORT.html] [--json] [settings]
                                                  score labelled lines (id, question, ground_truth, response, label)
  tinyv --version | --help

settings (flags; also TINYV_<NAME> environment variables and --config FILE.json with camelCase keys):
  --config FILE              JSON file of settings (keys as in the README table)
${settingsHelp()}
`;

/**
 * A run that ends in a second spends more on optimizing code than optimized code saves: V8 optimizes a
 * function after a budget of bytecode run; four times the default budget made \`tinyv eval\` of 2,000 items
 * take 0.81 s of CPU instead of 1.28 s, and left 20,000 items as they were (bench/RESULTS.md, "CLI
 * start-up"). V8's flags are process-wide, so the rule workers started after this get it too.
 */
function tuneForShortRun(): void {
  setFlagsFromString("--interrupt-budget=270336");
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case "serve": {
      const { config } = parseCommand(rest, {});
      // Each command loads only its own modules: `check` and `eval` never load the transports.
      await (await import("./serve.js")).serve(config);
      return -1; // keep running until a signal
    }
    case "check": {
      const { config, own } = parseCommand(rest, {
        gold: { type: "string" },
        response: { type: "string" },
        question: { type: "string" },
      });
      if (typeof own.gold !== "string" || typeof own.response !== "string") {
        throw new ConfigError("check needs --gold and --response");
      }
      tuneForShortRun();
      await (await import("./check.js")).check(
        config,
        own.gold,
        own.response,
        (own.question as string | undefined) ?? "",
      );
      return 0;
    }
    case "eval": {
      const { config, own, positionals } = parseCommand(
        rest,
        { out: { type: "string" }, json: { type: "boolean" }, report: { type: "string" } },
        true,
      );
      if (positionals.length === 0) throw new ConfigError("eval needs at least one FILE.jsonl");
      tuneForShortRun();
      return (await import("./eval.js")).evaluate(config, positionals, {
        out: own.out as string | undefined,
        json: own.json === true,
        report: own.report as string | undefined,
      });
    }
    case "--version":
    case "version":
      process.stdout.write(`${VERSION}\n`);
      return 0;
    case undefined:
    case "--help":
    case "-h":
    case "help":
      process.stdout.write(USAGE);
      return 0;
    default:
      throw new ConfigError(`unknown command "${command}" (serve, check, eval)`);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof ConfigError) {
      process.stderr.write(`tinyv: ${err.message}\n`);
      process.exit(2);
    }
    process.stderr.write(`tinyv: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exit(1);
  },
);
