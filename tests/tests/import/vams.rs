//! A VAMS 2.5.1 deployment's three tables on DynamoDB Local, created with VAMS's exact key schema and
//! GSIs and filled the way VAMS's handlers fill them. The plaintext keys exist only here, in memory.
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, GlobalSecondaryIndex, KeySchemaElement,
    KeyType, Projection, ProjectionType, PutRequest, ScalarAttributeType, WriteRequest,
};
use aws_sdk_dynamodb::Client;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use std::collections::HashMap;

/// A VAMS item.
pub type Item = HashMap<String, AttributeValue>;

/// `"vams_" + secrets.token_urlsafe(48)`, as `apiKeyService.create_api_key` makes them.
pub fn vams_key() -> String {
    let mut bytes = [0u8; 48];
    getrandom::fill(&mut bytes).expect("OS random source");
    format!("vams_{}", URL_SAFE_NO_PAD.encode(bytes))
}

fn s(value: &str) -> AttributeValue {
    AttributeValue::S(value.to_owned())
}

/// One deployment's tables, under fresh names.
pub struct Vams {
    pub client: Client,
    pub api_keys: String,
    pub user_roles: String,
    pub roles: String,
}

impl Vams {
    /// Creates the three tables as `storageBuilder-nestedStack.ts` declares them.
    pub async fn create() -> Self {
        let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .load()
            .await;
        let stack = format!("vams{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
        let vams = Self {
            client: Client::new(&config),
            api_keys: format!("{stack}-ApiKeyStorageTable1A2B3C"),
            user_roles: format!("{stack}-UserRolesStorageTable4D5E6F"),
            roles: format!("{stack}-RolesStorageTable7A8B9C"),
        };
        vams.table(&vams.roles, "roleName", None, vec![]).await;
        vams.table(&vams.user_roles, "userId", Some("roleName"), vec![])
            .await;
        let indexes = vec![
            index("apiKeyHashIndex", "apiKeyHash", None),
            index("userIdIndex", "userId", Some("apiKeyId")),
        ];
        vams.table(&vams.api_keys, "apiKeyId", None, indexes).await;
        vams
    }

    async fn table(
        &self,
        name: &str,
        hash: &str,
        range: Option<&str>,
        indexes: Vec<GlobalSecondaryIndex>,
    ) {
        let mut attributes: Vec<String> = vec![hash.to_owned()];
        attributes.extend(range.map(str::to_owned));
        for gsi in &indexes {
            for key in gsi.key_schema() {
                attributes.push(key.attribute_name().to_owned());
            }
        }
        attributes.sort();
        attributes.dedup();
        let mut create = self
            .client
            .create_table()
            .table_name(name)
            .billing_mode(BillingMode::PayPerRequest)
            .set_key_schema(Some(keys(hash, range)))
            .set_global_secondary_indexes((!indexes.is_empty()).then_some(indexes));
        for attribute in attributes {
            create = create.attribute_definitions(
                AttributeDefinition::builder()
                    .attribute_name(attribute)
                    .attribute_type(ScalarAttributeType::S)
                    .build()
                    .expect("attribute definition"),
            );
        }
        create
            .send()
            .await
            .unwrap_or_else(|e| panic!("create {name}: {e:?}"));
    }

    /// `createRole.create_role`'s item.
    pub async fn put_role(&self, name: &str, description: &str) {
        let item = Item::from([
            ("id".into(), s(&uuid::Uuid::new_v4().to_string())),
            ("roleName".into(), s(name)),
            ("description".into(), s(description)),
            ("createdOn".into(), s("2026-03-01T08:00:00")),
            ("source".into(), AttributeValue::Null(true)),
            ("sourceIdentifier".into(), AttributeValue::Null(true)),
            ("mfaRequired".into(), AttributeValue::Bool(false)),
        ]);
        self.put(&self.roles, item).await;
    }

    /// `userRolesService`'s item: one role of one user.
    pub async fn put_user_role(&self, user: &str, role: &str) {
        let item = Item::from([
            ("userId".into(), s(user)),
            ("roleName".into(), s(role)),
            ("createdOn".into(), s("2026-03-01T08:00:01.123456")),
        ]);
        self.put(&self.user_roles, item).await;
    }

    /// Writes an item as is (tests put broken ones too).
    pub async fn put(&self, table: &str, item: Item) {
        self.client
            .put_item()
            .table_name(table)
            .set_item(Some(item))
            .send()
            .await
            .unwrap_or_else(|e| panic!("put into {table}: {e:?}"));
    }

    /// Items in `table`, by a plain paginated Scan that transfers every item (a benchmark baseline).
    pub async fn scan_count(&self, table: &str) -> usize {
        let mut pages = self.client.scan().table_name(table).into_paginator().send();
        let mut count = 0;
        while let Some(page) = pages.next().await {
            count += page
                .unwrap_or_else(|e| panic!("scan {table}: {e:?}"))
                .items()
                .len();
        }
        count
    }

    /// Writes up to 25 items per BatchWriteItem (large fixtures).
    pub async fn put_many(&self, table: &str, items: Vec<Item>) {
        for chunk in items.chunks(25) {
            let mut requests: Vec<WriteRequest> = chunk
                .iter()
                .map(|item| {
                    let put = PutRequest::builder().set_item(Some(item.clone())).build();
                    WriteRequest::builder()
                        .put_request(put.expect("put request"))
                        .build()
                })
                .collect();
            while !requests.is_empty() {
                let out = self
                    .client
                    .batch_write_item()
                    .request_items(table, requests)
                    .send()
                    .await
                    .unwrap_or_else(|e| panic!("batch write into {table}: {e:?}"));
                requests = out
                    .unprocessed_items()
                    .and_then(|u| u.get(table))
                    .cloned()
                    .unwrap_or_default();
            }
        }
    }
}

/// The item `apiKeyService.create_api_key` writes for `plaintext` (then an update may rewrite
/// `description`, `expiresAt`, `isActive`, `updatedAt`).
pub fn key_item(
    id: &str,
    name: &str,
    plaintext: &str,
    user: &str,
    expires_at: &str,
    is_active: &str,
) -> Item {
    Item::from([
        ("apiKeyId".into(), s(id)),
        ("apiKeyName".into(), s(name)),
        (
            "apiKeyHash".into(),
            s(&tests::secrets::sha256_hex(plaintext)),
        ),
        ("description".into(), s(&format!("{name} from VAMS"))),
        ("userId".into(), s(user)),
        ("createdBy".into(), s("vams-admin@example.com")),
        ("createdAt".into(), s("2026-04-23T10:11:12.345678+00:00")),
        ("updatedAt".into(), s("2026-04-23T10:11:12.345678+00:00")),
        ("expiresAt".into(), s(expires_at)),
        ("isActive".into(), s(is_active)),
    ])
}

fn keys(hash: &str, range: Option<&str>) -> Vec<KeySchemaElement> {
    let element = |name: &str, kind| {
        KeySchemaElement::builder()
            .attribute_name(name)
            .key_type(kind)
            .build()
            .expect("key schema element")
    };
    let mut out = vec![element(hash, KeyType::Hash)];
    out.extend(range.map(|r| element(r, KeyType::Range)));
    out
}

fn index(name: &str, hash: &str, range: Option<&str>) -> GlobalSecondaryIndex {
    GlobalSecondaryIndex::builder()
        .index_name(name)
        .set_key_schema(Some(keys(hash, range)))
        .projection(
            Projection::builder()
                .projection_type(ProjectionType::All)
                .build(),
        )
        .build()
        .expect("global secondary index")
}
