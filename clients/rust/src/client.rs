//! [`Client`]: the calls of `tinyv.v1.VerifierService`.

use std::fmt;
use std::future::Future;
use std::time::Duration;

use tokio_stream::{Stream, StreamExt};
use tonic::metadata::{Ascii, MetadataValue};
use tonic::service::interceptor::InterceptedService;
use tonic::service::Interceptor;
use tonic::transport::Channel;
use tonic::{Request, Status};

use crate::config::ClientBuilder;
use crate::error::{reset_by_peer, timed_out, Error, Result};
use crate::pb::verifier_service_client::VerifierServiceClient;
use crate::pb::{GetServerInfoRequest, ServerInfo, Verdict, VerifyBatchRequest, VerifyRequest};
use crate::stream::VerdictStream;

type Inner = VerifierServiceClient<InterceptedService<Channel, BearerAuth>>;

/// A connection to a TinyV server.
///
/// Cheap to clone: clones share one HTTP/2 connection, and every call takes
/// `&self`, so one client can serve many tasks at once.
///
/// ```no_run
/// use tinyv_client::{Client, VerifyRequest};
///
/// # async fn run() -> Result<(), tinyv_client::Error> {
/// let client = Client::connect("http://127.0.0.1:50051").await?;
/// let verdict = client
///     .verify(VerifyRequest::new("q1", "\\frac12", "so the answer is \\boxed{0.5}"))
///     .await?;
/// assert!(verdict.correct);
/// println!("reward {} decided by {:?}", verdict.reward, verdict.decided_by());
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Client {
    inner: Inner,
    timeout: Option<Duration>,
    stream_idle_timeout: Option<Duration>,
    retries: u32,
}

impl Client {
    /// Connects to `endpoint` with default settings; see [`Client::builder`]
    /// for TLS, a bearer token, timeouts and a concurrency limit.
    ///
    /// `endpoint` is a URI (`http://127.0.0.1:50051`, `https://host:443`) or a
    /// bare `HOST:PORT`, taken as plaintext HTTP/2.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), tinyv_client::Error> {
    /// let client = tinyv_client::Client::connect("127.0.0.1:50051").await?;
    /// # Ok(()) }
    /// ```
    pub async fn connect(endpoint: impl Into<String>) -> Result<Client> {
        ClientBuilder::new(endpoint).connect().await
    }

    /// A [`ClientBuilder`] for `endpoint`.
    pub fn builder(endpoint: impl Into<String>) -> ClientBuilder {
        ClientBuilder::new(endpoint)
    }

    pub(crate) fn new(
        channel: Channel,
        auth: BearerAuth,
        max_message_bytes: usize,
        timeout: Option<Duration>,
        stream_idle_timeout: Option<Duration>,
        retries: u32,
    ) -> Client {
        let inner = VerifierServiceClient::with_interceptor(channel, auth)
            .max_decoding_message_size(max_message_bytes)
            .max_encoding_message_size(max_message_bytes);
        Client {
            inner,
            timeout,
            stream_idle_timeout,
            retries,
        }
    }

    /// Verifies one item.
    ///
    /// A bad item (an empty ground truth, an oversized field) still returns
    /// `Ok`: its [`Verdict`] has `error` set and a reward of 0.
    ///
    /// ```no_run
    /// # use tinyv_client::{Client, VerifyRequest};
    /// # async fn run(client: Client) -> Result<(), tinyv_client::Error> {
    /// let verdict = client.verify(VerifyRequest::new("a", "2", "\\boxed{3}")).await?;
    /// assert_eq!(verdict.reward, 0.0);
    /// # Ok(()) }
    /// ```
    pub async fn verify(&self, request: VerifyRequest) -> Result<Verdict> {
        let mut inner = self.inner.clone();
        let request = self.request(request);
        self.deadline(async move { inner.verify(request).await })
            .await
    }

    /// Verifies many items in one call; the verdicts come back in the items'
    /// order, one per item.
    ///
    /// Takes a [`VerifyBatchRequest`] (to set options for the whole batch) or
    /// anything that converts into one, such as a `Vec<VerifyRequest>`. The
    /// server caps the items per batch (`ServerInfo.limits.max_batch_items`);
    /// for larger sets, use [`verify_stream`](Self::verify_stream).
    ///
    /// ```no_run
    /// # use tinyv_client::{Client, VerifyRequest};
    /// # async fn run(client: Client) -> Result<(), tinyv_client::Error> {
    /// let verdicts = client
    ///     .verify_batch(vec![
    ///         VerifyRequest::new("0", "\\frac12", "\\boxed{0.5}"),
    ///         VerifyRequest::new("1", "2", "\\boxed{3}"),
    ///     ])
    ///     .await?;
    /// let rewards: Vec<f64> = verdicts.iter().map(|v| v.reward).collect();
    /// assert_eq!(rewards, [1.0, 0.0]);
    /// # Ok(()) }
    /// ```
    pub async fn verify_batch(&self, batch: impl Into<VerifyBatchRequest>) -> Result<Vec<Verdict>> {
        let batch = batch.into();
        let sent = batch.items.len();
        let mut inner = self.inner.clone();
        let request = self.request(batch);
        let response = self
            .deadline(async move { inner.verify_batch(request).await })
            .await?;
        if response.verdicts.len() != sent {
            return Err(Error::Incomplete {
                sent: sent as u64,
                answered: response.verdicts.len() as u64,
            });
        }
        Ok(response.verdicts)
    }

