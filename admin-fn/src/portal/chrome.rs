//! What every page's frame needs: the site's name, who is signed in, the form token and
//! one-off notices; and the portal's settings.

use gatehouse_core::model::{Invitation, SignInLink};
use gatehouse_core::time::UnixMillis;

use super::assets;
use super::session::Current;

/// How the portal presents itself and where it sends people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortalSettings {
    /// Shown in the header and page titles.
    pub site_name: String,
    /// The gateway's public base URL (e.g. `https://api.example.com`): try-it sends calls there,
    /// and the Content-Security-Policy allows it. `None` hides try-it's send button.
    pub gateway_url: Option<String>,
    /// Where people reach the portal (e.g. `https://developer.example.com`), for the links in
    /// its mail. Configured, never taken from a request's `Host` (which anyone can forge, to
    /// send a victim a sign-in link to their own site). `None` turns sign-in off.
    pub public_url: Option<String>,
    /// How long a sign-in link works, in milliseconds: [`SignInLink::LIFETIME`] (15 minutes)
    /// unless a test shortens it to see an expired link refused without waiting.
    pub signin_link_lifetime: UnixMillis,
    /// How long an invitation to an organisation works: [`Invitation::LIFETIME`] (7 days)
    /// unless a test shortens it.
    pub invitation_lifetime: UnixMillis,
    /// The provider's terms of use, as plain text (paragraphs split by blank lines), shown at
    /// `/terms`; signing up accepts them. `None`: the page says none are published.
    pub terms: Option<String>,
    /// Email domains developers may sign up with, lower case ([`super::parse_domains`]);
    /// empty (the default): any address may sign up.
    pub signup_domains: Vec<String>,
}

impl Default for PortalSettings {
    fn default() -> Self {
        PortalSettings {
            site_name: "Gatehouse".into(),
            gateway_url: None,
            public_url: None,
            signin_link_lifetime: SignInLink::LIFETIME,
            invitation_lifetime: Invitation::LIFETIME,
            terms: None,
            signup_domains: Vec::new(),
        }
    }
}

impl PortalSettings {
    /// `scheme://host[:port]` of the gateway URL, for the CSP's `connect-src`.
    pub(crate) fn gateway_origin(&self) -> Option<String> {
        let url = self.gateway_url.as_deref()?;
        let (scheme, rest) = url.split_once("://")?;
        let host = rest.split('/').next().filter(|h| !h.is_empty())?;
        Some(format!("{scheme}://{host}"))
    }

    /// The invitation's lifetime in words, for the mail that promises it.
    pub(crate) fn invitation_lifetime_words(&self) -> String {
        match self.invitation_lifetime / 1000 {
            secs if secs % 86_400 == 0 && secs >= 86_400 => format!("{} days", secs / 86_400),
            secs if secs >= 3600 => format!("{} hours", secs / 3600),
            secs => format!("{} minutes", (secs / 60).max(1)),
        }
    }

    /// The sign-in link's lifetime in words, for the mail and the page that promise it.
    pub(crate) fn signin_link_lifetime_words(&self) -> String {
        let secs = self.signin_link_lifetime / 1000;
        match (secs % 60, secs / 60) {
            (0, 1) => "1 minute".to_owned(),
            (0, minutes) => format!("{minutes} minutes"),
            (1, 0) => "1 second".to_owned(),
            _ => format!("{secs} seconds"),
        }
    }
}

/// The signed-in person, as the header shows them.
#[derive(Debug, Clone)]
pub(crate) struct UserChip {
    pub label: String,
    pub is_admin: bool,
}

/// A message shown once at the top of a page.
#[derive(Debug, Clone)]
pub(crate) struct Notice {
    /// `info`, `success` or `warning` (a CSS class).
    pub tone: &'static str,
    pub text: String,
}

/// The frame of a page.
#[derive(Debug, Clone)]
pub(crate) struct Chrome {
    pub site_name: String,
    pub user: Option<UserChip>,
    /// The session's form token; empty when nobody is signed in.
    pub csrf: String,
    pub notices: Vec<Notice>,
}

impl Chrome {
    pub(crate) fn anonymous() -> Chrome {
        Chrome::new(&PortalSettings::default())
    }

    pub(crate) fn new(settings: &PortalSettings) -> Chrome {
        Chrome { site_name: settings.site_name.clone(), user: None, csrf: String::new(), notices: Vec::new() }
    }

    /// The frame for whoever the request's session belongs to.
    pub(crate) fn of(settings: &PortalSettings, current: Option<&Current>) -> Chrome {
        let mut chrome = Chrome::new(settings);
        if let Some(current) = current {
            let label = match (&current.developer, &current.session.subject) {
                (Some(developer), _) => developer.email.clone(),
                (None, gatehouse_core::model::Subject::Admin { actor, .. }) if actor.starts_with("staff:") => {
                    actor.trim_start_matches("staff:").to_owned()
                }
                (None, _) => "Admin".to_owned(),
            };
            chrome.user = Some(UserChip { label, is_admin: current.is_admin() });
            chrome.csrf.clone_from(&current.session.csrf);
        }
        chrome
    }

    /// The versioned URL of an embedded asset (called from templates).
    pub(crate) fn asset(&self, name: &str) -> String {
        assets::url(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_gateway_origin_drops_the_path_and_refuses_what_is_not_a_url() {
        let with = |url: &str| PortalSettings { gateway_url: Some(url.into()), ..PortalSettings::default() };
        assert_eq!(with("https://api.example.com/v2/").gateway_origin().as_deref(), Some("https://api.example.com"));
        assert_eq!(with("http://127.0.0.1:8080").gateway_origin().as_deref(), Some("http://127.0.0.1:8080"));
        assert_eq!(with("not a url").gateway_origin(), None);
        assert_eq!(PortalSettings::default().gateway_origin(), None);
    }

    #[test]
    fn the_link_lifetime_is_promised_in_the_units_it_was_set_in() {
        let with = |ms| PortalSettings { signin_link_lifetime: ms, ..PortalSettings::default() };
        assert_eq!(PortalSettings::default().signin_link_lifetime_words(), "15 minutes");
        assert_eq!(with(60_000).signin_link_lifetime_words(), "1 minute");
        assert_eq!(with(90_000).signin_link_lifetime_words(), "90 seconds");
        assert_eq!(with(3_000).signin_link_lifetime_words(), "3 seconds");
    }
}
