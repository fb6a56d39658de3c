//! A recording channel: a [`Notifier`] that keeps every message it is handed and answers
//! with a scripted outcome (delivered, unless told otherwise for an address).

use futures::future::BoxFuture;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use triad_domain::Millis;
use triad_notify::{Message, Notifier, Outcome};

/// One recorded attempt.
#[derive(Debug, Clone)]
pub struct Sent {
    pub message: Message,
    /// The engine's clock when it was handed over.
    pub at: Millis,
    pub outcome: Outcome,
}

/// Records messages; cheap to clone (clones share the record).
#[derive(Clone, Default)]
pub struct Recorder {
    inner: Arc<Mutex<State>>,
}

#[derive(Default)]
struct State {
    sent: Vec<Sent>,
    /// Outcomes to answer per address, consumed front first; the last one sticks.
    script: HashMap<String, Vec<Outcome>>,
}

impl std::fmt::Debug for Recorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recorder").finish()
    }
}

impl Recorder {
    pub fn new() -> Recorder {
        Recorder::default()
    }

    /// Answers messages to `address` with `outcomes` in turn (the last one repeats).
    pub fn script(&self, address: &str, outcomes: Vec<Outcome>) {
        self.inner
            .lock()
            .unwrap()
            .script
            .insert(address.to_string(), outcomes);
    }

    /// Every attempt so far.
    pub fn sent(&self) -> Vec<Sent> {
        self.inner.lock().unwrap().sent.clone()
    }

    /// Attempts whose address is `address`.
    pub fn to(&self, address: &str) -> Vec<Sent> {
        self.sent()
            .into_iter()
            .filter(|s| s.message.address == address)
            .collect()
    }

    /// Forgets what was recorded so far.
    pub fn clear(&self) {
        self.inner.lock().unwrap().sent.clear();
    }
}

impl Notifier for Recorder {
    fn send<'a>(&'a self, message: &'a Message, now: Millis) -> BoxFuture<'a, Outcome> {
        let mut s = self.inner.lock().unwrap();
        let outcome = match s.script.get_mut(&message.address) {
            Some(list) if list.len() > 1 => list.remove(0),
            Some(list) if !list.is_empty() => list[0].clone(),
            _ => Outcome::Delivered { detail: None },
        };
        s.sent.push(Sent {
            message: message.clone(),
            at: now,
            outcome: outcome.clone(),
        });
        Box::pin(async move { outcome })
    }
}
