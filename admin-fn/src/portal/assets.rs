//! The portal's static files, embedded in the binary at build time: no CDN and no file system
//! at run time, so the Lambda and the native binary serve byte-identical assets.
//!
//! Our own CSS and scripts sit in `admin-fn/assets/`; pinned npm packages are copied into
//! `admin-fn/assets/vendor/` by `scripts/vendor-assets.sh` (versions and hashes in its
//! `package-lock.json`). A URL carries the file's content hash (`?v=`), so browsers may keep a
//! file for a year and still never run a stale one after an upgrade.

use std::sync::OnceLock;

use axum::extract::Path;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

/// One embedded file.
pub(crate) struct Asset {
    pub name: &'static str,
    pub content_type: &'static str,
    pub bytes: &'static [u8],
}

macro_rules! asset {
    ($name:literal, $type:expr) => {
        Asset { name: $name, content_type: $type, bytes: include_bytes!(concat!("../../assets/", $name)) }
    };
}

const CSS: &str = "text/css; charset=utf-8";
const JS: &str = "text/javascript; charset=utf-8";

static ASSETS: &[Asset] = &[
    asset!("portal.css", CSS),
    asset!("portal.js", JS),
    asset!("usage-chart.js", JS),
    asset!("vendor/uplot.min.js", JS),
    asset!("vendor/uplot.min.css", CSS),
    asset!("vendor/scalar-standalone.js", JS),
    asset!("scalar-init.js", JS),
];

/// Content hash of each asset (first 8 bytes of SHA-256, hex), computed once.
fn versions() -> &'static [String] {
    static VERSIONS: OnceLock<Vec<String>> = OnceLock::new();
    VERSIONS.get_or_init(|| {
        ASSETS.iter().map(|a| Sha256::digest(a.bytes).iter().take(8).map(|b| format!("{b:02x}")).collect()).collect()
    })
}

/// The URL of an asset, versioned by its content; an unknown name is a bug in a template,
/// caught by the page tests (the link answers 404).
pub(crate) fn url(name: &str) -> String {
    match ASSETS.iter().position(|a| a.name == name) {
        Some(i) => format!("/assets/{name}?v={}", versions()[i]),
        None => format!("/assets/{name}"),
    }
}

/// `GET /assets/{name}`.
pub(crate) async fn serve(Path(name): Path<String>) -> Response {
    let Some(asset) = ASSETS.iter().find(|a| a.name == name) else {
        return super::html_error(StatusCode::NOT_FOUND, "Not found", "There is no such file.");
    };
    let mut response = asset.bytes.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(asset.content_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=31536000, immutable"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_asset_gets_a_url_that_changes_with_its_content() {
        for asset in ASSETS {
            let url = url(asset.name);
            assert!(url.starts_with(&format!("/assets/{}?v=", asset.name)), "{url}");
            assert_eq!(url.len(), format!("/assets/{}?v=", asset.name).len() + 16);
        }
    }
}
