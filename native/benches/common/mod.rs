//! What the benches share.

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

/// Polls a future that must complete without waiting: the in-process ports a bench drives
/// (read model, limiter, memory cache) answer at once, so a pending future is a bench bug.
pub fn ready<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    match future.as_mut().poll(&mut cx) {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("an in-process port waited; benches drive only ports that answer at once"),
    }
}
