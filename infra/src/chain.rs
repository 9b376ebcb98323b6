//! Tamper evidence: every stored event carries a SHA-256 chained to the previous event of its
//! aggregate, and `events verify` walks the chains.
//!
//! The hash covers the exact stored text of payload and metadata, so any edit to a stored event, a
//! removed event (a sequence gap or a stream shorter than the views recorded) and a reordering (the
//! links no longer match) is reported. An attacker who can rewrite a whole stream consistently can also
//! recompute its hashes; the views' recorded versions, the DynamoDB feed copy and the audit trail shipped
//! off-box are the independent witnesses against that.
use async_trait::async_trait;
use projections::StoreError;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};

/// An event exactly as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEvent {
    pub aggregate_type: String,
    pub aggregate_id: String,
    pub sequence: u64,
    pub event_type: String,
    pub event_version: String,
    /// Payload JSON text as stored.
    pub payload: String,
    /// Metadata JSON text as stored.
    pub metadata: String,
    /// The stored link; empty for events written before chaining existed.
    pub chain_hash: String,
}

/// SHA-256 over the previous link and each field, length-prefixed so fields cannot run together.
fn link(previous: &str, parts: [&str; 7]) -> String {
    let mut hasher = Sha256::new();
    for part in std::iter::once(previous).chain(parts) {
        hasher.update((part.len() as u64).to_be_bytes());
        hasher.update(part.as_bytes());
    }
    hex_string(&hasher.finalize())
}

fn hex_string(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl StoredEvent {
    /// The link this event should carry after `previous`.
    pub fn expected_link(&self, previous: &str) -> String {
        link(
            previous,
            [
                &self.aggregate_type,
                &self.aggregate_id,
                &self.sequence.to_string(),
                &self.event_type,
                &self.event_version,
                &self.payload,
                &self.metadata,
            ],
        )
    }

    /// An event about to be stored, with the exact payload and metadata text that will be written.
    pub fn about_to_store(event: &cqrs_es::persist::SerializedEvent) -> Self {
        Self {
            aggregate_type: event.aggregate_type.clone(),
            aggregate_id: event.aggregate_id.clone(),
            sequence: event.sequence as u64,
            event_type: event.event_type.clone(),
            event_version: event.event_version.clone(),
            payload: event.payload.to_string(),
            metadata: event.metadata.to_string(),
            chain_hash: String::new(),
        }
    }
}

/// A store whose raw log can be audited.
#[async_trait]
pub trait ChainedLog: Send + Sync {
    /// Every stored event.
    async fn stored_events(&self) -> Result<Vec<StoredEvent>, StoreError>;
    /// Independent copies of the events, if the store keeps them (DynamoDB's feed).
    async fn mirrored_events(&self) -> Result<Option<Vec<StoredEvent>>, StoreError>;
    /// The last sequence the persisted views folded, per aggregate (`Type:id`).
    async fn recorded_versions(&self) -> Result<HashMap<String, u64>, StoreError>;
}

/// What `events verify` found.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ChainReport {
    /// Events checked.
    pub events: usize,
    /// Aggregates checked.
    pub aggregates: usize,
    /// One line per problem; empty when the log is intact.
    pub problems: Vec<String>,
}

/// Walks every aggregate's chain and compares it with the witnesses.
pub fn verify(
    events: Vec<StoredEvent>,
    mirror: Option<Vec<StoredEvent>>,
    recorded: &HashMap<String, u64>,
) -> ChainReport {
    let mut streams: BTreeMap<String, Vec<StoredEvent>> = BTreeMap::new();
    for event in events {
        streams
            .entry(format!("{}:{}", event.aggregate_type, event.aggregate_id))
            .or_default()
            .push(event);
    }
    let mut report = ChainReport {
        aggregates: streams.len(),
        ..Default::default()
    };
    for (stream, list) in &mut streams {
        list.sort_by_key(|e| e.sequence);
        report.events += list.len();
        check_stream(stream, list, &mut report.problems);
    }
    for (stream, version) in recorded {
        let last = streams
            .get(stream)
            .and_then(|l| l.last())
            .map_or(0, |e| e.sequence);
        if last < *version {
            report.problems.push(format!(
                "{stream}: the views folded sequence {version} but the log ends at {last}: events removed"
            ));
        }
    }
    if let Some(mirror) = mirror {
        compare_mirror(&streams, mirror, &mut report.problems);
    }
    report
}

