//! A real OpenID provider for the staff sign-in tests: `portal-tests/oidc_provider.mjs`, the
//! npm package `oidc-provider` run by node on 127.0.0.1 (installed from the pinned lock file
//! when missing, as scripts/test-portal.sh does), and a browser's part of its login, done with
//! plain HTTP requests and a cookie jar.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use gatehouse_admin::staff::StaffSignInSettings;

pub const CLIENT_ID: &str = "gatehouse-portal";
pub const CLIENT_SECRET: &str = "staff-test-client-secret";
pub const REDIRECT_URL: &str = "http://portal.test/admin/signin/oidc/callback";

/// The provider's process; stopped when dropped.
pub struct IdentityProvider {
    child: Child,
    pub issuer: String,
}

impl Drop for IdentityProvider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn portal_tests() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../portal-tests")
}

/// Installs the pinned npm packages once if they are missing (never skips the test).
fn ensure_packages() {
    static INSTALL: std::sync::Once = std::sync::Once::new();
    INSTALL.call_once(|| {
        if portal_tests().join("node_modules/oidc-provider/package.json").exists() {
            return;
        }
        let status = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
            .current_dir(portal_tests())
            .status()
            .expect("npm runs (apt-get install nodejs npm)");
        assert!(status.success(), "npm ci in portal-tests failed");
    });
}

impl IdentityProvider {
    /// Starts the provider; its authorization codes live `code_ttl_secs`.
    pub fn start(code_ttl_secs: u32) -> IdentityProvider {
        ensure_packages();
        let mut child = Command::new("node")
            .arg("oidc_provider.mjs")
            .args(["--client-id", CLIENT_ID, "--client-secret", CLIENT_SECRET, "--redirect-uri", REDIRECT_URL])
            .args(["--code-ttl-secs", &code_ttl_secs.to_string()])
            .current_dir(portal_tests())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("node runs");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).expect("the provider prints its issuer");
        let issuer = line.trim().strip_prefix("issuer ").unwrap_or_else(|| panic!("not an issuer line: {line:?}"));
        IdentityProvider { issuer: issuer.to_owned(), child }
    }

    /// Gatehouse's settings for this provider: groups map to roles, unknown groups to nothing.
    pub fn settings(&self) -> StaffSignInSettings {
        let env = [
            ("GATEHOUSE_OIDC_ISSUER", self.issuer.as_str()),
            ("GATEHOUSE_OIDC_CLIENT_ID", CLIENT_ID),
            ("GATEHOUSE_OIDC_CLIENT_SECRET", CLIENT_SECRET),
            ("GATEHOUSE_OIDC_PROVIDER_NAME", "Corp SSO"),
            ("GATEHOUSE_OIDC_SCOPES", "openid email groups"),
            ("GATEHOUSE_OIDC_ROLES", "gatehouse-owners=owner, gatehouse-approvers=approver, staff=viewer"),
        ];
        StaffSignInSettings::from_lookup(|name| env.iter().find(|(n, _)| *n == name).map(|(_, v)| (*v).to_owned()))
            .expect("valid")
            .expect("configured")
    }

    /// Makes the next token answer's ID token carry `claims` instead (signed again with the
    /// provider's own key, or with one it does not publish).
    pub async fn tamper(&self, claims: serde_json::Value, foreign_key: bool) {
        let body = serde_json::json!({"claims": claims, "foreign_key": foreign_key});
        let reply = reqwest::Client::new()
            .post(format!("{}/__test/tamper", self.issuer))
            .body(body.to_string())
            .send()
            .await
            .expect("the provider answers");
        assert_eq!(reply.status(), 204);
    }

    /// Plays the browser at the provider: from Gatehouse's redirect (`authorize`) through the
    /// login page as `login`, to the redirect back; answers the path and query it sends the
    /// browser to on Gatehouse.
    pub async fn sign_in(&self, authorize: &str, login: &str) -> String {
        let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
        let mut cookies: Vec<(String, String)> = Vec::new();
        let mut url = authorize.to_owned();
        let mut form: Option<Vec<(&str, &str)>> = None;
        for _ in 0..10 {
            if url.starts_with(REDIRECT_URL) {
                return url.trim_start_matches("http://portal.test").to_owned();
            }
            let header: String = cookies.iter().map(|(n, v)| format!("{n}={v}")).collect::<Vec<_>>().join("; ");
            let request = match form.take() {
                Some(fields) => client.post(&url).form(&fields),
                None => client.get(&url),
            };
            let reply = request.header("cookie", header).send().await.expect("the provider answers");
            for set in reply.headers().get_all("set-cookie") {
                let pair = set.to_str().expect("ascii").split(';').next().unwrap_or_default();
                let (name, value) = pair.split_once('=').expect("name=value");
                cookies.retain(|(n, _)| n != name);
                cookies.push((name.to_owned(), value.to_owned()));
            }
            let status = reply.status();
            if status.is_redirection() {
                let location = reply.headers()["location"].to_str().expect("ascii").to_owned();
                url = if location.starts_with('/') { format!("{}{location}", self.issuer) } else { location };
                continue;
            }
            let html = reply.text().await.expect("a page");
            assert!(status.is_success(), "{status}: {html}");
            // The login page: its form posts to the interaction's login URL.
            let action = html.split("action=\"").nth(1).and_then(|a| a.split('"').next()).expect("a form");
            url = if action.starts_with('/') { format!("{}{action}", self.issuer) } else { action.to_owned() };
            form = Some(vec![("prompt", "login"), ("login", login), ("password", "any")]);
        }
        panic!("the provider never sent the browser back");
    }
}
