//! Sign-up limited to the company's (or its customers') verified email domains: the simpler
//! alternative to an identity provider. The mailed link proves the address, so an account is
//! only ever made for someone who reads mail at one of the listed domains.

use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use gatehouse_core::model::Developer;
use gatehouse_core::store::{email_unique, Repo};

use super::session::anonymous_form_token;
use super::signin::{failed, local_path, mail_link, SignInPage};
use super::{render, Chrome};
use crate::publisher::Publisher;
use crate::state::AdminState;

/// Reads `example.com, Example.org` (a leading `@` is allowed); answers the domains in lower
/// case. Empty text is no limit.
pub fn parse_domains(text: &str) -> Result<Vec<String>, String> {
    let mut domains = Vec::new();
    for raw in text.split([',', ' ', '\n']).map(str::trim).filter(|d| !d.is_empty()) {
        let domain = raw.trim_start_matches('@').to_ascii_lowercase();
        let plain = domain.chars().all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-');
        if !plain || !domain.contains('.') || domain.starts_with('.') || domain.ends_with('.') {
            return Err(format!("{raw:?} is not an email domain like example.com"));
        }
        if !domains.contains(&domain) {
            domains.push(domain);
        }
    }
    Ok(domains)
}

/// Whether `email` may sign up under `domains` (empty: any address). The domain is compared
/// whole: `corp.example.com` is not `example.com`.
pub(crate) fn signup_allowed(domains: &[String], email: &str) -> bool {
    let domain = email.rsplit_once('@').map(|(_, d)| d.to_ascii_lowercase());
    domains.is_empty() || domain.is_some_and(|d| domains.contains(&d))
}

/// The domains in words, for the sign-in page: "example.com or example.org".
pub(crate) fn in_words(domains: &[String]) -> String {
    match domains.split_last() {
        None => String::new(),
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
    }
}

/// An address outside the sign-up domains: refused on the sign-in page, in words that are
/// the same whether or not it has an account (one an admin made still gets its link).
pub(super) async fn outside_domains<R: Repo, P: Publisher>(
    s: &AdminState<R, P>,
    headers: &HeaderMap,
    next: String,
    email: String,
) -> Response {
    let known = match s.repo.find::<Developer>(&email_unique(&email)).await {
        Ok(found) => found.is_some_and(|d| d.closed_at.is_none()),
        Err(e) => return failed(e.into()),
    };
    if known {
        if let Err(e) = mail_link(s, &email, local_path(&next)).await {
            return failed(e);
        }
    }
    let domains = in_words(&s.portal.signup_domains);
    let error = Some(format!(
        "New accounts are open to addresses at {domains} only. If {email} already has an account, a sign-in link \
         is on its way to it; otherwise, use your address at {domains}."
    ));
    let (form_token, _) = anonymous_form_token(headers).unwrap_or_default();
    let page = SignInPage { chrome: Chrome::new(&s.portal), form_token, next, email, error, domains };
    let mut response = render(&page);
    *response.status_mut() = StatusCode::FORBIDDEN;
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domains_are_read_lower_cased_and_refused_when_not_domains() {
        assert_eq!(
            parse_domains(" Example.com, @corp.test example.com "),
            Ok(vec!["example.com".into(), "corp.test".into()])
        );
        assert_eq!(parse_domains(""), Ok(vec![]));
        for bad in ["localhost", "a@b.com", ".com", "exa mple.com,x", "example.com."] {
            assert!(parse_domains(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn only_addresses_at_a_listed_domain_sign_up_and_no_list_lets_anyone() {
        let domains = vec!["example.com".to_owned(), "corp.test".to_owned()];
        assert!(signup_allowed(&domains, "ada@Example.COM"));
        assert!(!signup_allowed(&domains, "ada@mail.example.com"), "a subdomain is another domain");
        assert!(!signup_allowed(&domains, "ada@example.com.evil.test"));
        assert!(!signup_allowed(&domains, "no-at-sign"));
        assert!(signup_allowed(&[], "anyone@anywhere.test"));
        assert_eq!(in_words(&domains), "example.com or corp.test");
    }
}
