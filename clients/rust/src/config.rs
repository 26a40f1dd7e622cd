//! [`ClientBuilder`]: how to reach the server and how to talk to it.

use std::fmt;
use std::time::Duration;

use tonic::metadata::{Ascii, MetadataValue};
#[cfg(feature = "tls")]
use tonic::transport::{Certificate, ClientTlsConfig, Identity};
use tonic::transport::{Channel, Endpoint};

use crate::client::{BearerAuth, Client};
use crate::error::{Error, Result};
use crate::targets::{self, Targets};

/// Largest message the client sends or accepts unless told otherwise (64 MiB).
pub const DEFAULT_MAX_MESSAGE_BYTES: usize = 64 * 1024 * 1024;

/// Time allowed to open the connection unless told otherwise (10 s).
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// How often a `dns:///` target is resolved again unless told otherwise (30 s,
/// gRPC's own floor between resolutions).
pub const DEFAULT_RESOLVE_INTERVAL: Duration = Duration::from_secs(30);

/// How many times [`Client::verify_all`] reopens a broken stream in a row
/// without getting a verdict, unless told otherwise.
pub const DEFAULT_RETRIES: u32 = 5;

/// Configures and opens a [`Client`].
///
/// Start from [`Client::builder`], set what you need, then call
/// [`connect`](ClientBuilder::connect) (dials now, fails fast when the server is
/// down) or [`connect_lazy`](ClientBuilder::connect_lazy) (dials on first use).
///
/// ```no_run
/// use std::time::Duration;
/// use tinyv_client::Client;
///
/// # async fn run() -> Result<(), tinyv_client::Error> {
/// let client = Client::builder("http://127.0.0.1:50051")
///     .bearer_token("s3cret")
///     .timeout(Duration::from_secs(30))
///     .stream_idle_timeout(Duration::from_secs(60))
///     .concurrency_limit(256)
///     .connect()
///     .await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct ClientBuilder {
    endpoint: String,
    token: Option<String>,
    connect_timeout: Option<Duration>,
    timeout: Option<Duration>,
    stream_idle_timeout: Option<Duration>,
    concurrency_limit: Option<usize>,
    keep_alive: Option<(Duration, Duration)>,
    max_message_bytes: usize,
    resolve_interval: Duration,
    retries: u32,
    #[cfg(feature = "tls")]
    tls: Option<ClientTlsConfig>,
}

impl ClientBuilder {
    /// A builder for `endpoint`: a URI such as `http://127.0.0.1:50051` or
    /// `https://tinyv.internal:443`, or a bare `HOST:PORT` (taken as `http://`),
    /// as `tinyv serve` prints it.
    ///
    /// Several replicas: `ipv4:10.0.0.5:50051,10.0.0.6:50051` (or a plain
    /// comma-separated list of endpoints), or `dns:///NAME:PORT` for every
    /// address NAME resolves to (a Kubernetes headless Service), resolved again
    /// every [`resolve_interval`](Self::resolve_interval). Each call goes to one
    /// of them, balanced by load (tonic's power-of-two-choices over the
    /// connected addresses), so a client's streams spread over the replicas;
    /// [`Client::verify_all`] resends what a dying replica left unanswered.
    pub fn new(endpoint: impl Into<String>) -> Self {
        ClientBuilder {
            endpoint: endpoint.into(),
            token: None,
            connect_timeout: Some(DEFAULT_CONNECT_TIMEOUT),
            timeout: None,
            stream_idle_timeout: None,
            concurrency_limit: None,
            keep_alive: None,
            max_message_bytes: DEFAULT_MAX_MESSAGE_BYTES,
            resolve_interval: DEFAULT_RESOLVE_INTERVAL,
            retries: DEFAULT_RETRIES,
            #[cfg(feature = "tls")]
            tls: None,
        }
    }

    /// How often a `dns:///` target is resolved again (default 30 s): new
    /// replicas join the balance, gone ones leave it.
    pub fn resolve_interval(mut self, every: Duration) -> Self {
        self.resolve_interval = every;
        self
    }

