//! Whole-table scans: every page of every segment, segments in parallel.
use super::VamsError;
use crate::dynamo::item::Item;
use aws_sdk_dynamodb::error::DisplayErrorContext;
use aws_sdk_dynamodb::Client;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Parallel scan segments: DynamoDB serves each from its own partitions, so a large table reads
/// several times faster; more would only queue on a two-core importer.
pub const SEGMENTS: i32 = 4;

/// Every item of `table`, consistently read, in no particular order. `progress` is told the running
/// total after each page.
pub async fn scan_all(
    client: &Client,
    table: &str,
    progress: &(dyn Fn(usize) + Sync),
) -> Result<Vec<Item>, VamsError> {
    let read = AtomicUsize::new(0);
    let segments =
        (0..SEGMENTS).map(|segment| scan_segment(client, table, segment, &read, progress));
    let pages = futures::future::try_join_all(segments).await?;
    Ok(pages.into_iter().flatten().collect())
}

async fn scan_segment(
    client: &Client,
    table: &str,
    segment: i32,
    read: &AtomicUsize,
    progress: &(dyn Fn(usize) + Sync),
) -> Result<Vec<Item>, VamsError> {
    let mut items = Vec::new();
    let mut start = None;
    loop {
        let page = client
            .scan()
            .table_name(table)
            .segment(segment)
            .total_segments(SEGMENTS)
            .consistent_read(true)
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(|e| VamsError::Unavailable {
                table: table.to_owned(),
                cause: DisplayErrorContext(e).to_string(),
            })?;
        let count = page.items().len();
        items.extend(page.items().iter().cloned());
        progress(read.fetch_add(count, Ordering::Relaxed) + count);
        start = page.last_evaluated_key().cloned();
        if start.is_none() {
            return Ok(items);
        }
    }
}
