//! Audit delivery: every record after a sink's checkpoint, in log order, at least once.
use super::passes::Passes;
use super::ports::{AuditSink, StoreError};
use super::{Projector, BATCH};
use crate::audit::AuditRecord;
use crate::event::RecordedEvent;
use std::collections::HashMap;
use std::sync::Arc;
use tokio::sync::Mutex;

pub(super) struct SinkState {
    pub(super) checkpoint: String,
    pub(super) pass: u64,
    pub(super) completed: u64,
    /// Event ids delivered inside the feed's re-read window (a node's own sinks).
    pub(super) recent: HashMap<String, String>,
}

pub(super) struct SinkCursor {
    pub(super) sink: Arc<dyn AuditSink>,
    pub(super) state: Mutex<SinkState>,
    pub(super) passes: Passes,
}

impl Projector {
    /// Delivers every audit record after the sink's checkpoint, once per event id within the re-read
    /// window.
    pub(super) async fn deliver(&self, cursor: &SinkCursor) -> Result<(), StoreError> {
        let ticket = cursor.passes.ticket();
        let mut state = cursor.state.lock().await;
        if Passes::served(ticket, state.completed) {
            return Ok(());
        }
        let pass = cursor.passes.begin(&mut state.pass);
        if !cursor.sink.may_deliver().await {
            return Ok(());
        }
        // A sink shared by several nodes gets only settled events (no commit can still appear before
        // them), so its shared checkpoint alone says what was delivered across restarts and lease
        // hand-overs. A node's own sink gets everything at once and re-reads the feed's window,
        // skipping what it already delivered.
        let settled = match cursor.sink.shared() {
            true => {
                let stored = self.views.checkpoint(cursor.sink.name()).await?;
                if stored > state.checkpoint {
                    state.checkpoint = stored;
                }
                self.feed.settled_before()
            }
            false => None,
        };
        let mut from = match settled {
            Some(_) => state.checkpoint.clone(),
            None => self.feed.replay_from(&state.checkpoint),
        };
        loop {
            let batch = self.feed.events_after(&from, BATCH).await?;
            let ready: Vec<&RecordedEvent> = batch
                .iter()
                .take_while(|e| settled.as_ref().is_none_or(|s| e.cursor < *s))
                .collect();
            let Some(last) = ready.last().map(|e| e.cursor.clone()) else {
                state.completed = pass;
                return Ok(());
            };
            let fresh: Vec<&&RecordedEvent> = ready
                .iter()
                .filter(|e| !state.recent.contains_key(&e.event_id()))
                .collect();
            if !fresh.is_empty() {
                let records: Vec<AuditRecord> =
                    fresh.iter().map(|e| AuditRecord::from_event(e)).collect();
                cursor.sink.write(&records).await?;
                for event in &fresh {
                    state.recent.insert(event.event_id(), event.cursor.clone());
                }
            }
            if last > state.checkpoint {
                state.checkpoint = last.clone();
                self.views.set_checkpoint(cursor.sink.name(), &last).await?;
            }
            let window = self.feed.replay_from(&state.checkpoint);
            state.recent.retain(|_, at| *at >= window);
            from = last;
            if ready.len() < BATCH {
                state.completed = pass;
                return Ok(());
            }
        }
    }

    /// Delivers to every sink, inline or not (shutdown, tests, the background task).
    pub async fn flush_audit(&self) -> Result<(), StoreError> {
        let mut result = Ok(());
        for cursor in &self.sinks {
            result = result.and(self.deliver(cursor).await);
        }
        result
    }
}
