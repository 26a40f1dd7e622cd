//! Async Rust client for [TinyV Server], a gRPC reward service for
//! reinforcement learning on reasoning models.
//!
//! A trainer sends (question, ground truth, model response) and gets back a
//! [`Verdict`]: a reward in `[0, 1]`, whether the answer is correct, and how
//! that was decided (the rule verifier, the TinyV LLM verifier, or the cache).
//! Use the server like a local reward model:
//!
//! ```no_run
//! use tinyv_client::{Client, VerifyRequest};
//! use tokio_stream::StreamExt;
//!
//! # async fn run() -> Result<(), tinyv_client::Error> {
//! let client = Client::connect("http://127.0.0.1:50051").await?;
//!
//! // One item.
//! let verdict = client
//!     .verify(VerifyRequest::new("0", "\\frac12", "... so the answer is \\boxed{0.5}"))
//!     .await?;
//! assert_eq!(verdict.reward, 1.0);
//!
//! // A whole rollout batch over one stream; verdicts arrive as they are ready,
//! // in any order, each with its item's id.
//! let rollouts = vec![
//!     VerifyRequest::new("1", "2", "\\boxed{2}"),
//!     VerifyRequest::new("2", "2", "\\boxed{3}"),
//! ];
//! let mut verdicts = client.verify_stream(tokio_stream::iter(rollouts));
//! while let Some(verdict) = verdicts.next().await {
//!     let verdict = verdict?;
//!     println!("{} -> {}", verdict.id, verdict.reward);
//! }
//! # Ok(()) }
//! ```
//!
//! Several replicas: give the builder `ipv4:A:P,B:P` or `dns:///NAME:PORT`
//! (a Kubernetes headless Service); calls are balanced over the addresses, and
//! [`Client::verify_all`] resends what a dying replica left unanswered.
//!
//! The message types are generated at build time from the repository's
//! `proto/tinyv/v1/verifier.proto` and re-exported here; [`pb`] has all of
//! them, including the raw tonic client.
//!
//! # Features
//!
//! - `tls` (default): `https://` endpoints and the TLS settings of
//!   [`ClientBuilder`], with rustls.
//!
//! [TinyV Server]: https://arxiv.org/abs/2505.14625

#![warn(missing_docs)]

mod client;
mod config;
mod error;
mod request;
mod stream;
mod targets;

/// The types generated from `tinyv/v1/verifier.proto` (package `tinyv.v1`),
/// and the raw tonic client in [`pb::verifier_service_client`].
#[allow(missing_docs, clippy::all)]
pub mod pb {
    include!(concat!(env!("OUT_DIR"), "/tinyv.v1.rs"));
}

pub use client::Client;
pub use config::{
    ClientBuilder, DEFAULT_CONNECT_TIMEOUT, DEFAULT_MAX_MESSAGE_BYTES, DEFAULT_RESOLVE_INTERVAL,
    DEFAULT_RETRIES,
};
pub use error::{Error, Result};
pub use pb::{
    DecidedBy, ErrorCode, GetServerInfoRequest, ItemError, Limits, LlmBackend, LlmOutcome, Mode,
    RuleOutcome, ServerInfo, Timings, Verdict, VerifyBatchRequest, VerifyBatchResponse,
    VerifyOptions, VerifyRequest,
};
pub use stream::VerdictStream;
/// The gRPC library underneath, for `Status`, metadata and TLS types.
pub use tonic;
#[cfg(feature = "tls")]
pub use tonic::transport::ClientTlsConfig;
pub use tonic::Code;
