//! The portal's static files, embedded in the binary at build time: no CDN and no file system
//! at run time, so the Lambda and the native binary serve byte-identical assets.
//!
//! Our own CSS and scripts sit in `admin-fn/assets/`; pinned npm packages are copied into
//! `admin-fn/assets/vendor/` by `scripts/vendor-assets.sh` (versions and hashes in its
//! `package-lock.json`). A URL carries the file's content hash (`?v=`), so browsers may keep a
//! file for a year and still never run a stale one after an upgrade.

use std::sync::OnceLock;

use axum::extract::Path;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
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
    asset!("analytics-charts.js", JS),
    asset!("vendor/uplot.min.js", JS),
    asset!("vendor/uplot.min.css", CSS),
    asset!("vendor/scalar-standalone.js", JS),
    asset!("scalar-init.js", JS),
    asset!("try-it.js", JS),
    asset!("reference.css", CSS),
];

/// Each asset gzipped (best compression), computed once, on the first request for any.
fn gzipped() -> &'static [Vec<u8>] {
    static GZIPPED: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    GZIPPED.get_or_init(|| ASSETS.iter().map(|a| gzip(a.bytes)).collect())
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    // Writing to a Vec cannot fail; an empty result would only cost the plain copy below.
    let _ = encoder.write_all(bytes);
    encoder.finish().unwrap_or_default()
}

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

/// `GET /assets/{name}`: gzipped when the browser takes it.
pub(crate) async fn serve(Path(name): Path<String>, request: HeaderMap) -> Response {
    let Some(i) = ASSETS.iter().position(|a| a.name == name) else {
        return super::html_error(StatusCode::NOT_FOUND, "Not found", "There is no such file.");
    };
    let asset = &ASSETS[i];
    let takes_gzip = request
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.split(',').any(|e| e.trim().split(';').next() == Some("gzip")));
    let gzipped = &gzipped()[i];
    let mut response = match takes_gzip && !gzipped.is_empty() {
        true => {
            let mut response = gzipped.as_slice().into_response();
            response.headers_mut().insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
            response
        }
        false => asset.bytes.into_response(),
    };
    let headers = response.headers_mut();
    headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
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

    #[test]
    fn gzipped_assets_unzip_to_the_original() {
        use std::io::Read;
        for (asset, zipped) in ASSETS.iter().zip(gzipped()) {
            let mut plain = Vec::new();
            flate2::read::GzDecoder::new(zipped.as_slice()).read_to_end(&mut plain).expect("gzip");
            assert_eq!(plain, asset.bytes, "{}", asset.name);
        }
    }

    /// What a browser would download of an asset, for the page-weight figures.
    pub(crate) fn gzipped_len(name: &str) -> usize {
        ASSETS.iter().position(|a| a.name == name).map_or(0, |i| gzipped()[i].len())
    }

    #[test]
    fn the_scalar_bundle_shrinks_under_gzip() {
        assert!(gzipped_len("vendor/scalar-standalone.js") * 2 < 4_912_231);
    }
}
