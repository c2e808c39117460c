//! Lambda: the admin API (catalog, keys, usage reports) behind the HTTP API's `/v1/{proxy+}`.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    gatehouse_aws::lambda::init_tracing();
    let config = gatehouse_aws::lambda::config_from_env();
    let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let app = gatehouse_aws::lambda::app(config, aws_sdk_dynamodb::Client::new(&sdk))?;
    lambda_http::run(app).await
}
