//! Several `tinyv serve` replicas behind one client (`ipv4:` list, `dns:///`
//! name): streams spread over them, one replica drains (SIGTERM) and one dies
//! (SIGKILL) mid-run, a replacement joins, and every item is answered once.

mod common;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::TestServer;
use tinyv_client::{Client, VerifyRequest};

/// Item i: right when i is even, wrong when odd, so a verdict given to the
/// wrong item shows.
fn item(i: usize) -> VerifyRequest {
    let gold = (i % 97).to_string();
    let answer = if i.is_multiple_of(2) {
        i % 97
    } else {
        i % 97 + 1
    };
    VerifyRequest::new(i.to_string(), gold, format!("so \\boxed{{{answer}}}"))
}

const REPLICA: &[&str] = &["--workers", "1", "--shutdown-grace-ms", "2000"];

/// Sends items 0..n as batches of `batch` (one `verify_all`, so one stream, per
/// batch), `tasks` at once; counts verdicts into `done` as they are returned.
async fn run(client: &Client, n: usize, batch: usize, tasks: usize, done: Arc<AtomicU64>) {
    let next = Arc::new(AtomicU64::new(0));
    let mut handles = Vec::new();
    for _ in 0..tasks {
        let (client, next, done) = (client.clone(), next.clone(), done.clone());
        handles.push(tokio::spawn(async move {
            loop {
                let start = next.fetch_add(batch as u64, Ordering::AcqRel) as usize;
                if start >= n {
                    return;
                }
                let ids: Vec<usize> = (start..n.min(start + batch)).collect();
                let verdicts = client
                    .verify_all(ids.iter().map(|&i| item(i)))
                    .await
                    .unwrap_or_else(|e| panic!("batch at {start}: {e}"));
                assert_eq!(verdicts.len(), ids.len());
                for (i, verdict) in ids.iter().zip(&verdicts) {
                    assert_eq!(verdict.id, i.to_string());
                    assert!(verdict.error.is_none(), "{verdict:?}");
                    assert_eq!(
                        verdict.correct,
                        i % 2 == 0,
                        "item {i} got another's verdict"
                    );
                }
                done.fetch_add(ids.len() as u64, Ordering::AcqRel);
            }
        }));
    }
    for handle in handles {
        handle.await.expect("a batch task panicked");
    }
}

