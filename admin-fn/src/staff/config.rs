//! What staff sign-in needs to know about the company's identity provider, read in one place
//! from a lookup function (the Lambda's environment, `gatehouse serve`'s `[oidc]` section or
//! the native environment, a `HashMap` in tests), reporting every problem at once.

use gatehouse_core::model::Role;

/// The settings' names, the same in every runtime's environment.
pub mod names {
    /// The issuer URL; its discovery document is at `<issuer>/.well-known/openid-configuration`.
    pub const ISSUER: &str = "GATEHOUSE_OIDC_ISSUER";
    pub const CLIENT_ID: &str = "GATEHOUSE_OIDC_CLIENT_ID";
    /// The client's secret (secret: read from the environment or the platform's secret store
    /// only, never logged).
    pub const CLIENT_SECRET: &str = "GATEHOUSE_OIDC_CLIENT_SECRET";
    /// Where the provider sends the browser back; default `<portal URL>/admin/signin/oidc/callback`.
    pub const REDIRECT_URL: &str = "GATEHOUSE_OIDC_REDIRECT_URL";
    /// The ID token claim that names the user's groups or roles (a dotted path for a nested
    /// claim, e.g. `realm_access.roles`); default `groups`.
    pub const ROLE_CLAIM: &str = "GATEHOUSE_OIDC_ROLE_CLAIM";
    /// Claim values and the Gatehouse role each gives: `value=role, value=role`.
    pub const ROLES: &str = "GATEHOUSE_OIDC_ROLES";
    /// Shown on the button: "Sign in with <name>"; default "your company account".
    pub const PROVIDER_NAME: &str = "GATEHOUSE_OIDC_PROVIDER_NAME";
    /// Scopes asked for, space separated; `openid` is always added. Default `openid email profile`.
    pub const SCOPES: &str = "GATEHOUSE_OIDC_SCOPES";
}

/// The path the provider returns the browser to.
pub const CALLBACK_PATH: &str = "/admin/signin/oidc/callback";

/// Staff sign-in's settings. `Debug` never shows the client secret.
#[derive(Clone, PartialEq, Eq)]
pub struct StaffSignInSettings {
    pub provider_name: String,
    /// Exactly as the provider's ID tokens name it in `iss`.
    pub issuer: String,
    pub client_id: String,
    pub(crate) client_secret: String,
    /// `None`: the portal's public URL followed by [`CALLBACK_PATH`].
    pub redirect_url: Option<String>,
    pub role_claim: String,
    /// Claim values and their roles, in the order given.
    pub roles: Vec<(String, Role)>,
    pub scopes: Vec<String>,
}

impl std::fmt::Debug for StaffSignInSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StaffSignInSettings")
            .field("provider_name", &self.provider_name)
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field("client_secret", &"(redacted)")
            .field("redirect_url", &self.redirect_url)
            .field("role_claim", &self.role_claim)
            .field("roles", &self.roles)
            .field("scopes", &self.scopes)
            .finish()
    }
}

fn http_url(url: &str) -> bool {
    url.starts_with("https://") || url.starts_with("http://")
}

impl StaffSignInSettings {
    /// The settings `lookup` holds: `Ok(None)` when none is set (staff sign in with admin
    /// tokens only), every problem at once otherwise.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Option<StaffSignInSettings>, Vec<String>> {
        let get = |name: &str| lookup(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        let all = [
            names::ISSUER,
            names::CLIENT_ID,
            names::CLIENT_SECRET,
            names::REDIRECT_URL,
            names::ROLE_CLAIM,
            names::ROLES,
            names::PROVIDER_NAME,
            names::SCOPES,
        ];
        if all.iter().all(|name| get(name).is_none()) {
            return Ok(None);
        }
        let mut problems = Vec::new();
        let mut need = |name: &str| {
            get(name).unwrap_or_else(|| {
                problems.push(format!("{name} is required for staff sign-in"));
                String::new()
            })
        };
        let (issuer, client_id, client_secret, roles) =
            (need(names::ISSUER), need(names::CLIENT_ID), need(names::CLIENT_SECRET), need(names::ROLES));
        if !issuer.is_empty() && !http_url(&issuer) {
            problems.push(format!("{} must be an http(s) URL", names::ISSUER));
        }
        let redirect_url = get(names::REDIRECT_URL);
        if redirect_url.as_deref().is_some_and(|u| !http_url(u)) {
            problems.push(format!("{} must be an http(s) URL", names::REDIRECT_URL));
        }
        let roles = match parse_roles(&roles) {
            Ok(roles) => roles,
            // Missing altogether: already reported as required.
            Err(_) if roles.is_empty() => Vec::new(),
            Err(problem) => {
                problems.push(format!("{}: {problem}", names::ROLES));
                Vec::new()
            }
        };
        let mut scopes: Vec<String> = get(names::SCOPES)
            .unwrap_or_else(|| "openid email profile".to_owned())
            .split_whitespace()
            .map(str::to_owned)
            .collect();
        if !scopes.iter().any(|s| s == "openid") {
            scopes.insert(0, "openid".to_owned());
        }
        let settings = StaffSignInSettings {
            provider_name: get(names::PROVIDER_NAME).unwrap_or_else(|| "your company account".to_owned()),
            issuer,
            client_id,
            client_secret,
            redirect_url,
            role_claim: get(names::ROLE_CLAIM).unwrap_or_else(|| "groups".to_owned()),
            roles,
            scopes,
        };
        if problems.is_empty() {
            Ok(Some(settings))
        } else {
            Err(problems)
        }
    }

