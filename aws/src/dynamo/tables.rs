//! Table definitions for tests and local runs. In AWS the SAM template (`infra/template.yaml`)
//! creates the same tables; keep the two in step.

use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection, ProjectionType,
    ScalarAttributeType, TimeToLiveSpecification,
};
use aws_sdk_dynamodb::Client;
use gatehouse_core::store::StoreError;

use super::{unavailable, DynamoTables};

/// The GSI listing records by owner: `gsi1pk = <kind>#<parent>`, `gsi1sk = <creation seq>`.
pub(crate) const BY_PARENT: &str = "by_parent";
/// The TTL attribute of both tables (Unix seconds).
pub(crate) const TTL_ATTRIBUTE: &str = "expires_at";

fn attr(name: &str) -> Result<AttributeDefinition, StoreError> {
    AttributeDefinition::builder()
        .attribute_name(name)
        .attribute_type(ScalarAttributeType::S)
        .build()
        .map_err(unavailable)
}

fn key(name: &str, kind: KeyType) -> Result<KeySchemaElement, StoreError> {
    KeySchemaElement::builder().attribute_name(name).key_type(kind).build().map_err(unavailable)
}

/// Creates both tables (on-demand, with the GSI and TTL), as the SAM template does.
pub async fn create_tables(client: &Client, tables: &DynamoTables) -> Result<(), StoreError> {
    let by_parent = GlobalSecondaryIndex::builder()
        .index_name(BY_PARENT)
        .key_schema(key("gsi1pk", KeyType::Hash)?)
        .key_schema(key("gsi1sk", KeyType::Range)?)
        .projection(Projection::builder().projection_type(ProjectionType::All).build())
        .build()
        .map_err(unavailable)?;
    client
        .create_table()
        .table_name(&tables.catalog)
        .billing_mode(BillingMode::PayPerRequest)
        .set_attribute_definitions(Some(vec![attr("pk")?, attr("sk")?, attr("gsi1pk")?, attr("gsi1sk")?]))
        .key_schema(key("pk", KeyType::Hash)?)
        .key_schema(key("sk", KeyType::Range)?)
        .global_secondary_indexes(by_parent)
        .send()
        .await
        .map_err(unavailable)?;
    client
        .create_table()
        .table_name(&tables.usage)
        .billing_mode(BillingMode::PayPerRequest)
        .set_attribute_definitions(Some(vec![attr("pk")?, attr("sk")?]))
        .key_schema(key("pk", KeyType::Hash)?)
        .key_schema(key("sk", KeyType::Range)?)
        .send()
        .await
        .map_err(unavailable)?;
    for table in [&tables.catalog, &tables.usage] {
        let spec = TimeToLiveSpecification::builder()
            .enabled(true)
            .attribute_name(TTL_ATTRIBUTE)
            .build()
            .map_err(unavailable)?;
        client
            .update_time_to_live()
            .table_name(table)
            .time_to_live_specification(spec)
            .send()
            .await
            .map_err(unavailable)?;
    }
    Ok(())
}
