//! Streams N items through `VerifyStream` and prints one JSON line:
//! count, seconds, verdicts per second and latency percentiles.
//!
//! ```text
//! cargo run --release --example tinyv-bench -- --url http://127.0.0.1:50051 --n 10000
//! ```
//!
//! Options: `--url URL` (required), `--n N` (default 10000), `--streams S`
//! (parallel streams sharing the N items, default 1), `--token T` (bearer
//! token). Latency is per item: from the client handing it to the transport
//! to its verdict arriving.

use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tinyv_client::{Client, VerifyRequest};
use tokio_stream::StreamExt;

struct Args {
    url: String,
    n: usize,
    streams: usize,
    token: Option<String>,
}

const USAGE: &str = "usage: tinyv-bench --url URL [--n N] [--streams S] [--token T]";

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        url: String::new(),
        n: 10_000,
        streams: 1,
        token: None,
    };
    let mut argv = std::env::args().skip(1);
    while let Some(flag) = argv.next() {
        let (name, inline) = match flag.split_once('=') {
            Some((name, value)) => (name.to_string(), Some(value.to_string())),
            None => (flag, None),
        };
        if name == "-h" || name == "--help" {
            return Err(USAGE.to_string());
        }
        let value = inline
            .or_else(|| argv.next())
            .ok_or_else(|| format!("{name} needs a value\n{USAGE}"))?;
        let number = |v: &str| {
            v.parse::<usize>()
                .map_err(|_| format!("{name}: not a number: {v:?}"))
        };
        match name.as_str() {
            "--url" => args.url = value,
            "--n" => args.n = number(&value)?,
            "--streams" => args.streams = number(&value)?.max(1),
            "--token" => args.token = Some(value),
            _ => return Err(format!("unknown option {name}\n{USAGE}")),
        }
    }
    if args.url.is_empty() {
        return Err(format!("--url is required\n{USAGE}"));
    }
    Ok(args)
}

/// Item `i`: a mix of right and wrong answers in a few shapes the rule
/// verifier handles, so each verdict costs real work.
fn item(i: usize) -> VerifyRequest {
    let id = i.to_string();
    let k = i % 97;
    match i % 4 {
        0 => VerifyRequest::new(id, "\\frac12", "so the answer is \\boxed{0.5}"),
        1 => VerifyRequest::new(id, k.to_string(), format!("\\boxed{{{}}}", k + 1)),
        2 => VerifyRequest::new(
            id,
            format!("({k},2),(4,{})", k + 3),
            format!("The points are \\boxed{{({k},2),(4,{})}}", k + 3),
        ),
        _ => VerifyRequest::new(
            id,
            format!("{}", (k + 1) * 1000),
            format!("<think>adding up</think> The final answer is {},000", k + 1),
        ),
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = (p / 100.0 * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    match run(args).await {
        Ok(line) => {
            println!("{line}");
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("tinyv-bench: {err}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> Result<String, tinyv_client::Error> {
    let mut builder =
        Client::builder(args.url.as_str()).stream_idle_timeout(Duration::from_secs(60));
    if let Some(token) = &args.token {
        builder = builder.bearer_token(token);
    }
    let client = builder.connect().await?;
    // One round trip first, so the timing covers verification, not connecting.
    client.server_info().await?;

    let start = Instant::now();
    // Nanoseconds after `start` at which item i was handed to the transport.
    let sent_at: Arc<Vec<AtomicU64>> = Arc::new((0..args.n).map(|_| AtomicU64::new(0)).collect());
    let mut tasks = Vec::with_capacity(args.streams);
    for s in 0..args.streams {
        let indices = (s..args.n).step_by(args.streams);
        let stamps = Arc::clone(&sent_at);
        let items = tokio_stream::iter(indices).map(move |i| {
            stamps[i].store(start.elapsed().as_nanos() as u64, Ordering::Relaxed);
            item(i)
        });
        let client = client.clone();
        let sent_at = Arc::clone(&sent_at);
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut correct = 0usize;
            let mut item_errors = 0usize;
            let mut verdicts = client.verify_stream(items);
            while let Some(verdict) = verdicts.next().await {
                let verdict = verdict?;
                let now = start.elapsed().as_nanos() as u64;
                if let Ok(i) = verdict.id.parse::<usize>() {
                    let sent = sent_at[i].load(Ordering::Relaxed);
                    latencies.push(now.saturating_sub(sent) as f64 / 1e6);
                }
                correct += usize::from(verdict.correct);
                item_errors += usize::from(verdict.item_error().is_some());
            }
            Ok::<_, tinyv_client::Error>((latencies, correct, item_errors))
        }));
    }

    let mut latencies = Vec::with_capacity(args.n);
    let (mut correct, mut item_errors) = (0, 0);
    for task in tasks {
        let (l, c, e) = task.await.expect("a bench stream task panicked")?;
        latencies.extend(l);
        correct += c;
        item_errors += e;
    }
    let seconds = start.elapsed().as_secs_f64();
    latencies.sort_by(f64::total_cmp);
    let count = latencies.len();
    Ok(format!(
        concat!(
            "{{\"count\":{},\"seconds\":{:.3},\"verdicts_per_second\":{:.1},",
            "\"latency_p50_ms\":{:.2},\"latency_p99_ms\":{:.2},",
            "\"streams\":{},\"correct\":{},\"item_errors\":{}}}"
        ),
        count,
        seconds,
        count as f64 / seconds,
        percentile(&latencies, 50.0),
        percentile(&latencies, 99.0),
        args.streams,
        correct,
        item_errors,
    ))
}
