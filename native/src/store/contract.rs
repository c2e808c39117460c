//! One store contract (`gatehouse_core::store::contract`), two instantiations here: every
//! scenario runs against `MemoryRepo` and `SqliteRepo`, so the in-memory twin used by router
//! tests cannot drift from the real store. `gatehouse-aws` runs the same list on `DynamoRepo`.

use gatehouse_core::model::Developer;
use gatehouse_core::store::contract::developer;
use gatehouse_core::store::{Repo, StoreError};

use super::SqliteRepo;

/// A fresh database file under the temp dir, unique per test and process.
fn temp_db(name: &str) -> std::path::PathBuf {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    std::env::temp_dir().join(format!("gatehouse-{name}-{}-{nanos}.db", std::process::id()))
}

macro_rules! contract {
    ($($name:ident),* $(,)?) => {
        mod memory {
            $(#[tokio::test] async fn $name() {
                gatehouse_core::store::contract::$name(gatehouse_core::store::MemoryRepo::new()).await;
            })*
        }
        mod sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let path = super::temp_db(stringify!($name));
                gatehouse_core::store::contract::$name(super::SqliteRepo::open(&path).expect("open")).await;
                let _ = std::fs::remove_file(&path);
            })*
        }
    };
}

gatehouse_core::for_each_store_contract!(contract);

#[tokio::test]
async fn sqlite_data_survives_reopening_the_file() {
    let path = temp_db("reopen");
    SqliteRepo::open(&path).expect("open").insert(&developer("dev_1", "a@x.io")).await.expect("insert");
    let reopened = SqliteRepo::open(&path).expect("reopen migrates nothing twice");
    assert_eq!(reopened.get::<Developer>("dev_1").await.map(|d| d.email), Ok("a@x.io".into()));
    let clash = reopened.insert(&developer("dev_2", "A@x.io")).await;
    assert!(matches!(clash, Err(StoreError::Conflict(_))));
    let _ = std::fs::remove_file(&path);
}
