//! A connection's one timer, for waits that each have their own deadline: the gateway's client
//! connections (a head must arrive, a body keep coming) and its upstream connections (each
//! exchange has the API's timeout).
//!
//! Arming a tokio timer per wait costs more than the rest of reading a small request, so the
//! timer is armed once and re-armed only when it fires (then it is a prompt to check the
//! current deadline, which may have moved later) or when a deadline comes before the armed one.

use std::future::Future;
use std::pin::Pin;

use tokio::time::{Instant, Sleep};

#[derive(Debug)]
pub struct Deadline {
    sleep: Pin<Box<Sleep>>,
    armed: Instant,
}

impl Deadline {
    pub fn new(at: Instant) -> Self {
        Deadline { sleep: Box::pin(tokio::time::sleep_until(at)), armed: at }
    }

    /// `io`'s output, or `None` once `deadline` has passed.
    pub async fn wait<T>(&mut self, deadline: Instant, io: impl Future<Output = T>) -> Option<T> {
        if self.armed > deadline {
            self.rearm(deadline);
        }
        let mut io = std::pin::pin!(io);
        loop {
            tokio::select! {
                biased;
                out = &mut io => return Some(out),
                // Armed for an earlier deadline than this one, possibly: then it means "check".
                () = self.sleep.as_mut() => {
                    if Instant::now() >= deadline {
                        return None;
                    }
                    self.rearm(deadline);
                }
            }
        }
    }

    fn rearm(&mut self, at: Instant) {
        self.sleep.as_mut().reset(at);
        self.armed = at;
    }
}
