//! The local audit sink: one JSON object per line, appended and synced to disk per batch.
use async_trait::async_trait;
use projections::audit::AuditRecord;
use projections::{AuditSink, StoreError};
use std::path::PathBuf;
use tokio::io::AsyncWriteExt;

/// Why the audit file could not be written.
#[derive(Debug, thiserror::Error)]
pub enum AuditFileError {
    /// Opening, appending to or syncing the file failed.
    #[error("audit file {path}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A record that cannot be encoded.
    #[error("encoding an audit record")]
    Encode(#[from] serde_json::Error),
}

impl From<AuditFileError> for StoreError {
    fn from(error: AuditFileError) -> Self {
        match error {
            AuditFileError::Io { .. } => Self::unavailable(error),
            AuditFileError::Encode(_) => Self::corrupt(error),
        }
    }
}

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
            serde_json::to_writer(&mut buffer, record).map_err(AuditFileError::from)?;
            buffer.push(b'\n');
        }
        let io = |source| AuditFileError::Io {
            path: self.path.clone(),
            source,
        };
        let mut file = tokio::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .await
            .map_err(io)?;
        file.write_all(&buffer).await.map_err(io)?;
        Ok(file.sync_data().await.map_err(io)?)
    }
}