    /// Streams items to the server over one bidirectional call and yields each
    /// verdict as soon as it is ready.
    ///
    /// Verdicts come **in any order**; match them to items by
    /// [`Verdict::id`]. The call starts when the returned stream is first
    /// polled, and sending proceeds as the server reads. When `requests` ends,
    /// the client half-closes; the stream ends after the last verdict.
    ///
    /// A failure comes out of the stream as one `Err` (a refused call, a
    /// server that went away, an idle timeout, or [`Error::Incomplete`] when
    /// the server closed without answering every item), after which the
    /// stream ends. Dropping the stream cancels the call.
    ///
    /// ```no_run
    /// use tinyv_client::{Client, VerifyRequest};
    /// use tokio_stream::StreamExt;
    ///
    /// # async fn run(client: Client) -> Result<(), tinyv_client::Error> {
    /// let items = (0..1000).map(|i| {
    ///     VerifyRequest::new(i.to_string(), "42", format!("... so \\boxed{{{}}}", 40 + i % 3))
    /// });
    /// let mut verdicts = client.verify_stream(tokio_stream::iter(items));
    /// let mut rewards = vec![0.0; 1000];
    /// while let Some(verdict) = verdicts.next().await {
    ///     let verdict = verdict?;
    ///     rewards[verdict.id.parse::<usize>().unwrap()] = verdict.reward;
    /// }
    /// # Ok(()) }
    /// ```
    pub fn verify_stream<S>(&self, requests: S) -> VerdictStream
    where
        S: Stream<Item = VerifyRequest> + Send + 'static,
    {
        let inner = self.inner.clone();
        VerdictStream::new(requests, self.stream_idle_timeout, move |requests| {
            let mut inner = inner;
            async move {
                inner
                    .verify_stream(Request::new(requests))
                    .await
                    .map(tonic::Response::into_inner)
            }
        })
    }

    /// Verifies a whole set of items over one stream and returns their
    /// verdicts **in the items' order**, the way a trainer wants its rewards.
    ///
    /// Unlike [`verify_batch`](Self::verify_batch) there is no cap on the
    /// number of items, and the server works on them as they arrive. Ids need
    /// not be unique: each verdict is matched to its item by position, and
    /// carries its item's id.
    ///
    /// When the stream breaks (the replica died or drained for a restart, a
    /// proxy reset it, the server closed it early), the items still
    /// unanswered are sent again on a new stream, which with several targets
    /// goes to a live replica: every item gets exactly one verdict. It gives
    /// up after [`retries`](crate::ClientBuilder::retries) breaks in a row
    /// without a verdict, or at once on an error a resend cannot fix.
    ///
    /// ```no_run
    /// # use tinyv_client::{Client, VerifyRequest};
    /// # async fn run(client: Client, responses: Vec<String>) -> Result<(), tinyv_client::Error> {
    /// let items = responses
    ///     .into_iter()
    ///     .map(|response| VerifyRequest::new("", "42", response));
    /// let rewards: Vec<f64> = client
    ///     .verify_all(items)
    ///     .await?
    ///     .into_iter()
    ///     .map(|verdict| verdict.reward)
    ///     .collect();
    /// # Ok(()) }
    /// ```
    pub async fn verify_all<I>(&self, items: I) -> Result<Vec<Verdict>>
    where
        I: IntoIterator<Item = VerifyRequest>,
    {
        let mut ids = Vec::new();
        let mut positional = Vec::new();
        for (index, mut item) in items.into_iter().enumerate() {
            ids.push(std::mem::replace(&mut item.id, index.to_string()));
            positional.push(item);
        }
        let sent = ids.len() as u64;
        let mut slots: Vec<Option<Verdict>> = vec![None; ids.len()];
        let mut failures = 0u32;
        loop {
            let unanswered: Vec<VerifyRequest> = positional
                .iter()
                .zip(&slots)
                .filter(|(_, slot)| slot.is_none())
                .map(|(item, _)| item.clone())
                .collect();
            if unanswered.is_empty() {
                break;
            }
            let mut verdicts = self.verify_stream(tokio_stream::iter(unanswered));
            let mut progressed = false;
            let mut failure = None;
            while let Some(verdict) = verdicts.next().await {
                let mut verdict = match verdict {
                    Ok(verdict) => verdict,
                    Err(error) => {
                        failure = Some(error);
                        break;
                    }
                };
                let slot = verdict
                    .id
                    .parse::<usize>()
                    .ok()
                    .and_then(|index| Some((index, slots.get_mut(index)?)));
                match slot {
                    Some((index, slot @ None)) => {
                        verdict.id = std::mem::take(&mut ids[index]);
                        *slot = Some(verdict);
                        progressed = true;
                    }
                    // An id the client never sent, or one answered twice.
                    _ => {
                        return Err(Error::Protocol(format!(
                            "a verdict for id {:?}, which was not awaited",
                            verdict.id
                        )))
                    }
                }
            }
            // A clean end leaves nothing unanswered (else the stream yields Incomplete).
            let Some(error) = failure else { continue };
            failures = if progressed { 1 } else { failures + 1 };
            if !resumable(&error) || failures > self.retries {
                let answered = slots.iter().flatten().count() as u64;
                return Err(match error {
                    Error::Incomplete { .. } => Error::Incomplete { sent, answered },
                    other => other,
                });
            }
            tokio::time::sleep(backoff(failures)).await;
        }
        Ok(slots.into_iter().flatten().collect())
    }

