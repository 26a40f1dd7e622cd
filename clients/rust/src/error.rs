//! The crate's error type.

use std::time::Duration;

use tonic::Code;

/// A specialized [`Result`](std::result::Result) for TinyV calls.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why a call to the TinyV server failed.
///
/// A *bad item* (say, an empty ground truth) is not an error: the server answers
/// it with a [`Verdict`](crate::Verdict) whose `error` field says what was wrong.
/// An `Error` means the call itself failed: the server could not be reached, it
/// refused the call, it went away mid-stream, or a deadline passed.
///
/// ```
/// use tinyv_client::{Code, Error};
///
/// let err = Error::from(tonic::Status::unavailable("connection reset"));
/// assert_eq!(err.code(), Some(Code::Unavailable));
/// assert!(err.is_retryable());
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The endpoint is not a valid URI, or it needs a feature this build lacks
    /// (`https://` without the `tls` feature).
    #[error("invalid endpoint {endpoint:?}: {reason}")]
    InvalidEndpoint {
        /// The endpoint as given.
        endpoint: String,
        /// What is wrong with it.
        reason: String,
    },

    /// The bearer token cannot be sent as an HTTP header value.
    #[error("invalid bearer token: it must be visible ASCII")]
    InvalidToken,

    /// The TLS settings were rejected (a bad certificate or key, for instance).
    #[error("TLS configuration: {0}")]
    Tls(#[source] tonic::transport::Error),

    /// The connection to the server could not be made.
    #[error("cannot connect to {endpoint}: {source}")]
    Connect {
        /// The endpoint that was dialled.
        endpoint: String,
        /// The transport's error.
        #[source]
        source: tonic::transport::Error,
    },

    /// The server (or the transport below it) ended the call with a gRPC
    /// status other than OK: `UNAUTHENTICATED` for a missing or wrong token,
    /// `UNAVAILABLE` when the server went away, `RESOURCE_EXHAUSTED` for an
    /// oversized message, and so on.
    #[error("{:?}: {}", .0.code(), .0.message())]
    Status(tonic::Status),

    /// The connection broke during the call: the server went away (killed,
    /// crashed, restarted) or the network reset it. Items in flight are lost;
    /// [`code`](Error::code) reports [`Code::Unavailable`].
    #[error("connection lost: {}", .0.message())]
    ConnectionLost(#[source] tonic::Status),

    /// The call ran past the client's timeout (see
    /// [`ClientBuilder::timeout`](crate::ClientBuilder::timeout) and
    /// [`ClientBuilder::stream_idle_timeout`](crate::ClientBuilder::stream_idle_timeout)).
    #[error("no answer within {0:?}")]
    Timeout(Duration),

    /// The server broke the contract in a way the client can see, such as a
    /// verdict for an id that was never sent or was already answered.
    #[error("unexpected reply from the server: {0}")]
    Protocol(String),

    /// The server finished a call with status OK but did not answer every
    /// item: a `VerifyBatch` reply with the wrong number of verdicts, or a
    /// `VerifyStream` closed before every item was read and answered.
    #[error("the server answered {answered} of {sent} items")]
    Incomplete {
        /// Items the client sent.
        sent: u64,
        /// Verdicts the server returned.
        answered: u64,
    },
}

impl Error {
    /// The gRPC status code, when the server or the transport produced one.
    ///
    /// A timeout reports [`Code::DeadlineExceeded`]; errors raised before a call
    /// was made (a bad endpoint or token) report `None`.
    pub fn code(&self) -> Option<Code> {
        match self {
            Error::Status(status) => Some(status.code()),
            Error::ConnectionLost(_) => Some(Code::Unavailable),
            Error::Timeout(_) => Some(Code::DeadlineExceeded),
            Error::Connect { .. } => Some(Code::Unavailable),
            _ => None,
        }
    }

    /// The underlying gRPC status, when there is one.
    pub fn status(&self) -> Option<&tonic::Status> {
        match self {
            Error::Status(status) | Error::ConnectionLost(status) => Some(status),
            _ => None,
        }
    }

    /// Whether trying the same call again may succeed: the server was
    /// unreachable, went away, or ran out of time.
    ///
    /// Verification is idempotent, so resending the items a failed stream left
    /// unanswered is safe.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self.code(),
            Some(Code::Unavailable | Code::DeadlineExceeded | Code::Aborted)
        ) || matches!(self, Error::Incomplete { .. })
    }
}

