//! Lambda: the admin API (catalog, keys, usage reports) behind the HTTP API's `/v1/{proxy+}`.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    gatehouse_aws::lambda::serve().await
}
