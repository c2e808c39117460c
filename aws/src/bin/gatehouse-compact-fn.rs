//! Lambda: hourly usage compaction, invoked by an EventBridge schedule every 15 minutes. It
//! sums the key window items of every finished hour into hour and day items (docs/aws.md,
//! "Tables"); it serves no HTTP and its role can touch only the usage table.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    gatehouse_aws::lambda::serve_compaction().await
}
