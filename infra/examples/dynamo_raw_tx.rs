//! Baseline for the AWS create benchmark: raw `TransactWriteItems` of the shape an apikeyd create
//! commits (an event item, its feed copy and a name claim, each a conditional put of a similar size),
//! from N concurrent tasks, against whatever `AWS_ENDPOINT_URL_DYNAMODB` points at (DynamoDB Local in
//! `scripts/bench.sh`). Bounded by count and time; prints one line: `transactions/s p50_ms p90_ms`.
//!
//!   cargo run --release -p infra --example dynamo_raw_tx -- <tasks> <seconds>
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType, Put,
    ScalarAttributeType, TransactWriteItem,
};
use std::time::{Duration, Instant};

/// Most transactions one run commits, whatever the time budget.
const MAX_TRANSACTIONS: usize = 200_000;

fn put(table: &str, key: String, body: &str) -> TransactWriteItem {
    let put = Put::builder()
        .table_name(table)
        .item("pk", AttributeValue::S(key))
        .item("Payload", AttributeValue::S(body.to_owned()))
        .condition_expression("attribute_not_exists(pk)")
        .build()
        .expect("table, item and condition are set");
    TransactWriteItem::builder().put(put).build()
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let tasks: usize = args.next().map_or(Ok(8), |a| a.parse())?;
    let seconds: u64 = args.next().map_or(Ok(8), |a| a.parse())?;
    let config = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let client = aws_sdk_dynamodb::Client::new(&config);
    let table = format!("rawtx{}", uuid::Uuid::new_v4().simple());
    client
        .create_table()
        .table_name(&table)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("pk")
                .attribute_type(ScalarAttributeType::S)
                .build()?,
        )
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name("pk")
                .key_type(KeyType::Hash)
                .build()?,
        )
        .send()
        .await?;
    // An apikeyd create event with its metadata is about 700 bytes.
    let body = "x".repeat(700);
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let workers: Vec<_> = (0..tasks)
        .map(|task| {
            let (client, table, body) = (client.clone(), table.clone(), body.clone());
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                let mut n = 0;
                while Instant::now() < deadline && n < MAX_TRANSACTIONS / tasks {
                    let id = format!("{task}-{n}");
                    let items = ["event", "feed", "claim"]
                        .map(|kind| put(&table, format!("{kind}#{id}"), &body));
                    let at = Instant::now();
                    client
                        .transact_write_items()
                        .set_transact_items(Some(items.to_vec()))
                        .send()
                        .await
                        .map_err(aws_sdk_dynamodb::Error::from)?;
                    latencies.push(at.elapsed());
                    n += 1;
                }
                Ok::<_, aws_sdk_dynamodb::Error>(latencies)
            })
        })
        .collect();
    let mut latencies = Vec::new();
    for worker in workers {
        latencies.extend(worker.await??);
    }
    let elapsed = started.elapsed().as_secs_f64();
    client.delete_table().table_name(&table).send().await?;
    latencies.sort();
    let at = |q: f64| latencies[((latencies.len() - 1) as f64 * q) as usize].as_secs_f64() * 1e3;
    println!(
        "{:.0} {:.2} {:.2}",
        latencies.len() as f64 / elapsed,
        at(0.5),
        at(0.9)
    );
    Ok(())
}
