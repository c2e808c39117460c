//! Lambda: usage ingest (`POST /v1/usage/batches` from the edge). Same router as the admin
//! function; a separate function so it scales, is throttled and is permitted on its own
//! (its IAM role can write only the usage table).

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    gatehouse_aws::lambda::serve().await
}
