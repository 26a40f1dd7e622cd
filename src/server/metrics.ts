import { Counter, Gauge, Histogram, Registry } from "prom-client";
import {
  DecidedBy,
  ErrorCode,
  LlmOutcome,
  Mode,
  RuleOutcome,
  type Verdict,
} from "../gen/tinyv/v1/verifier_pb.js";

/** What the metrics read from the LLM verifier. */
export interface LlmStats {
  requests: number;
  calls: number;
  cacheHits: number;
  shared: number;
  retries: number;
  circuitOpened: number;
  inFlight: number;
  queued: number;
  cacheEntries: number;
}

const BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** Prometheus metrics, scraped from GET /metrics on the HTTP port. */
export class Metrics {
  readonly registry = new Registry();
  private readonly items = new Counter({
    name: "tinyv_items_total",
    help: "Verdicts given, by mode, deciding stage and outcomes",
    labelNames: ["mode", "decided_by", "rule_outcome", "llm_outcome"] as const,
    registers: [this.registry],
  });
  private readonly errors = new Counter({
    name: "tinyv_item_errors_total",
    help: "Items that could not be verified, by error code",
    labelNames: ["code"] as const,
    registers: [this.registry],
  });
  private readonly seconds = this.histogram(
    "tinyv_item_seconds",
    "Time from receiving an item to its verdict",
  );
  private readonly ruleSeconds = this.histogram("tinyv_rule_seconds", "Time in the rule verifier per item");
  private readonly llmSeconds = this.histogram(
    "tinyv_llm_seconds",
    "Time waiting for the LLM verifier per item that asked it",
  );
  readonly rpcs = new Counter({
    name: "tinyv_rpcs_total",
    help: "Calls received, by method and transport",
    labelNames: ["method", "transport"] as const,
    registers: [this.registry],
  });
  readonly streams = new Gauge({
    name: "tinyv_open_streams",
    help: "VerifyStream calls open now",
    registers: [this.registry],
  });

  /**
   * The LLM verifier's own counters (calls, cache, de-duplication, retries,
   * circuit breaker, queue), read at scrape time.
   */
  watchJudge(stats: () => LlmStats): void {
    const series: [string, string, (s: LlmStats) => number][] = [
      ["tinyv_llm_requests", "Verdicts asked of the LLM verifier", (s) => s.requests],
      ["tinyv_llm_http_calls", "HTTP calls made to LLM backends (each retry counts)", (s) => s.calls],
      ["tinyv_llm_cache_hits", "LLM verdicts answered from the cache", (s) => s.cacheHits],
      ["tinyv_llm_shared", "LLM verdicts that joined an identical call in flight", (s) => s.shared],
      ["tinyv_llm_retries", "LLM calls retried", (s) => s.retries],
      ["tinyv_llm_circuit_opened", "Times an LLM backend's circuit breaker opened", (s) => s.circuitOpened],
    ];
    for (const [name, help, read] of series) {
      new Counter({
        name: `${name}_total`,
        help,
        registers: [this.registry],
        collect() {
          // The judge keeps the running totals; the counter shows them as they are.
          this.reset();
          this.inc(read(stats()));
        },
      });
    }
    const gauges: [string, string, (s: LlmStats) => number][] = [
      ["tinyv_llm_in_flight", "LLM calls in flight now", (s) => s.inFlight],
      ["tinyv_llm_queued", "LLM calls waiting for a backend slot", (s) => s.queued],
      ["tinyv_llm_cache_entries", "Entries in the LLM verdict cache", (s) => s.cacheEntries],
    ];
    for (const [name, help, read] of gauges) {
      new Gauge({
        name,
        help,
        registers: [this.registry],
        collect() {
          this.set(read(stats()));
        },
      });
    }
  }

  private histogram(name: string, help: string): Histogram {
    return new Histogram({ name, help, buckets: BUCKETS, registers: [this.registry] });
  }

  observe = (v: Verdict): void => {
    if (v.error) {
      this.errors.inc({ code: ErrorCode[v.error.code] });
    } else {
      this.items.inc({
        mode: Mode[v.mode],
        decided_by: DecidedBy[v.decidedBy],
        rule_outcome: RuleOutcome[v.ruleOutcome],
        llm_outcome: LlmOutcome[v.llmOutcome],
      });
    }
    const t = v.timings;
    if (!t) return;
    this.seconds.observe(t.totalMs / 1000);
    if (t.rulesMs > 0) this.ruleSeconds.observe(t.rulesMs / 1000);
    if (t.llmMs > 0) this.llmSeconds.observe(t.llmMs / 1000);
  };
}
