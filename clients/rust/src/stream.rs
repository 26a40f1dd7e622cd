//! [`VerdictStream`]: the reply side of `VerifyStream`.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::time::{Instant, Sleep};
use tokio_stream::Stream;
use tonic::{Status, Streaming};

use crate::error::{Error, Result};
use crate::pb::{Verdict, VerifyRequest};

type Opening = Pin<Box<dyn Future<Output = Result<Streaming<Verdict>, Status>> + Send>>;

/// The verdicts of a [`Client::verify_stream`](crate::Client::verify_stream)
/// call, in the order the server finishes them.
///
/// Yields `Ok(Verdict)` per answered item. On failure it yields one `Err` and
/// then ends; it never ends quietly with items unanswered (that is
/// [`Error::Incomplete`]). Dropping it cancels the call.
#[must_use = "streams do nothing unless polled"]
pub struct VerdictStream {
    state: State,
    progress: Arc<Progress>,
    answered: u64,
    idle: Option<IdleTimer>,
}

enum State {
    Opening(Opening),
    Open(Box<Streaming<Verdict>>),
    Done,
}

/// What the request side has done, shared with the request stream that tonic
/// drains on its own task.
#[derive(Default)]
struct Progress {
    sent: AtomicU64,
    finished: AtomicBool,
}

struct IdleTimer {
    limit: Duration,
    sleep: Pin<Box<Sleep>>,
}

impl VerdictStream {
    pub(crate) fn new<S, F, Fut>(requests: S, idle_limit: Option<Duration>, open: F) -> Self
    where
        S: Stream<Item = VerifyRequest> + Send + 'static,
        F: FnOnce(Counted) -> Fut,
        Fut: Future<Output = Result<Streaming<Verdict>, Status>> + Send + 'static,
    {
        let progress = Arc::new(Progress::default());
        let counted = Counted {
            inner: Box::pin(requests),
            progress: Arc::clone(&progress),
        };
        VerdictStream {
            state: State::Opening(Box::pin(open(counted))),
            progress,
            answered: 0,
            idle: idle_limit.map(|limit| IdleTimer {
                limit,
                sleep: Box::pin(tokio::time::sleep(limit)),
            }),
        }
    }

    /// Items handed to the transport so far.
    pub fn sent(&self) -> u64 {
        self.progress.sent.load(Ordering::Acquire)
    }

    /// Verdicts yielded so far.
    pub fn answered(&self) -> u64 {
        self.answered
    }

    fn outstanding(&self) -> bool {
        self.sent() > self.answered
    }

    fn fail(&mut self, error: Error) -> Poll<Option<Result<Verdict>>> {
        self.state = State::Done;
        Poll::Ready(Some(Err(error)))
    }

    /// Called when the call is pending: fails it once items have waited past
    /// the idle limit, and otherwise leaves a timer armed so this stream is
    /// polled again to check.
    fn poll_idle(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Verdict>>> {
        loop {
            let outstanding = self.outstanding();
            let Some(idle) = &mut self.idle else {
                return Poll::Pending;
            };
            if idle.sleep.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
            if outstanding {
                let limit = idle.limit;
                return self.fail(Error::Timeout(limit));
            }
            // Nothing was awaited while the timer ran: start a new period.
            idle.sleep.as_mut().reset(Instant::now() + idle.limit);
        }
    }

    fn touch(&mut self) {
        if let Some(idle) = &mut self.idle {
            idle.sleep.as_mut().reset(Instant::now() + idle.limit);
        }
    }
}

impl Stream for VerdictStream {
    type Item = Result<Verdict>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            match &mut this.state {
                State::Opening(opening) => match opening.as_mut().poll(cx) {
                    Poll::Ready(Ok(streaming)) => {
                        this.state = State::Open(Box::new(streaming));
                        this.touch();
                    }
                    Poll::Ready(Err(status)) => return this.fail(status.into()),
                    Poll::Pending => return this.poll_idle(cx),
                },
                State::Open(streaming) => match Pin::new(streaming.as_mut()).poll_next(cx) {
                    Poll::Ready(Some(Ok(verdict))) => {
                        this.answered += 1;
                        this.touch();
                        return Poll::Ready(Some(Ok(verdict)));
                    }
                    Poll::Ready(Some(Err(status))) => return this.fail(status.into()),
                    Poll::Ready(None) => {
                        let finished = this.progress.finished.load(Ordering::Acquire);
                        if let Some(error) = unanswered(finished, this.sent(), this.answered) {
                            return this.fail(error);
                        }
                        this.state = State::Done;
                        return Poll::Ready(None);
                    }
                    Poll::Pending => return this.poll_idle(cx),
                },
                State::Done => return Poll::Ready(None),
            }
        }
    }
}