impl From<tonic::Status> for Error {
    /// Sorts a status by where it came from: one the transport made from a
    /// broken connection (it carries the I/O error as its source) becomes
    /// [`Error::ConnectionLost`]; one the server sent stays [`Error::Status`].
    fn from(status: tonic::Status) -> Self {
        if broken_connection(&status) || proxy_without_backend(&status) {
            Error::ConnectionLost(status)
        } else {
            Error::Status(status)
        }
    }
}

/// An L7 proxy with no backend left (haproxy between a replica's death and its
/// health check) answers with a plain HTTP 502, 503 or 504, which gRPC's HTTP
/// mapping reads as UNAVAILABLE; tonic, reading the proxy's HTML page as a gRPC
/// message, reports a protocol error naming that status instead.
fn proxy_without_backend(status: &tonic::Status) -> bool {
    status.code() == Code::Internal
        && ["502", "503", "504"].iter().any(|c| {
            status
                .message()
                .contains(&format!("response with status: {c}"))
        })
}

fn broken_connection(status: &tonic::Status) -> bool {
    if matches!(
        status.code(),
        Code::Ok | Code::Unauthenticated | Code::PermissionDenied | Code::InvalidArgument
    ) {
        return false;
    }
    let mut source = std::error::Error::source(status);
    while let Some(error) = source {
        if error.is::<tonic::ConnectError>() {
            // Never connected: an UNAVAILABLE status says so well enough.
            return false;
        }
        if error.is::<std::io::Error>() {
            return true;
        }
        if let Some(error) = error.downcast_ref::<h2::Error>() {
            return error.is_io() || error.is_go_away();
        }
        if let Some(error) = error.downcast_ref::<hyper::Error>() {
            if error.is_closed() || error.is_incomplete_message() {
                return true;
            }
        }
        source = error.source();
    }
    false
}

/// Whether the peer reset the call's HTTP/2 stream (RST_STREAM): what an L7
/// proxy such as haproxy sends when the backend behind it dies mid-stream.
pub(crate) fn reset_by_peer(status: &tonic::Status) -> bool {
    let mut source = std::error::Error::source(status);
    while let Some(error) = source {
        if let Some(error) = error.downcast_ref::<h2::Error>() {
            return error.is_reset() && error.is_remote();
        }
        source = error.source();
    }
    false
}

/// Whether tonic failed the call because its `grpc-timeout` ran out.
pub(crate) fn timed_out(status: &tonic::Status) -> bool {
    let mut source = std::error::Error::source(status);
    while let Some(error) = source {
        if error.is::<tonic::TimeoutExpired>() {
            return true;
        }
        source = error.source();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_status_from_a_broken_connection_is_connection_lost() {
        let reset = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "reset by peer");
        let status = tonic::Status::from_error(Box::new(reset));
        let error = Error::from(status);
        assert!(matches!(error, Error::ConnectionLost(_)), "{error:?}");
        assert_eq!(error.code(), Some(Code::Unavailable));
        assert!(error.is_retryable());
    }

    #[test]
    fn a_status_from_the_server_stays_a_status() {
        let error = Error::from(tonic::Status::unauthenticated("missing bearer token"));
        assert!(matches!(error, Error::Status(_)), "{error:?}");
        assert_eq!(error.code(), Some(Code::Unauthenticated));
        assert!(!error.is_retryable());
        assert_eq!(error.to_string(), "Unauthenticated: missing bearer token");
    }

    #[test]
    fn a_proxy_with_no_backend_is_a_lost_connection() {
        let status = tonic::Status::internal(
            "protocol error: received message with invalid compression flag: 60 (valid flags are 0 and 1) \
             while receiving response with status: 503 Service Unavailable",
        );
        let error = Error::from(status);
        assert!(matches!(error, Error::ConnectionLost(_)), "{error:?}");
        assert!(error.is_retryable());
        let own = Error::from(tonic::Status::internal(
            "internal error: rule worker failed",
        ));
        assert!(!own.is_retryable());
    }
}
