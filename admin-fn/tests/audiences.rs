//! Audiences: an API outside a visitor's audience does not exist for them. The walk in
//! `common/audience_walk.rs` (every portal page and admin route, as five kinds of visitor),
//! run in process against the in-memory store.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::{Path, PathBuf};

use common::audience_walk::{walk, Page, Site};
use common::Harness;
use serde_json::Value;

struct InProcess {
    h: Harness,
    outbox: PathBuf,
}

impl Site for InProcess {
    async fn admin(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let reply = self.h.call(method, path, body).await;
        (reply.status.as_u16(), reply.body)
    }

    async fn browse(&self, method: &str, path: &str, cookies: &str, form: &[(&str, &str)]) -> Page {
        let b = self.h.browse(method, path, cookies, form).await;
        Page {
            status: b.status.as_u16(),
            location: b.headers.get("location").map(|l| l.to_str().unwrap().to_owned()),
            cookies: b.set_cookies.iter().map(|c| c.split(';').next().unwrap_or_default().to_owned()).collect(),
            body: b.html,
        }
    }

    fn outbox(&self) -> &Path {
        &self.outbox
    }

    fn public_url(&self) -> &str {
        "http://portal.test"
    }

    fn owner_token(&self) -> &str {
        common::TOKEN
    }
}

#[tokio::test]
async fn nothing_of_an_api_outside_a_visitors_audience_leaks_from_any_page_or_route() {
    let dir = tempfile::tempdir().unwrap();
    let site = InProcess { h: Harness::with_outbox(dir.path()), outbox: dir.path().to_path_buf() };
    let checked = walk(&site).await;
    println!("audiences: {checked} (visitor, page or route) pairs checked");
}