    /// How many times in a row [`Client::verify_all`] reopens a stream that
    /// broke (server gone, connection reset, closed early) before it gives up
    /// (default 5); a verdict in between starts the count again. 0 never resends.
    pub fn retries(mut self, retries: u32) -> Self {
        self.retries = retries;
        self
    }

    /// Sends `authorization: Bearer TOKEN` with every call, for a server
    /// started with `--auth-token TOKEN`.
    pub fn bearer_token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(token.into());
        self
    }

    /// How long opening the connection may take (default 10 s); `None` waits
    /// for as long as the operating system does.
    pub fn connect_timeout(mut self, timeout: impl Into<Option<Duration>>) -> Self {
        self.connect_timeout = timeout.into();
        self
    }

    /// The deadline of each unary call (`verify`, `verify_batch`,
    /// `server_info`), default none.
    ///
    /// The deadline is sent to the server as `grpc-timeout`, so it also bounds
    /// the server's pending LLM calls, and it is enforced here: a late call
    /// fails with [`Error::Timeout`]. Streams are not bounded by it, since a
    /// stream may rightly run for hours; see
    /// [`stream_idle_timeout`](Self::stream_idle_timeout).
    pub fn timeout(mut self, timeout: impl Into<Option<Duration>>) -> Self {
        self.timeout = timeout.into();
        self
    }

    /// Fails a `verify_stream` with [`Error::Timeout`] when items are awaiting
    /// their verdicts and none has come for this long (default: never).
    ///
    /// This catches a server that hangs without closing the connection. Set it
    /// above the slowest verdict you expect (the server's LLM timeout plus
    /// queueing).
    pub fn stream_idle_timeout(mut self, timeout: impl Into<Option<Duration>>) -> Self {
        self.stream_idle_timeout = timeout.into();
        self
    }

    /// At most `limit` calls in flight on this client (and its clones) at once;
    /// further calls wait for a slot. A stream counts as one call for as long
    /// as it is open. Default: no limit.
    pub fn concurrency_limit(mut self, limit: usize) -> Self {
        self.concurrency_limit = Some(limit);
        self
    }

    /// Sends an HTTP/2 PING every `interval`, and drops the connection (failing
    /// its calls) when one goes unanswered for `timeout`. Default: off.
    ///
    /// Useful for long streams over networks that can silently drop a peer.
    pub fn keep_alive(mut self, interval: Duration, timeout: Duration) -> Self {
        self.keep_alive = Some((interval, timeout));
        self
    }

    /// The largest message sent or accepted, in bytes (default 64 MiB). The
    /// server has its own limit (`ServerInfo.limits.max_message_bytes`).
    pub fn max_message_bytes(mut self, bytes: usize) -> Self {
        self.max_message_bytes = bytes;
        self
    }

    /// Uses TLS with these settings (`https://` endpoints use TLS with the
    /// system's root certificates even without this call).
    #[cfg(feature = "tls")]
    pub fn tls_config(mut self, config: ClientTlsConfig) -> Self {
        self.tls = Some(config);
        self
    }

    /// Trusts this PEM-encoded CA certificate (for a server with a private or
    /// self-signed certificate), in addition to the system's roots.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// let ca = std::fs::read("ca.pem")?;
    /// let client = tinyv_client::Client::builder("https://localhost:50051")
    ///     .tls_ca_certificate(ca)
    ///     .connect()
    ///     .await?;
    /// # Ok(()) }
    /// ```
    #[cfg(feature = "tls")]
    pub fn tls_ca_certificate(self, pem: impl AsRef<[u8]>) -> Self {
        let certificate = Certificate::from_pem(pem);
        self.map_tls(|tls| tls.ca_certificate(certificate))
    }

    /// Checks the server's certificate against `domain` rather than the
    /// endpoint's host name.
    #[cfg(feature = "tls")]
    pub fn tls_domain_name(self, domain: impl Into<String>) -> Self {
        let domain = domain.into();
        self.map_tls(|tls| tls.domain_name(domain))
    }

    /// Presents this client certificate and key (both PEM) for mutual TLS.
    #[cfg(feature = "tls")]
    pub fn tls_identity(self, cert_pem: impl AsRef<[u8]>, key_pem: impl AsRef<[u8]>) -> Self {
        let identity = Identity::from_pem(cert_pem, key_pem);
        self.map_tls(|tls| tls.identity(identity))
    }

    #[cfg(feature = "tls")]
    fn map_tls(mut self, f: impl FnOnce(ClientTlsConfig) -> ClientTlsConfig) -> Self {
        let tls = self.tls.take().unwrap_or_else(default_tls);
        self.tls = Some(f(tls));
        self
    }

    /// Opens the connection now and returns the client; fails with
    /// [`Error::Connect`] when the server cannot be reached.
    ///
    /// With several targets the connections open as calls need them (as with
    /// [`connect_lazy`](Self::connect_lazy)); a `dns:///` name is resolved now
    /// and fails here when it does not resolve.
    pub async fn connect(self) -> Result<Client> {
        let auth = self.auth()?;
        match self.targets()? {
            Targets::One(one) => {
                let endpoint = self.endpoint_for(&one)?;
                let channel = endpoint.connect().await.map_err(|source| Error::Connect {
                    endpoint: self.endpoint.clone(),
                    source,
                })?;
                Ok(self.client(channel, auth))
            }
            Targets::List(uris) => self.balanced(uris, auth),
            Targets::Dns { host, port } => {
                let uris = targets::resolve(&host, port)
                    .await
                    .map_err(|e| self.invalid(format!("cannot resolve {host}: {e}")))?;
                self.followed(host, port, uris, auth)
            }
        }
    }

    /// Returns the client at once; the connection is opened on the first call
    /// (and reopened after it drops), so an unreachable server shows up as a
    /// failed call. A `dns:///` name is resolved in the background (this
    /// needs a Tokio runtime).
    pub fn connect_lazy(self) -> Result<Client> {
        let auth = self.auth()?;
        match self.targets()? {
            Targets::One(one) => {
                let channel = self.endpoint_for(&one)?.connect_lazy();
                Ok(self.client(channel, auth))
            }
            Targets::List(uris) => self.balanced(uris, auth),
            Targets::Dns { host, port } => self.followed(host, port, Vec::new(), auth),
        }
    }

    fn targets(&self) -> Result<Targets> {
        targets::parse(&self.endpoint).map_err(|reason| self.invalid(reason))
    }

    fn invalid(&self, reason: String) -> Error {
        Error::InvalidEndpoint {
            endpoint: self.endpoint.clone(),
            reason,
        }
    }

    fn balanced(self, uris: Vec<String>, auth: BearerAuth) -> Result<Client> {
        let endpoints = uris
            .iter()
            .map(|uri| self.endpoint_for(uri))
            .collect::<Result<Vec<_>>>()?;
        let channel = Channel::balance_list(endpoints.into_iter());
        Ok(self.client(channel, auth))
    }

    /// A channel over `uris` that a background task keeps equal to what
    /// `host` resolves to.
    fn followed(
        self,
        host: String,
        port: u16,
        uris: Vec<String>,
        auth: BearerAuth,
    ) -> Result<Client> {
        let (channel, tx) = Channel::balance_channel::<String>(1024);
        for uri in &uris {
            let endpoint = self.endpoint_for(uri)?;
            tx.try_send(tonic::transport::channel::Change::Insert(
                uri.clone(),
                endpoint,
            ))
            .map_err(|e| self.invalid(e.to_string()))?;
        }
        let builder = self.clone();
        // Resolve at once when nothing is known yet (connect_lazy), then every interval.
        let first = if uris.is_empty() {
            Duration::ZERO
        } else {
            self.resolve_interval
        };
        tokio::spawn(targets::follow_dns(
            host,
            port,
            first,
            self.resolve_interval,
            uris.into_iter().collect(),
            tx,
            move |uri| builder.endpoint_for(uri).ok(),
        ));
        Ok(self.client(channel, auth))
    }

    fn endpoint_for(&self, target: &str) -> Result<Endpoint> {
        let uri = targets::uri(target);
        let invalid = |reason: String| self.invalid(reason);
        let mut endpoint = Endpoint::from_shared(uri).map_err(|e| invalid(e.to_string()))?;
        endpoint = endpoint
            .user_agent(concat!("tinyv-client-rust/", env!("CARGO_PKG_VERSION")))
            .map_err(|e| invalid(e.to_string()))?
            .tcp_nodelay(true);
        if let Some(timeout) = self.connect_timeout {
            endpoint = endpoint.connect_timeout(timeout);
        }
        if let Some(limit) = self.concurrency_limit {
            endpoint = endpoint.concurrency_limit(limit);
        }
        if let Some((interval, timeout)) = self.keep_alive {
            endpoint = endpoint
                .http2_keep_alive_interval(interval)
                .keep_alive_timeout(timeout)
                .keep_alive_while_idle(true);
        }
        let https = endpoint.uri().scheme_str() == Some("https");
        #[cfg(feature = "tls")]
        {
            let tls = match (&self.tls, https) {
                (Some(tls), _) => Some(tls.clone()),
                (None, true) => Some(default_tls()),
                (None, false) => None,
            };
            if let Some(tls) = tls {
                endpoint = endpoint.tls_config(tls).map_err(Error::Tls)?;
            }
        }
        #[cfg(not(feature = "tls"))]
        if https {
            return Err(invalid(
                "https:// needs the `tls` feature of tinyv-client".to_string(),
            ));
        }
        Ok(endpoint)
    }

    fn auth(&self) -> Result<BearerAuth> {
        let token = self
            .token
            .as_deref()
            .map(|token| {
                format!("Bearer {token}")
                    .parse::<MetadataValue<Ascii>>()
                    .map_err(|_| Error::InvalidToken)
            })
            .transpose()?;
        Ok(BearerAuth::new(token))
    }

    fn client(self, channel: Channel, auth: BearerAuth) -> Client {
        Client::new(
            channel,
            auth,
            self.max_message_bytes,
            self.timeout,
            self.stream_idle_timeout,
            self.retries,
        )
    }
}