fn check_stream(stream: &str, list: &[StoredEvent], problems: &mut Vec<String>) {
    let mut previous = String::new();
    for (index, event) in list.iter().enumerate() {
        let expected_sequence = index as u64 + 1;
        if event.sequence != expected_sequence {
            problems.push(format!(
                "{stream}: sequence {} found where {expected_sequence} was expected: events removed or reordered",
                event.sequence
            ));
        }
        let expected = event.expected_link(&previous);
        if !event.chain_hash.is_empty() && event.chain_hash != expected {
            problems.push(format!(
                "{stream}#{}: hash does not match its content and predecessor: event altered, removed or reordered",
                event.sequence
            ));
        }
        previous = if event.chain_hash.is_empty() {
            expected
        } else {
            event.chain_hash.clone()
        };
    }
}

fn compare_mirror(
    streams: &BTreeMap<String, Vec<StoredEvent>>,
    mirror: Vec<StoredEvent>,
    problems: &mut Vec<String>,
) {
    let stored: HashMap<(String, u64), &StoredEvent> = streams
        .iter()
        .flat_map(|(k, l)| l.iter().map(move |e| ((k.clone(), e.sequence), e)))
        .collect();
    for copy in mirror {
        let stream = format!("{}:{}", copy.aggregate_type, copy.aggregate_id);
        match stored.get(&(stream.clone(), copy.sequence)) {
            None => problems.push(format!(
                "{stream}#{}: in the feed but not in the log: event removed",
                copy.sequence
            )),
            Some(e) if **e != copy => problems.push(format!(
                "{stream}#{}: differs from its feed copy: event altered",
                copy.sequence
            )),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stream(n: u64) -> Vec<StoredEvent> {
        let mut previous = String::new();
        (1..=n)
            .map(|sequence| {
                let mut e = StoredEvent {
                    aggregate_type: "ApiKey".into(),
                    aggregate_id: "k".into(),
                    sequence,
                    event_type: "ApiKeyUpdated".into(),
                    event_version: "1".into(),
                    payload: format!("{{\"n\":{sequence}}}"),
                    metadata: "{}".into(),
                    chain_hash: String::new(),
                };
                e.chain_hash = e.expected_link(&previous);
                previous = e.chain_hash.clone();
                e
            })
            .collect()
    }

    #[test]
    fn intact_chain_passes() {
        let report = verify(stream(3), None, &HashMap::from([("ApiKey:k".into(), 3)]));
        assert_eq!(report.problems, Vec::<String>::new());
        assert_eq!((report.events, report.aggregates), (3, 1));
    }

    #[test]
    fn altered_removed_and_reordered_are_reported() {
        let mut altered = stream(3);
        altered[1].payload = "{\"n\":99}".into();
        assert_eq!(verify(altered, None, &HashMap::new()).problems.len(), 1);

        let mut removed = stream(3);
        removed.remove(1);
        assert!(!verify(removed, None, &HashMap::new()).problems.is_empty());

        let mut truncated = stream(3);
        truncated.pop();
        let recorded = HashMap::from([("ApiKey:k".into(), 3)]);
        assert_eq!(verify(truncated, None, &recorded).problems.len(), 1);

        let mut reordered = stream(3);
        let (a, b) = (reordered[0].payload.clone(), reordered[1].payload.clone());
        reordered[0].payload = b;
        reordered[1].payload = a;
        assert!(!verify(reordered, None, &HashMap::new()).problems.is_empty());

        let mut mirror = stream(2);
        mirror[0].payload = "{\"n\":7}".into();
        assert_eq!(
            verify(stream(2), Some(mirror), &HashMap::new())
                .problems
                .len(),
            1
        );
    }
}
