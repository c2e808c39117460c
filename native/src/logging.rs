//! Structured logs with `tracing`. Nothing that logs here ever receives a key or token:
//! secrets are kept in types whose `Debug` hides them, and no request header is logged.

/// Logs to stderr; `RUST_LOG` overrides the level.
pub fn init(verbose: bool) {
    let default = if verbose { "debug" } else { "info" };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let _ =
        tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_target(false).try_init();
}

/// `gatehouse serve`'s logs: one JSON object per line (tracing-subscriber's json formatter)
/// or plain text, at `level` unless `RUST_LOG` says otherwise. Access-log lines carry the
/// target `access`.
pub fn init_serve(json: bool, level: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .or_else(|_| tracing_subscriber::EnvFilter::try_new(level))
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let _ = if json {
        builder.json().flatten_event(true).with_current_span(false).try_init()
    } else {
        builder.with_ansi(false).try_init()
    };
}