#[cfg(feature = "tls")]
fn default_tls() -> ClientTlsConfig {
    ClientTlsConfig::new().with_native_roots()
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = f.debug_struct("ClientBuilder");
        s.field("endpoint", &self.endpoint)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("connect_timeout", &self.connect_timeout)
            .field("timeout", &self.timeout)
            .field("stream_idle_timeout", &self.stream_idle_timeout)
            .field("concurrency_limit", &self.concurrency_limit)
            .field("keep_alive", &self.keep_alive)
            .field("max_message_bytes", &self.max_message_bytes)
            .field("resolve_interval", &self.resolve_interval)
            .field("retries", &self.retries);
        #[cfg(feature = "tls")]
        s.field("tls", &self.tls.is_some());
        s.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_bare_host_and_port_is_plaintext_http() {
        let endpoint = ClientBuilder::new("127.0.0.1:50051")
            .endpoint_for("127.0.0.1:50051")
            .unwrap();
        assert_eq!(endpoint.uri().to_string(), "http://127.0.0.1:50051/");
        ClientBuilder::new("[::1]:50051").connect_lazy().unwrap();
    }

    #[tokio::test]
    async fn a_bad_endpoint_or_token_fails_before_dialling() {
        let error = ClientBuilder::new("http://bad host")
            .connect_lazy()
            .unwrap_err();
        assert!(matches!(error, Error::InvalidEndpoint { .. }), "{error:?}");
        let error = ClientBuilder::new("127.0.0.1:1")
            .bearer_token("line\nbreak")
            .connect()
            .await
            .unwrap_err();
        assert!(matches!(error, Error::InvalidToken), "{error:?}");
    }

    #[cfg(feature = "tls")]
    #[tokio::test]
    async fn https_gets_tls_without_asking() {
        ClientBuilder::new("https://localhost:50051")
            .connect_lazy()
            .unwrap();
    }

    #[test]
    fn debug_output_hides_the_token() {
        let builder = ClientBuilder::new("127.0.0.1:50051").bearer_token("s3cret");
        let shown = format!("{builder:?}");
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(shown.contains("<redacted>"), "{shown}");
    }
}
