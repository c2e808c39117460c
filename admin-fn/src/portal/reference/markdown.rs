//! Markdown descriptions from imported OpenAPI documents, rendered to HTML that is safe to put
//! in a page: the document is untrusted (anyone with the api-admin role imports it, and it may
//! come from a third party), so every rendered fragment goes through an HTML sanitiser.

use std::sync::LazyLock;

// pulldown-cmark: CommonMark as rustdoc and mdBook render it; a pull parser that allocates
// little, so a 100 KB document's few hundred descriptions stay well inside the page budget.
use pulldown_cmark::{html, Options, Parser};

/// ammonia's allow-list sanitiser (on html5ever, the spec's own HTML parser, so it sees the
/// markup the way a browser will): drops `<script>`, `<style>`, event handler attributes and
/// URLs whose scheme is not allow-listed (`javascript:`, `data:`), and adds
/// `rel="noopener noreferrer"` to links. Built once: its default builder fills several sets.
static SANITIZER: LazyLock<ammonia::Builder<'static>> = LazyLock::new(|| {
    let mut builder = ammonia::Builder::default();
    builder.url_schemes(["http", "https", "mailto"].into_iter().collect());
    builder
});

/// Renders `text` (CommonMark with tables and strikethrough, as OpenAPI allows) to sanitised
/// HTML. Empty input gives an empty string, so templates can test for "nothing to show".
pub fn render(text: &str) -> String {
    if text.trim().is_empty() {
        return String::new();
    }
    if is_plain(text) {
        // What the parser and the sanitiser would give, character for character (tested;
        // the bench's page is byte for byte the same), for about a fifth less CPU on the
        // bench's 100 KB description: most descriptions are one plain sentence.
        return format!("<p>{text}</p>\n");
    }
    rendered(text)
}

/// Text that CommonMark renders as one plain paragraph with nothing to escape: a letter
/// first (so no list, heading, quote or indented code), no trailing space (a hard break),
/// and only letters, digits and punctuation that neither Markdown nor HTML gives meaning to.
fn is_plain(text: &str) -> bool {
    text.starts_with(|c: char| c.is_ascii_alphabetic())
        && !text.ends_with(' ')
        && text.bytes().all(|b| b.is_ascii_alphanumeric() || b" .,;:?()'\"/%+=-".contains(&b))
}

/// The full path: CommonMark to HTML, then the sanitiser.
fn rendered(text: &str) -> String {
    let parser = Parser::new_ext(text, Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH);
    let mut raw = String::with_capacity(text.len() + text.len() / 2);
    html::push_html(&mut raw, parser);
    SANITIZER.clean(&raw).to_string()
}

/// [`render`] of an optional JSON string field (`description` of any object).
pub fn render_field(object: &serde_json::Value, field: &str) -> String {
    object.get(field).and_then(serde_json::Value::as_str).map(render).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::{is_plain, render};

    #[test]
    fn markdown_is_rendered() {
        let html = render("Some **bold** and `code`.\n\n- one\n- two");
        assert!(html.contains("<strong>bold</strong>"), "{html}");
        assert!(html.contains("<code>code</code>"), "{html}");
        assert!(html.contains("<li>one</li>"), "{html}");
    }

    #[test]
    fn script_tags_are_removed() {
        let html = render("Hello <script>alert('x')</script> world");
        assert!(!html.to_lowercase().contains("<script"), "{html}");
        assert!(!html.contains("alert("), "{html}");
        assert!(html.contains("Hello"), "{html}");
    }

    #[test]
    fn javascript_links_are_removed() {
        for source in [
            "[click](javascript:alert(1))",
            "<a href=\"javascript:alert(1)\">click</a>",
            "<a href=\"JaVaScRiPt:alert(1)\">click</a>",
            "[click](data:text/html,<script>alert(1)</script>)",
        ] {
            let html = render(source);
            let lower = html.to_lowercase();
            assert!(!lower.contains("javascript:"), "{source} -> {html}");
            assert!(!lower.contains("data:"), "{source} -> {html}");
            assert!(html.contains("click"), "the link text stays: {source} -> {html}");
        }
    }

    #[test]
    fn event_handlers_and_styles_are_removed() {
        let html = render("<img src=\"https://x.test/a.png\" onerror=\"alert(1)\"><style>body{}</style>");
        assert!(!html.contains("onerror"), "{html}");
        assert!(!html.contains("<style"), "{html}");
    }

    #[test]
    fn safe_links_stay_and_do_not_leak_the_opener() {
        let html = render("[docs](https://example.test/docs)");
        assert!(html.contains("href=\"https://example.test/docs\""), "{html}");
        assert!(html.contains("noopener"), "{html}");
    }

    #[test]
    fn plain_sentences_take_the_short_path_and_render_exactly_as_the_full_one() {
        for text in [
            "Shown to people.",
            "The resource's id.",
            "In metres, when known.",
            "Say \"hi\" (quoted) to 100% = a/b + c-d; e: f?",
            "Who  changed it and when",
        ] {
            assert!(is_plain(text), "{text}");
            assert_eq!(render(text), super::rendered(text), "{text}");
        }
        for text in [
            "- a list",
            "1. first",
            "a *b*",
            "a_b_",
            "<b>x</b>",
            "a & b",
            "# Title",
            "x  ",
            "two\nlines",
            "`c`",
            "[a](b)",
            "é",
        ] {
            assert!(!is_plain(text), "{text}");
        }
    }

    #[test]
    fn blank_text_renders_to_nothing() {
        assert_eq!(render("  \n"), "");
    }
}
