//! The store contract (`gatehouse_core::store::contract`) on `DynamoRepo` over moto: the same
//! scenarios `MemoryRepo` and `SqliteRepo` pass, so the router runs unchanged on DynamoDB.

mod support;

macro_rules! contract {
    ($($name:ident),* $(,)?) => {
        $(#[tokio::test]
        async fn $name() {
            gatehouse_core::store::contract::$name(support::fresh_repo().await).await;
        })*
    };
}

gatehouse_core::for_each_store_contract!(contract);
