//! `/terms`: the provider's terms of use, which signing up accepts (the time is recorded on
//! the developer). The text is the operator's, configured at start, shown as paragraphs.

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use gatehouse_core::store::Repo;

use super::session::Visitor;
use super::{render, Chrome};
use crate::publisher::Publisher;
use crate::state::AdminState;

#[derive(Template)]
#[template(path = "terms.html")]
struct TermsPage {
    chrome: Chrome,
    paragraphs: Vec<String>,
}

/// Paragraphs of a plain text: split at blank lines, lines within one joined.
fn paragraphs(text: &str) -> Vec<String> {
    text.split("\n\n")
        .map(|p| p.lines().map(str::trim).filter(|l| !l.is_empty()).collect::<Vec<_>>().join(" "))
        .filter(|p| !p.is_empty())
        .collect()
}

pub(crate) async fn page<R: Repo, P: Publisher>(
    State(s): State<AdminState<R, P>>,
    Visitor(current): Visitor,
) -> Response {
    let paragraphs = s.portal.terms.as_deref().map(paragraphs).unwrap_or_default();
    render(&TermsPage { chrome: Chrome::of(&s.portal, current.as_ref()), paragraphs })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_lines_separate_paragraphs() {
        let text = "First line\nstill first.\n\n\nSecond.\n";
        assert_eq!(paragraphs(text), vec!["First line still first.", "Second."]);
    }
}
