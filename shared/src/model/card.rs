//! An API's catalog card: the few fields the portal's catalog shows and searches, stored beside
//! the API and rewritten with it. A catalog page then reads a few hundred bytes per API instead
//! of each full OpenAPI document (100 KB and more), so it stays fast at 1,000 APIs on SQLite
//! and on DynamoDB alike.

use serde::{Deserialize, Serialize};

use super::Api;
use crate::lifecycle::Lifecycle;

/// Longest description kept on a card, in characters; the API's page shows the whole text.
pub const CARD_DESCRIPTION_CHARS: usize = 280;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiCard {
    /// The API's id.
    pub id: String,
    pub name: String,
    pub version: String,
    /// One line: the document's `info.summary`, or the first sentence of its description.
    pub summary: String,
    /// The description's start, as plain text (Markdown marks left in).
    pub description: String,
    /// The document's tag names, top-level and per operation, in first-seen order.
    pub tags: Vec<String>,
    pub lifecycle: Lifecycle,
    pub operations: usize,
}

impl ApiCard {
    pub fn of(api: &Api) -> ApiCard {
        let info = api.openapi.get("info");
        let text = |field: &str| info.and_then(|i| i.get(field)).and_then(|v| v.as_str()).unwrap_or("").trim();
        let description = text("description");
        let summary = match text("summary") {
            "" => first_sentence(description),
            s => s.to_owned(),
        };
        ApiCard {
            id: api.id.clone(),
            name: api.name.clone(),
            version: api.version.clone(),
            summary,
            description: description.chars().take(CARD_DESCRIPTION_CHARS).collect(),
            tags: tags(&api.openapi),
            lifecycle: api.lifecycle.clone(),
            operations: api.operations.len(),
        }
    }

    /// Whether the card matches a search: every word of `query` appears, case-insensitively,
    /// in its name, summary, description or tags.
    pub fn matches(&self, query: &str) -> bool {
        let haystack =
            format!("{} {} {} {}", self.name, self.summary, self.description, self.tags.join(" ")).to_lowercase();
        query.split_whitespace().all(|word| haystack.contains(&word.to_lowercase()))
    }

    pub fn has_tag(&self, tag: &str) -> bool {
        self.tags.iter().any(|t| t.eq_ignore_ascii_case(tag))
    }
}

fn first_sentence(text: &str) -> String {
    let line = text.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or("");
    let end = line.find(". ").map_or(line.len(), |i| i + 1);
    line[..end].chars().take(160).collect()
}

fn tags(document: &serde_json::Value) -> Vec<String> {
    let mut seen: Vec<String> = Vec::new();
    let mut add = |name: &str| {
        if !name.is_empty() && !seen.iter().any(|s| s == name) {
            seen.push(name.to_owned());
        }
    };
    for tag in document.get("tags").and_then(|t| t.as_array()).into_iter().flatten() {
        add(tag.get("name").and_then(|n| n.as_str()).unwrap_or(""));
    }
    let paths = document.get("paths").and_then(|p| p.as_object());
    for item in paths.into_iter().flat_map(|p| p.values()).filter_map(|i| i.as_object()) {
        for operation in item.values() {
            for tag in operation.get("tags").and_then(|t| t.as_array()).into_iter().flatten() {
                add(tag.as_str().unwrap_or(""));
            }
        }
    }
    seen
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn api(openapi: serde_json::Value) -> Api {
        serde_json::from_value(json!({
            "id": "api_1", "name": "Pets", "version": "1", "base_path": "/pets",
            "upstream": {"url": "http://127.0.0.1:9"}, "lifecycle": {"state": "draft"}, "operations": [],
            "openapi": openapi, "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z"
        }))
        .expect("an API")
    }

    #[test]
    fn a_card_takes_the_summary_tags_and_a_bounded_description() {
        let long = "Pets. ".repeat(100);
        let card = ApiCard::of(&api(json!({
            "info": {"title": "Pets", "version": "1", "description": format!("Adopt a pet today. {long}")},
            "tags": [{"name": "pets"}],
            "paths": {"/pets": {"get": {"tags": ["pets", "search"]}, "parameters": []}}
        })));
        assert_eq!(card.summary, "Adopt a pet today.");
        assert_eq!(card.tags, vec!["pets", "search"]);
        assert_eq!(card.description.chars().count(), CARD_DESCRIPTION_CHARS);
        let with_summary = ApiCard::of(&api(json!({"info": {"summary": "Short one", "description": "Long."}})));
        assert_eq!(with_summary.summary, "Short one");
    }

    #[test]
    fn search_needs_every_word_somewhere_on_the_card() {
        let card = ApiCard::of(&api(json!({"info": {"description": "Weather forecasts"}, "tags": [{"name": "Geo"}]})));
        assert!(card.matches("weather geo"));
        assert!(card.matches("FORECAST"));
        assert!(!card.matches("weather stocks"));
        assert!(card.has_tag("geo"));
        assert!(!card.has_tag("ge"));
    }
}
