//! The local audit sink: one JSON object per line, appended and synced to disk per batch.
use async_trait::async_trait;
use projections::audit::AuditRecord;
use projections::{AuditSink, StoreError};
use std::path::PathBuf;
use tokio::io::AsyncWriteExt;

/// Appends audit records to a JSON-lines file.
pub struct AuditFile {
    path: PathBuf,
}

impl AuditFile {
    /// A sink writing to `path` (created on first write).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }
}

#[async_trait]
impl AuditSink for AuditFile {
    fn name(&self) -> &str {
        "audit-file"
    }

    fn inline(&self) -> bool {
        true
    }

    async fn write(&self, records: &[AuditRecord]) -> Result<(), StoreError> {
        let mut buffer = Vec::new();
        for record in records {
            serde_json::to_writer(&mut buffer, record)
                .map_err(|e| StoreError::Corrupt(e.to_string()))?;
            buffer.push(b'\n');
        }
        let io = |e: std::io::Error| {
            StoreError::Unavailable(format!("audit file {}: {e}", self.path.display()))
        };
        let mut file = tokio::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .await
            .map_err(io)?;
        file.write_all(&buffer).await.map_err(io)?;
        file.sync_data().await.map_err(io)
    }
}
