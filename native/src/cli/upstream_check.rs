//! `apply`'s warnings about upstream URLs that are valid but cannot work: a host that does not
//! resolve, a scheme that does not match the well-known port, an `https://` upstream addressed
//! by IP. Warnings, not errors: the admin API accepts such URLs (the upstream may not exist
//! yet, or resolve only where the gateway runs), but each call to them would get a 502.

use std::time::Duration;

use serde_json::Value;

/// How long a name may take to resolve before it is reported as not resolving.
const RESOLVE_TIMEOUT: Duration = Duration::from_secs(3);

/// `(JSON pointer, warning)` for each API whose upstream URL looks like it cannot work.
pub async fn warnings(config: &Value) -> Vec<(String, String)> {
    let mut found = Vec::new();
    let Some(apis) = config.get("apis").and_then(Value::as_array) else { return found };
    for (i, api) in apis.iter().enumerate() {
        let Some(url) = api.pointer("/upstream/url").and_then(Value::as_str) else { continue };
        if let Some(warning) = check(url).await {
            found.push((format!("/apis/{i}/upstream/url"), warning));
        }
    }
    found
}

/// Why `url` cannot work, if it cannot. A URL the admin API refuses (no scheme, not http or
/// https) is left to its error.
async fn check(url: &str) -> Option<String> {
    let uri: http::Uri = url.parse().ok()?;
    let tls = match uri.scheme_str()? {
        "https" => true,
        "http" => false,
        _ => return None,
    };
    let host = uri.host()?.trim_start_matches('[').trim_end_matches(']').to_owned();
    match (tls, uri.port_u16()) {
        (false, Some(443)) => return Some("port 443 speaks TLS: did you mean https://?".into()),
        (true, Some(80)) => return Some("port 80 speaks plain HTTP: did you mean http://?".into()),
        _ => {}
    }
    if host.parse::<std::net::IpAddr>().is_ok() {
        return tls.then(|| {
            format!("an https:// upstream addressed by IP needs a certificate that lists {host}; most list names only")
        });
    }
    let port = uri.port_u16().unwrap_or(if tls { 443 } else { 80 });
    let resolved = tokio::time::timeout(RESOLVE_TIMEOUT, tokio::net::lookup_host((host.as_str(), port))).await;
    match resolved.map(|addrs| addrs.map(|mut addrs| addrs.next().is_some())) {
        Ok(Ok(true)) => None,
        _ => Some(format!(
            "{host} does not resolve from this machine; calls would get 502 unless it does where the gateway runs"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::check;

    #[tokio::test]
    async fn urls_that_cannot_work_are_named_and_good_ones_are_not() {
        assert!(check("https://no-such-host.invalid/v1").await.unwrap().contains("does not resolve"));
        assert!(check("http://localhost:443").await.unwrap().contains("https://"));
        assert!(check("https://localhost:80").await.unwrap().contains("http://"));
        assert!(check("https://10.1.2.3").await.unwrap().contains("certificate"));
        for fine in ["http://127.0.0.1:9000", "https://localhost:8443/api", "ftp://left-to-the-api"] {
            assert_eq!(check(fine).await, None, "{fine}");
        }
    }
}
