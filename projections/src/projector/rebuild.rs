//! Rebuild: the whole log folded into a fresh model, as the views must equal it.
use super::ports::{EventFeed, StoreError};
use super::Projector;
use crate::event::RecordedEvent;
use crate::read_model::{Applied, ReadModel};
use std::collections::BTreeSet;

/// Events read per round trip by a rebuild, which reads the whole log.
const REBUILD_BATCH: usize = 5000;

impl Projector {
    /// Folds the whole log into a fresh model: what the views must equal. Returns the model, the
    /// cursor of the last event and the number of events read.
    pub async fn rebuild_from(feed: &dyn EventFeed) -> Result<Rebuilt, StoreError> {
        Self::rebuild_until(feed, None, &mut |_| {}).await
    }

    /// The fold of every event that happened at or before `until` (all when `None`): the state as
    /// it was then. `progress` is told the number of events read after each batch.
    pub async fn rebuild_until(
        feed: &dyn EventFeed,
        until: Option<chrono::DateTime<chrono::Utc>>,
        progress: &mut (dyn FnMut(usize) + Send),
    ) -> Result<Rebuilt, StoreError> {
        let happened =
            move |e: &RecordedEvent| until.is_none_or(|t| crate::audit::event_time(&e.event) <= t);
        let mut model = ReadModel::default();
        let mut cursor = String::new();
        let mut events = 0;
        let mut gaps = BTreeSet::new();
        let mut batch = feed.events_after(&cursor, REBUILD_BATCH).await?;
        while let Some(last) = batch.last().map(|e| e.cursor.clone()) {
            events += batch.len();
            progress(events);
            // Fold this page on a blocking thread while the next one is read and decoded here:
            // the two halves of a replay run on two cores.
            let folding = tokio::task::spawn_blocking(move || {
                for event in batch.iter().filter(|e| happened(e)) {
                    if let Applied::Gap {
                        aggregate_type,
                        aggregate_id,
                    } = model.apply(event)
                    {
                        gaps.insert((aggregate_type, aggregate_id));
                    }
                }
                (model, gaps)
            });
            let (next, folded) = tokio::join!(feed.events_after(&last, REBUILD_BATCH), folding);
            (model, gaps) = folded.unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()));
            batch = next?;
            cursor = last;
        }
        for (aggregate_type, aggregate_id) in gaps {
            for event in feed
                .aggregate_events(&aggregate_type, &aggregate_id)
                .await?
            {
                model.apply(&event);
            }
        }
        Ok(Rebuilt {
            model,
            cursor,
            events,
        })
    }
}

/// The result of folding the whole log.
pub struct Rebuilt {
    /// The views as the log defines them.
    pub model: ReadModel,
    /// Cursor of the last event.
    pub cursor: String,
    /// Events read.
    pub events: usize,
}