    /// The role the claim's `values` give: the strongest mapped one (owner, then api-admin,
    /// approver, viewer), or `None` when no value is mapped.
    pub fn role_for(&self, values: &[String]) -> Option<Role> {
        self.roles.iter().filter(|(value, _)| values.contains(value)).map(|(_, role)| *role).min()
    }

    /// Where the discovery document is (OpenID Connect Discovery 1.0 §4).
    pub fn discovery_url(&self) -> String {
        format!("{}/.well-known/openid-configuration", self.issuer.trim_end_matches('/'))
    }
}

/// Reads `value=role, value=role`. A developer is not staff, so `developer` is refused; a
/// value mapped twice is refused rather than guessed.
pub fn parse_roles(text: &str) -> Result<Vec<(String, Role)>, String> {
    let mut roles: Vec<(String, Role)> = Vec::new();
    for pair in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let Some((value, role)) = pair.rsplit_once('=') else {
            return Err(format!("{pair:?} is not value=role"));
        };
        let (value, role) = (value.trim(), role.trim());
        let role = Role::parse(role)
            .filter(|r| *r != Role::Developer)
            .ok_or_else(|| format!("{role:?} is not a staff role (owner, api-admin, approver or viewer)"))?;
        if value.is_empty() {
            return Err(format!("{pair:?} names no claim value"));
        }
        if roles.iter().any(|(v, _)| v == value) {
            return Err(format!("{value:?} is mapped twice"));
        }
        roles.push((value.to_owned(), role));
    }
    if roles.is_empty() {
        return Err("map at least one claim value to a role, e.g. gatehouse-owners=owner".into());
    }
    Ok(roles)
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn from(pairs: &[(&str, &str)]) -> Result<Option<StaffSignInSettings>, Vec<String>> {
        let map: HashMap<String, String> = pairs.iter().map(|(k, v)| ((*k).into(), (*v).into())).collect();
        StaffSignInSettings::from_lookup(|name| map.get(name).cloned())
    }

    fn complete() -> Vec<(&'static str, &'static str)> {
        vec![
            (names::ISSUER, "https://idp.example.com/"),
            (names::CLIENT_ID, "gatehouse"),
            (names::CLIENT_SECRET, "s3cret-value"),
            (names::ROLES, "gh-owners=owner, gh-ops = approver ,everyone=viewer"),
        ]
    }

    #[test]
    fn nothing_set_means_no_staff_sign_in_and_anything_set_needs_the_rest() {
        assert_eq!(from(&[]), Ok(None));
        let problems = from(&[(names::PROVIDER_NAME, "Acme")]).expect_err("incomplete");
        assert_eq!(problems.len(), 4, "{problems:?}");
        let problems = from(&[(names::ISSUER, "idp.example.com"), (names::ROLES, "x=developer")]).expect_err("bad");
        assert!(problems.iter().any(|p| p.contains("http(s)")), "{problems:?}");
        assert!(problems.iter().any(|p| p.contains("not a staff role")), "{problems:?}");
    }

    #[test]
    fn defaults_fill_what_is_optional_and_the_secret_is_never_printed() {
        let settings = from(&complete()).expect("valid").expect("set");
        assert_eq!(settings.role_claim, "groups");
        assert_eq!(settings.scopes, ["openid", "email", "profile"]);
        assert_eq!(settings.discovery_url(), "https://idp.example.com/.well-known/openid-configuration");
        let printed = format!("{settings:?}");
        assert!(!printed.contains("s3cret-value") && printed.contains("redacted"), "{printed}");
        let mut pairs = complete();
        pairs.push((names::SCOPES, "email groups"));
        assert_eq!(from(&pairs).expect("valid").expect("set").scopes, ["openid", "email", "groups"]);
    }

    #[test]
    fn the_strongest_mapped_role_wins_and_unmapped_values_give_none() {
        let settings = from(&complete()).expect("valid").expect("set");
        let values = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(settings.role_for(&values(&["everyone", "gh-ops"])), Some(Role::Approver));
        assert_eq!(settings.role_for(&values(&["gh-owners", "everyone"])), Some(Role::Owner));
        assert_eq!(settings.role_for(&values(&["marketing"])), None);
        assert_eq!(settings.role_for(&[]), None);
    }

    #[test]
    fn role_maps_are_refused_when_ambiguous_or_empty() {
        assert!(parse_roles("a=owner,a=viewer").is_err());
        assert!(parse_roles("").is_err());
        assert!(parse_roles("=owner").is_err());
        assert!(parse_roles("owner").is_err());
        assert_eq!(parse_roles("ou=x=api-admin"), Ok(vec![("ou=x".to_owned(), Role::ApiAdmin)]), "a value may hold =");
    }
}