/// The error for a stream the server closed with status OK, if it left items
/// unanswered: fewer verdicts than items sent, or a close before the request
/// side ended (the server never read the rest).
fn unanswered(finished: bool, sent: u64, answered: u64) -> Option<Error> {
    (!finished || answered < sent).then_some(Error::Incomplete { sent, answered })
}

impl fmt::Debug for VerdictStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match self.state {
            State::Opening(_) => "opening",
            State::Open(_) => "open",
            State::Done => "done",
        };
        f.debug_struct("VerdictStream")
            .field("state", &state)
            .field("sent", &self.sent())
            .field("answered", &self.answered)
            .finish()
    }
}

/// The request stream as tonic sees it: counts items and notes the end.
pub(crate) struct Counted {
    inner: Pin<Box<dyn Stream<Item = VerifyRequest> + Send>>,
    progress: Arc<Progress>,
}

impl Stream for Counted {
    type Item = VerifyRequest;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<VerifyRequest>> {
        let polled = self.inner.as_mut().poll_next(cx);
        match &polled {
            Poll::Ready(Some(_)) => {
                self.progress.sent.fetch_add(1, Ordering::AcqRel);
            }
            Poll::Ready(None) => self.progress.finished.store(true, Ordering::Release),
            Poll::Pending => {}
        }
        polled
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio_stream::StreamExt;

    #[test]
    fn a_clean_close_needs_every_item_sent_and_answered() {
        assert!(unanswered(true, 3, 3).is_none());
        assert!(unanswered(true, 0, 0).is_none());
        assert!(matches!(
            unanswered(true, 3, 2),
            Some(Error::Incomplete {
                sent: 3,
                answered: 2
            })
        ));
        // Closed before the client finished sending: even a full count is short.
        assert!(matches!(
            unanswered(false, 3, 3),
            Some(Error::Incomplete { .. })
        ));
    }

    #[tokio::test]
    async fn counted_tracks_items_and_the_end() {
        let progress = Arc::new(Progress::default());
        let items = (0..5).map(|i| VerifyRequest::new(i.to_string(), "1", "1"));
        let mut counted = Counted {
            inner: Box::pin(tokio_stream::iter(items)),
            progress: Arc::clone(&progress),
        };
        for expected in 1..=5 {
            assert!(counted.next().await.is_some());
            assert_eq!(progress.sent.load(Ordering::Acquire), expected);
            assert!(!progress.finished.load(Ordering::Acquire));
        }
        assert!(counted.next().await.is_none());
        assert!(progress.finished.load(Ordering::Acquire));
    }

    #[tokio::test]
    async fn a_refused_call_yields_one_error_then_ends() {
        let mut verdicts = VerdictStream::new(tokio_stream::iter(Vec::new()), None, |_| async {
            Err(Status::unauthenticated("no token"))
        });
        let error = verdicts.next().await.unwrap().unwrap_err();
        assert_eq!(error.code(), Some(tonic::Code::Unauthenticated));
        assert!(verdicts.next().await.is_none());
    }

    #[tokio::test(start_paused = true)]
    async fn items_without_verdicts_trip_the_idle_timeout() {
        let limit = Duration::from_secs(5);
        let items = tokio_stream::iter(vec![VerifyRequest::new("0", "1", "1")]);
        let mut verdicts = VerdictStream::new(items, Some(limit), |mut requests| async move {
            // Read the item, then never answer.
            requests.next().await;
            std::future::pending::<Result<Streaming<Verdict>, Status>>().await
        });
        let error = verdicts.next().await.unwrap().unwrap_err();
        assert!(
            matches!(error, Error::Timeout(l) if l == limit),
            "{error:?}"
        );
        assert!(verdicts.next().await.is_none());
    }

    #[tokio::test(start_paused = true)]
    async fn an_idle_producer_is_not_a_timeout() {
        let limit = Duration::from_secs(5);
        // The caller has nothing to send yet.
        let items = tokio_stream::pending::<VerifyRequest>();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let mut verdicts = VerdictStream::new(items, Some(limit), |_| async move {
            let _ = rx.await;
            Err(Status::cancelled("done"))
        });
        let waited = tokio::time::timeout(limit * 3, verdicts.next()).await;
        assert!(
            waited.is_err(),
            "nothing awaited, so no timeout: {waited:?}"
        );
        drop(tx);
        let error = verdicts.next().await.unwrap().unwrap_err();
        assert_eq!(error.code(), Some(tonic::Code::Cancelled));
    }
}