async fn wait_for(done: &AtomicU64, count: u64) {
    let limit = Instant::now() + Duration::from_secs(120);
    while done.load(Ordering::Acquire) < count {
        assert!(Instant::now() < limit, "the run stalled");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ipv4_list_spreads_streams_and_survives_sigterm_sigkill_and_a_replacement() {
    let first = TestServer::start(REPLICA);
    let mut replicas = [
        first,
        TestServer::start_beside(REPLICA),
        TestServer::start_beside(REPLICA),
    ];
    let target = format!(
        "ipv4:{}",
        replicas
            .iter()
            .map(TestServer::connect_addr)
            .collect::<Vec<_>>()
            .join(",")
    );
    let client = Client::builder(&target).connect().await.unwrap();

    // Spread: every replica gets a share of the streams.
    run(&client, 6_000, 250, 6, Arc::new(AtomicU64::new(0))).await;
    let spread: Vec<u64> = replicas.iter().map(TestServer::items_served).collect();
    assert!(
        spread.iter().all(|&n| n >= 250),
        "a replica took no stream: {spread:?}"
    );

    // 20,000 items; SIGTERM one replica at 20%, SIGKILL another at 40%.
    let n = 20_000;
    let done = Arc::new(AtomicU64::new(0));
    let load = tokio::spawn({
        let (client, done) = (client.clone(), done.clone());
        async move { run(&client, n, 1_000, 6, done).await }
    });
    wait_for(&done, n as u64 / 5).await;
    replicas[0].signal("TERM");
    wait_for(&done, 2 * n as u64 / 5).await;
    replicas[1].kill();
    load.await.expect("every item answered exactly once");

    // A replacement at the drained replica's address gets new streams.
    let port = replicas[0].port().to_string();
    let replacement = TestServer::start_beside(&[REPLICA, &["--port", &port]].concat());
    let limit = Instant::now() + Duration::from_secs(15);
    while replacement.items_served() == 0 {
        assert!(Instant::now() < limit, "no stream reached the replacement");
        run(&client, 1_000, 250, 4, Arc::new(AtomicU64::new(0))).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dns_name_resolves_to_the_replica_and_follows_a_restart() {
    let mut server = TestServer::start(REPLICA);
    let port = server.port().to_string();
    // One address: resends wait for the replacement to start (a few seconds here).
    let client = Client::builder(format!("dns:///localhost:{port}"))
        .resolve_interval(Duration::from_millis(200))
        .retries(30)
        .connect()
        .await
        .unwrap();
    run(&client, 2_000, 500, 2, Arc::new(AtomicU64::new(0))).await;
    assert!(server.items_served() >= 2_000);

    // Killed and replaced at the same address while a run is under way.
    let done = Arc::new(AtomicU64::new(0));
    let load = tokio::spawn({
        let (client, done) = (client.clone(), done.clone());
        async move { run(&client, 6_000, 1_000, 2, done).await }
    });
    wait_for(&done, 1_000).await;
    server.kill();
    let _replacement = TestServer::start_beside(&[REPLICA, &["--port", &port]].concat());
    load.await.expect("every item answered exactly once");
}

#[tokio::test]
async fn a_bad_target_is_a_clear_error() {
    for bad in [
        "dns://8.8.8.8/x:1",
        "dns:///x",
        "ipv4:",
        "dns:///no-such-host.invalid:1",
    ] {
        let error = Client::builder(bad).connect().await.unwrap_err();
        assert!(
            matches!(error, tinyv_client::Error::InvalidEndpoint { .. }),
            "{bad}: {error:?}"
        );
    }
}

/// haproxy (Debian's, from scripts/deps/haproxy.sh) in front of `backends`,
/// balancing each gRPC stream on its own over h2c; stopped when dropped.
struct Haproxy {
    child: std::process::Child,
    port: u16,
    config: std::path::PathBuf,
}

impl Haproxy {
    fn start(backends: &[String]) -> Haproxy {
        let root = common::repo_root();
        let out = std::process::Command::new("bash")
            .arg(root.join("scripts/deps/haproxy.sh"))
            .output()
            .expect("scripts/deps/haproxy.sh runs");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let binary = String::from_utf8_lossy(&out.stdout).trim().to_string();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let servers: String = backends
            .iter()
            .enumerate()
            .map(|(i, b)| format!("    server r{i} {b} proto h2 check inter 200ms fall 1 rise 1\n"))
            .collect();
        let config =
            std::env::temp_dir().join(format!("tinyv-haproxy-{}-{port}.cfg", std::process::id()));
        std::fs::write(
            &config,
            format!(
                "defaults\n    mode http\n    timeout connect 1s\n    timeout client 60s\n    timeout server 60s\n\
                 frontend grpc\n    bind 127.0.0.1:{port} proto h2\n    default_backend tinyv\n\
                 backend tinyv\n    balance roundrobin\n{servers}"
            ),
        )
        .unwrap();
        let child = std::process::Command::new(binary)
            .arg("-db")
            .arg("-f")
            .arg(&config)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("haproxy starts");
        Haproxy {
            child,
            port,
            config,
        }
    }
}

impl Drop for Haproxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.config);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn haproxy_in_front_survives_a_killed_backend() {
    let mut replicas = [
        TestServer::start(REPLICA),
        TestServer::start_beside(REPLICA),
        TestServer::start_beside(REPLICA),
    ];
    let addrs: Vec<String> = replicas.iter().map(TestServer::connect_addr).collect();
    let proxy = Haproxy::start(&addrs);
    let client = Client::builder(format!("127.0.0.1:{}", proxy.port))
        .connect_lazy()
        .unwrap();
    // Wait for haproxy to listen and pass its first health checks.
    let limit = Instant::now() + Duration::from_secs(15);
    while client.verify(item(0)).await.is_err() {
        assert!(Instant::now() < limit, "haproxy never answered");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let n = 12_000;
    let done = Arc::new(AtomicU64::new(0));
    let load = tokio::spawn({
        let (client, done) = (client.clone(), done.clone());
        async move { run(&client, n, 1_000, 6, done).await }
    });
    wait_for(&done, n as u64 * 2 / 5).await;
    replicas[1].kill(); // haproxy resets its streams with CANCEL; verify_all resends them
    load.await.expect("every item answered exactly once");
    assert!(replicas[0].items_served() > 0 && replicas[2].items_served() > 0);
}
