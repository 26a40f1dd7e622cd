//! Starts a real `tinyv serve` (the repository's Node server) for a test.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread;
use std::time::Duration;

/// How long the server may take to print its address.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// The repository root: two levels above this crate.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("the repository root exists")
}

/// One server at a time: each is CPU-heavy (a Node process and its rule
/// workers), and tests that run side by side on a small machine starve them.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// A `tinyv serve` child process on free ports; killed when dropped.
pub struct TestServer {
    child: Child,
    _turn: Option<MutexGuard<'static, ()>>,
    /// `HOST:PORT` of the gRPC listener, as the server printed it.
    pub addr: String,
    /// `HOST:PORT` of the HTTP listener (metrics).
    pub http_addr: String,
    stderr: Arc<Mutex<String>>,
}

impl TestServer {
    /// Starts `node bin/tinyv.js serve --port 0 --http-port 0` plus `args`.
    pub fn start(args: &[&str]) -> TestServer {
        let turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
        Self::spawn(args, Some(turn))
    }

    /// Starts another server beside one this test already started (its turn
    /// covers both): for tests of several replicas.
    pub fn start_beside(args: &[&str]) -> TestServer {
        Self::spawn(args, None)
    }

    fn spawn(args: &[&str], turn: Option<MutexGuard<'static, ()>>) -> TestServer {
        let root = repo_root();
        let main_js = root.join("dist/cli/main.js");
        assert!(
            main_js.exists(),
            "{} is missing: build the server first with `npm ci` (or `npm run build`) in {}",
            main_js.display(),
            root.display()
        );
        let node = std::env::var("TINYV_TEST_NODE").unwrap_or_else(|_| "node".to_string());
        let mut command = Command::new(&node);
        command
            .current_dir(&root)
            .arg(root.join("bin/tinyv.js"))
            .args([
                "serve",
                "--port",
                "0",
                "--http-port",
                "0",
                "--log-level",
                "warn",
            ])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        // Settings come from flags alone, not from the caller's environment.
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("TINYV_") {
                command.env_remove(key);
            }
        }
        let mut child = command
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {node:?}: {e}"));

        let stderr = Arc::new(Mutex::new(String::new()));
        let mut err_pipe = child.stderr.take().expect("stderr is piped");
        let sink = Arc::clone(&stderr);
        thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = err_pipe.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });

        let (lines_tx, lines_rx) = mpsc::channel();
        let out_pipe = child.stdout.take().expect("stdout is piped");
        thread::spawn(move || {
            // Keep draining after the address line so the server never blocks
            // on a full pipe.
            for line in BufReader::new(out_pipe).lines() {
                let Ok(line) = line else { break };
                let _ = lines_tx.send(line);
            }
        });

        let (mut addr, mut http_addr) = (None, None);
        while addr.is_none() || http_addr.is_none() {
            match lines_rx.recv_timeout(START_TIMEOUT) {
                Ok(line) => {
                    if let Some(a) = line.trim().strip_prefix("listening on ") {
                        addr = Some(a.to_string());
                    } else if let Some(a) = line.trim().strip_prefix("http on ") {
                        http_addr = Some(a.to_string());
                    }
                }
                Err(_) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    panic!(
                        "tinyv serve printed no `listening on`/`http on` lines; stderr:\n{}",
                        stderr.lock().unwrap()
                    );
                }
            }
        }
        TestServer {
            child,
            _turn: turn,
            addr: addr.unwrap(),
            http_addr: http_addr.unwrap(),
            stderr,
        }
    }

    /// The gRPC endpoint as an `http://` URI.
    pub fn url(&self) -> String {
        format!("http://{}", self.connect_addr())
    }

    /// `HOST:PORT` to dial: an unspecified bind address becomes loopback.
    pub fn connect_addr(&self) -> String {
        let (host, port) = self.addr.rsplit_once(':').expect("HOST:PORT");
        match host {
            "0.0.0.0" | "::" | "[::]" | "" => format!("127.0.0.1:{port}"),
            _ => self.addr.clone(),
        }
    }

    /// The port alone.
    pub fn port(&self) -> u16 {
        self.addr
            .rsplit_once(':')
            .and_then(|(_, port)| port.parse().ok())
            .expect("a numeric port")
    }

    /// Items this server has answered, from its `/metrics`; 0 once it is down.
    pub fn items_served(&self) -> u64 {
        use std::io::Write;
        let Ok(mut conn) = std::net::TcpStream::connect(&self.http_addr) else {
            return 0;
        };
        let _ = conn.set_read_timeout(Some(Duration::from_secs(5)));
        let request = format!(
            "GET /metrics HTTP/1.1\r\nhost: {}\r\nconnection: close\r\n\r\n",
            self.http_addr
        );
        let mut text = String::new();
        if conn.write_all(request.as_bytes()).is_err() || conn.read_to_string(&mut text).is_err() {
            return 0;
        }
        text.lines()
            .filter(|line| line.starts_with("tinyv_items_total{"))
            .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
            .sum::<f64>() as u64
    }

    /// What the server wrote to stderr so far.
    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// Sends `signal` (`"KILL"`, `"STOP"`, `"TERM"`...) to the server.
    pub fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(self.child.id().to_string())
            .status()
            .expect("kill runs");
        assert!(status.success(), "kill -{signal} failed");
    }

    /// Kills the server at once (SIGKILL): it goes away without a goodbye.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// PEM files for a TLS test: a private CA and a `localhost` server certificate
/// it signed, made with the `openssl` command in a fresh temporary folder.
pub struct TlsFiles {
    pub dir: PathBuf,
    pub ca_pem: Vec<u8>,
    pub cert: PathBuf,
    pub key: PathBuf,
}

impl TlsFiles {
    /// `None` when the `openssl` command is not installed.
    pub fn create() -> Option<TlsFiles> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let dir = std::env::temp_dir().join(format!("tinyv-tls-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("ext.cnf"),
            "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n\
             keyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n",
        )
        .unwrap();
        let ec = [
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
        ];
        let steps: [&[&str]; 3] = [
            &[
                &["req", "-x509"],
                &ec[..],
                &[
                    "-keyout",
                    "ca.key",
                    "-out",
                    "ca.pem",
                    "-days",
                    "2",
                    "-subj",
                    "/CN=tinyv test CA",
                ],
            ]
            .concat(),
            &[
                &["req"],
                &ec[..],
                &[
                    "-keyout",
                    "server.key",
                    "-out",
                    "server.csr",
                    "-subj",
                    "/CN=localhost",
                ],
            ]
            .concat(),
            &[
                "x509",
                "-req",
                "-in",
                "server.csr",
                "-CA",
                "ca.pem",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-out",
                "server.pem",
                "-days",
                "2",
                "-extfile",
                "ext.cnf",
            ],
        ];
        for args in steps {
            let output = match Command::new("openssl")
                .args(args)
                .current_dir(&dir)
                .output()
            {
                Ok(output) => output,
                Err(_) => return None,
            };
            assert!(
                output.status.success(),
                "openssl {args:?}: {}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
        Some(TlsFiles {
            ca_pem: std::fs::read(dir.join("ca.pem")).unwrap(),
            cert: dir.join("server.pem"),
            key: dir.join("server.key"),
            dir,
        })
    }
}

impl Drop for TlsFiles {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