    /// Describes the server: version, default mode, LLM backends and limits.
    ///
    /// ```no_run
    /// # async fn run(client: tinyv_client::Client) -> Result<(), tinyv_client::Error> {
    /// let info = client.server_info().await?;
    /// println!("tinyv {} in {:?} mode", info.version, info.default_mode());
    /// # Ok(()) }
    /// ```
    pub async fn server_info(&self) -> Result<ServerInfo> {
        let mut inner = self.inner.clone();
        let request = self.request(GetServerInfoRequest {});
        self.deadline(async move { inner.get_server_info(request).await })
            .await
    }

    fn request<T>(&self, message: T) -> Request<T> {
        let mut request = Request::new(message);
        if let Some(timeout) = self.timeout {
            request.set_timeout(timeout);
        }
        request
    }

    async fn deadline<T>(
        &self,
        call: impl Future<Output = std::result::Result<tonic::Response<T>, Status>>,
    ) -> Result<T> {
        let Some(limit) = self.timeout else {
            return Ok(call.await?.into_inner());
        };
        match tokio::time::timeout(limit, call).await {
            Ok(Ok(response)) => Ok(response.into_inner()),
            Ok(Err(status)) if timed_out(&status) => Err(Error::Timeout(limit)),
            Ok(Err(status)) => Err(status.into()),
            Err(_) => Err(Error::Timeout(limit)),
        }
    }
}

/// Whether [`Client::verify_all`] resends after `error`: the retryable ones,
/// and a stream the other side cancelled or reset, which this client did not
/// ask for: that is how an L7 proxy such as haproxy passes on a backend that
/// died mid-stream. hyper turns an RST_STREAM(CANCEL) into a clean end, which
/// tonic then reports as UNKNOWN (no grpc-status trailer); tinyv serve reports
/// its own faults as INTERNAL, and the resends are bounded by `retries`.
fn resumable(error: &Error) -> bool {
    error.is_retryable()
        || matches!(
            error.code(),
            Some(tonic::Code::Cancelled | tonic::Code::Unknown)
        )
        || error.status().is_some_and(reset_by_peer)
}

/// 100 ms after the first failure in a row, doubling up to 2 s.
fn backoff(failures: u32) -> Duration {
    Duration::from_millis(
        100u64
            .saturating_mul(1 << failures.saturating_sub(1).min(5))
            .min(2_000),
    )
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("timeout", &self.timeout)
            .field("stream_idle_timeout", &self.stream_idle_timeout)
            .field("retries", &self.retries)
            .finish_non_exhaustive()
    }
}

/// Adds `authorization: Bearer TOKEN` to every call when a token is set.
#[derive(Clone)]
pub(crate) struct BearerAuth(Option<MetadataValue<Ascii>>);

impl BearerAuth {
    pub(crate) fn new(value: Option<MetadataValue<Ascii>>) -> Self {
        BearerAuth(value)
    }
}

impl Interceptor for BearerAuth {
    fn call(&mut self, mut request: Request<()>) -> std::result::Result<Request<()>, Status> {
        if let Some(value) = &self.0 {
            request
                .metadata_mut()
                .insert("authorization", value.clone());
        }
        Ok(request)
    }
}
