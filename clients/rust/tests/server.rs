//! The client against a real `tinyv serve`, started by each test on free ports.
//!
//! Needs the server built: `npm ci` (or `npm run build`) at the repository root.

mod common;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use common::TestServer;
use tinyv_client::{
    Client, Code, DecidedBy, Error, ErrorCode, Mode, RuleOutcome, VerifyBatchRequest,
    VerifyOptions, VerifyRequest,
};
use tokio::time::timeout;
use tokio_stream::StreamExt;

/// No test waits longer than this for anything.
const LIMIT: Duration = Duration::from_secs(120);

async fn connect(server: &TestServer) -> Client {
    let client = Client::connect(server.url())
        .await
        .expect("connect to tinyv serve");
    warm_up(&client).await;
    client
}

/// Waits until the server judges a clear case right. A fresh server's first
/// items can come back OVER_BUDGET while its rule workers start; the tests
/// check the client, not the server's cold start.
async fn warm_up(client: &Client) {
    let started = Instant::now();
    loop {
        let items: Vec<_> = (0..8).map(item).collect();
        let verdicts = client.verify_batch(items).await.expect("warm-up batch");
        if verdicts
            .iter()
            .all(|v| v.rule_outcome() != RuleOutcome::OverBudget)
        {
            return;
        }
        assert!(
            started.elapsed() < LIMIT,
            "the server stays over budget: {verdicts:?}"
        );
    }
}

