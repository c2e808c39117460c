//! Lambda: alert rules evaluated and their alerts delivered, invoked by an EventBridge
//! schedule every minute (see `gatehouse_aws::alerts`). It serves no HTTP.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    gatehouse_aws::alerts::serve_alerts().await
}
