//! Senders the crate ships: one that prints, one that records.

use std::sync::{Arc, Mutex, PoisonError};

use super::{Decoy, Message, MessageSender, Recipient, SendError};

/// Prints every message to standard output, code included: for examples and local
/// development only, never for production.
#[derive(Debug, Clone, Copy, Default)]
pub struct ConsoleSender;

impl MessageSender for ConsoleSender {
    #[expect(
        clippy::print_stdout,
        reason = "printing is this sender's whole purpose"
    )]
    async fn send(&self, message: &Message) -> Result<(), SendError> {
        println!(
            "[{:?} to {}] {}\n  {}",
            message.channel(),
            message.recipient(),
            message.subject(),
            message.expose_text()
        );
        Ok(())
    }
}

/// Keeps every message in memory, for tests; clones share the same record.
///
/// It can also be told to fail, to test what a host sees when a gateway is down.
#[derive(Debug, Clone, Default)]
pub struct RecordingSender {
    inner: Arc<Mutex<Recorded>>,
}

#[derive(Debug, Default)]
struct Recorded {
    messages: Vec<Message>,
    decoys: Vec<Decoy>,
    failing: bool,
}

impl RecordingSender {
    /// An empty recorder that accepts every message.
    pub fn new() -> Self {
        Self::default()
    }

    /// Every message accepted so far, oldest first.
    pub fn messages(&self) -> Vec<Message> {
        self.lock().messages.clone()
    }

    /// The messages accepted for one recipient, oldest first.
    pub fn messages_to(&self, recipient: &Recipient) -> Vec<Message> {
        self.lock()
            .messages
            .iter()
            .filter(|m| m.recipient() == recipient)
            .cloned()
            .collect()
    }

    /// The newest message sent to `recipient`.
    pub fn last_to(&self, recipient: &Recipient) -> Option<Message> {
        self.lock()
            .messages
            .iter()
            .rev()
            .find(|m| m.recipient() == recipient)
            .cloned()
    }

    /// Every stand-in handed to [`MessageSender::discard`] so far, oldest first.
    pub fn decoys(&self) -> Vec<Decoy> {
        self.lock().decoys.clone()
    }

    /// How many calls the sender has taken: messages and stand-ins alike. An unknown
    /// identifier walks the same steps as a real one, so both make as many.
    pub fn attempts(&self) -> usize {
        let recorded = self.lock();
        recorded.messages.len() + recorded.decoys.len()
    }

    /// Forgets every recorded message and stand-in.
    pub fn clear(&self) {
        let mut recorded = self.lock();
        recorded.messages.clear();
        recorded.decoys.clear();
    }

    /// Makes every later send and discard fail (or succeed again).
    pub fn set_failing(&self, failing: bool) {
        self.lock().failing = failing;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Recorded> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl MessageSender for RecordingSender {
    async fn send(&self, message: &Message) -> Result<(), SendError> {
        let mut recorded = self.lock();
        if recorded.failing {
            return Err(SendError::new("recording sender told to fail"));
        }
        recorded.messages.push(message.clone());
        Ok(())
    }

    async fn discard(&self, decoy: &Decoy) -> Result<(), SendError> {
        let mut recorded = self.lock();
        if recorded.failing {
            return Err(SendError::new("recording sender told to fail"));
        }
        recorded.decoys.push(*decoy);
        Ok(())
    }
}
