//! A body wrapper that counts the bytes that actually cross the wire, for the
//! bytes-in/out metrics (Content-Length lies for streamed bodies).

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::body::{Body, Bytes};
use holdfast_core::metrics::Metrics;
use http_body::{Frame, SizeHint};

#[derive(Clone, Copy)]
pub enum Direction {
    In,
    Out,
}

pub struct Counting {
    inner: Body,
    metrics: Arc<Metrics>,
    direction: Direction,
}

impl Counting {
    pub fn wrap(inner: Body, metrics: Arc<Metrics>, direction: Direction) -> Body {
        Body::new(Self {
            inner,
            metrics,
            direction,
        })
    }
}

impl http_body::Body for Counting {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let this = self.get_mut();
        let poll = Pin::new(&mut this.inner).poll_frame(cx);
        if let Poll::Ready(Some(Ok(frame))) = &poll
            && let Some(data) = frame.data_ref()
        {
            let n = data.len() as u64;
            match this.direction {
                Direction::In => this.metrics.add_bytes_in(n),
                Direction::Out => this.metrics.add_bytes_out(n),
            }
        }
        poll
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