/// Item `i` of a stream: even ids are right (`\frac12` vs 0.5), odd ids wrong.
fn item(i: usize) -> VerifyRequest {
    if i.is_multiple_of(2) {
        VerifyRequest::new(i.to_string(), "\\frac12", "so the answer is \\boxed{0.5}")
    } else {
        VerifyRequest::new(i.to_string(), "2", "\\boxed{3}")
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_judges_clear_cases() {
    let server = TestServer::start(&[]);
    let client = connect(&server).await;

    let right = client
        .verify(VerifyRequest::new("right", "\\frac12", "\\boxed{0.5}"))
        .await
        .expect("verify");
    assert_eq!(right.id, "right");
    assert!(right.correct, "{right:?}");
    assert_eq!(right.reward, 1.0);
    assert_eq!(right.rule_outcome(), RuleOutcome::Match);
    assert_eq!(right.decided_by(), DecidedBy::Rules);
    assert!(right.item_error().is_none());

    let wrong = client
        .verify(VerifyRequest::new("wrong", "2", "\\boxed{3}"))
        .await
        .expect("verify");
    assert_eq!(wrong.id, "wrong");
    assert!(!wrong.correct, "{wrong:?}");
    assert_eq!(wrong.reward, 0.0);
    assert_eq!(wrong.rule_outcome(), RuleOutcome::Mismatch);
    assert_eq!(wrong.extracted_answer, "3");

    // A bad item is a verdict with `error` set, not a failed call.
    let bad = client
        .verify(VerifyRequest::new("bad", "", "\\boxed{3}"))
        .await
        .expect("a bad item still gets a verdict");
    assert_eq!(bad.id, "bad");
    let error = bad.item_error().expect("the verdict carries an error");
    assert_eq!(error.code(), ErrorCode::InvalidArgument, "{error:?}");
    assert_eq!(bad.reward, 0.0);
    assert_eq!(bad.decided_by(), DecidedBy::Unspecified);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_batch_answers_in_order() {
    let server = TestServer::start(&[]);
    let client = connect(&server).await;

    let items: Vec<_> = (0..50).map(item).collect();
    let verdicts = client.verify_batch(items).await.expect("verify_batch");
    assert_eq!(verdicts.len(), 50);
    for (i, verdict) in verdicts.iter().enumerate() {
        assert_eq!(verdict.id, i.to_string());
        assert_eq!(verdict.correct, i.is_multiple_of(2), "{verdict:?}");
    }

    // Batch-wide options reach every item.
    let batch = VerifyBatchRequest {
        items: vec![item(0), VerifyRequest::new("empty", "", "x")],
        options: Some(VerifyOptions {
            mode: Mode::RulesOnly as i32,
            ..Default::default()
        }),
    };
    let verdicts = client.verify_batch(batch).await.expect("verify_batch");
    assert_eq!(verdicts.len(), 2);
    assert_eq!(verdicts[0].mode(), Mode::RulesOnly);
    assert!(verdicts[0].correct);
    assert_eq!(
        verdicts[1].item_error().map(|e| e.code()),
        Some(ErrorCode::InvalidArgument)
    );

    assert!(client
        .verify_batch(Vec::new())
        .await
        .expect("empty batch")
        .is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_all_returns_verdicts_in_item_order() {
    let server = TestServer::start(&[]);
    let client = connect(&server).await;

    // Ids need not be unique: verdicts are matched by position.
    let items: Vec<_> = (0..500)
        .map(|i| {
            let mut item = item(i);
            item.id = format!("group-{}", i / 4);
            item
        })
        .collect();
    let verdicts = timeout(LIMIT, client.verify_all(items))
        .await
        .expect("in time")
        .expect("verify_all");
    assert_eq!(verdicts.len(), 500);
    for (i, verdict) in verdicts.iter().enumerate() {
        assert_eq!(verdict.id, format!("group-{}", i / 4));
        assert_eq!(
            verdict.correct,
            i.is_multiple_of(2),
            "item {i}: {verdict:?}"
        );
    }
    assert!(client
        .verify_all(Vec::new())
        .await
        .expect("none")
        .is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_calls_share_a_limited_client() {
    let server = TestServer::start(&[]);
    let client = Client::builder(server.url())
        .concurrency_limit(2)
        .connect()
        .await
        .expect("connect");
    warm_up(&client).await;

    let calls: Vec<_> = (0..32)
        .map(|i| {
            let client = client.clone();
            tokio::spawn(async move { (i, client.verify(item(i)).await) })
        })
        .collect();
    for call in calls {
        let (i, verdict) = timeout(LIMIT, call)
            .await
            .expect("in time")
            .expect("joined");
        let verdict = verdict.expect("verify");
        assert_eq!(verdict.id, i.to_string());
        assert_eq!(verdict.correct, i.is_multiple_of(2));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_info_describes_the_server() {
    let server = TestServer::start(&[]);
    let client = connect(&server).await;
    let info = client.server_info().await.expect("server_info");
    assert!(!info.version.is_empty(), "{info:?}");
    // No LLM configured: the server runs the rules alone.
    assert!(info.llm_backends.is_empty(), "{info:?}");
    assert_eq!(info.default_mode(), Mode::RulesOnly);
    let limits = info.limits.expect("limits");
    assert!(limits.max_batch_items > 0);
    assert!(limits.max_message_bytes > 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stream_of_10000_answers_every_id_once() {
    const N: usize = 10_000;
    let server = TestServer::start(&[]);
    let client = connect(&server).await;

    let run = async {
        let mut verdicts = client.verify_stream(tokio_stream::iter((0..N).map(item)));
        let mut seen: HashMap<usize, bool> = HashMap::with_capacity(N);
        while let Some(verdict) = verdicts.next().await {
            let verdict = verdict.expect("a verdict, not an error");
            let i: usize = verdict.id.parse().expect("a numeric id");
            assert!(i < N, "unknown id {i}");
            assert!(
                seen.insert(i, verdict.correct).is_none(),
                "id {i} answered twice"
            );
        }
        assert_eq!(verdicts.sent(), N as u64);
        assert_eq!(verdicts.answered(), N as u64);
        seen
    };
    let seen = timeout(LIMIT, run)
        .await
        .expect("the stream finished in time");
    assert_eq!(seen.len(), N, "every id answered");
    for (i, correct) in seen {
        assert_eq!(correct, i.is_multiple_of(2), "item {i}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn empty_stream_ends_cleanly() {
    let server = TestServer::start(&[]);
    let client = connect(&server).await;
    let verdicts: Vec<_> = timeout(
        LIMIT,
        client
            .verify_stream(tokio_stream::iter(Vec::<VerifyRequest>::new()))
            .collect(),
    )
    .await
    .expect("an empty stream ends");
    assert!(verdicts.is_empty(), "{verdicts:?}");
}

/// Items without end, paced so the stream is mid-flight when the server dies.
fn endless_items() -> impl tokio_stream::Stream<Item = VerifyRequest> + Send + 'static {
    tokio_stream::iter(0..)
        .map(item)
        .throttle(Duration::from_micros(200))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_killed_mid_stream_ends_the_stream_with_an_error() {
    let mut server = TestServer::start(&[]);
    let client = connect(&server).await;
    let mut verdicts = client.verify_stream(endless_items());

    for _ in 0..200 {
        let verdict = timeout(LIMIT, verdicts.next())
            .await
            .expect("verdicts flow")
            .expect("the stream is open");
        verdict.expect("a verdict before the server dies");
    }

    server.kill();
    let killed = Instant::now();

    // Verdicts already on the wire may still arrive; then comes one error.
    let error = timeout(Duration::from_secs(30), async {
        loop {
            match verdicts.next().await {
                Some(Ok(_)) => continue,
                Some(Err(error)) => break error,
                None => panic!("the stream ended without an error"),
            }
        }
    })
    .await
    .expect("an error comes out of the stream, no hang");
    eprintln!("after {:?}: {error}", killed.elapsed());
    assert!(matches!(error, Error::ConnectionLost(_)), "{error:?}");
    assert_eq!(error.code(), Some(Code::Unavailable));
    assert!(error.is_retryable(), "{error:?}");

    // After the error the stream is over.
    let next = timeout(Duration::from_secs(5), verdicts.next())
        .await
        .expect("the stream ends");
    assert!(next.is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hung_server_trips_the_idle_timeout() {
    let mut server = TestServer::start(&[]);
    let idle = Duration::from_secs(8);
    let client = Client::builder(server.url())
        .stream_idle_timeout(idle)
        .timeout(idle)
        .connect()
        .await
        .expect("connect");
    warm_up(&client).await;
    let mut verdicts = client.verify_stream(endless_items());
    for _ in 0..50 {
        let verdict = timeout(LIMIT, verdicts.next())
            .await
            .expect("verdicts flow");
        verdict.expect("open").expect("a verdict");
    }

    // Frozen, not gone: the connection stays open but nothing answers.
    server.signal("STOP");
    let outcome = timeout(idle * 4, async {
        loop {
            match verdicts.next().await {
                Some(Ok(_)) => continue,
                other => break other,
            }
        }
    })
    .await;
    let unary = client.verify(item(0)).await;
    server.signal("CONT");
    server.kill();

    let error = outcome
        .expect("the idle timeout fires")
        .expect("an error, not the end of the stream")
        .expect_err("an error");
    assert!(matches!(error, Error::Timeout(_)), "{error:?}");
    assert_eq!(error.code(), Some(Code::DeadlineExceeded));
    let error = unary.expect_err("a unary call to a frozen server times out");
    assert!(matches!(error, Error::Timeout(_)), "{error:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bearer_token_is_sent() {
    let server = TestServer::start(&["--auth-token", "s3cret"]);

    let anonymous = Client::connect(server.url()).await.expect("connect");
    let error = anonymous
        .verify(item(0))
        .await
        .expect_err("no token, no verdict");
    assert_eq!(error.code(), Some(Code::Unauthenticated), "{error:?}");
    let error = timeout(
        LIMIT,
        anonymous
            .verify_stream(tokio_stream::iter([item(0)]))
            .next(),
    )
    .await
    .expect("an answer")
    .expect("one item")
    .expect_err("no token, no stream");
    assert_eq!(error.code(), Some(Code::Unauthenticated), "{error:?}");

    let wrong = Client::builder(server.url())
        .bearer_token("guess")
        .connect()
        .await
        .expect("connect");
    let error = wrong.server_info().await.expect_err("wrong token");
    assert_eq!(error.code(), Some(Code::Unauthenticated), "{error:?}");

    let client = Client::builder(server.url())
        .bearer_token("s3cret")
        .connect()
        .await
        .expect("connect");
    warm_up(&client).await;
    assert!(client.verify(item(0)).await.expect("verify").correct);
    let verdicts: Vec<_> = client
        .verify_stream(tokio_stream::iter((0..10).map(item)))
        .collect()
        .await;
    assert_eq!(verdicts.len(), 10);
    assert!(verdicts.iter().all(Result::is_ok), "{verdicts:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_server_is_a_connect_error() {
    // Start a server to learn a free port, then stop it.
    let mut server = TestServer::start(&[]);
    let url = server.url();
    server.kill();

    let started = Instant::now();
    let error = Client::builder(&url)
        .connect_timeout(Duration::from_secs(5))
        .connect()
        .await
        .expect_err("nothing listens there");
    assert!(matches!(error, Error::Connect { .. }), "{error:?}");
    assert!(started.elapsed() < Duration::from_secs(10));

    // A lazy client fails on its first call instead.
    let lazy = Client::builder(&url).connect_lazy().expect("lazy client");
    let error = lazy
        .verify(item(0))
        .await
        .expect_err("nothing listens there");
    assert!(matches!(error, Error::Status(_)), "{error:?}");
    assert_eq!(error.code(), Some(Code::Unavailable), "{error:?}");
    assert!(error.is_retryable());
}

#[cfg(feature = "tls")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_with_a_private_ca() {
    let Some(tls) = common::TlsFiles::create() else {
        eprintln!("skipped: no `openssl` command to make certificates");
        return;
    };
    let cert = tls.cert.to_str().unwrap();
    let key = tls.key.to_str().unwrap();
    let server = TestServer::start(&["--tls-cert", cert, "--tls-key", key]);
    let url = format!("https://localhost:{}", server.port());

    let client = Client::builder(&url)
        .tls_ca_certificate(&tls.ca_pem)
        .connect()
        .await
        .expect("TLS connect with the CA");
    warm_up(&client).await;
    assert!(
        client
            .verify(item(0))
            .await
            .expect("verify over TLS")
            .correct
    );
    let verdicts: Vec<_> = client
        .verify_stream(tokio_stream::iter((0..100).map(item)))
        .collect()
        .await;
    assert_eq!(verdicts.len(), 100);
    assert!(verdicts.iter().all(Result::is_ok));

    // Without the CA the server's certificate is not trusted.
    let error = Client::builder(&url)
        .connect()
        .await
        .expect_err("an unknown issuer is refused");
    assert!(matches!(error, Error::Connect { .. }), "{error:?}");
}
