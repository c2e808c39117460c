//! Stable, unique ids for the page's fragments: derived from what the document names (the
//! `operationId`, else the method and path), never from a position, so a link to
//! `#op-get-pet-by-id` keeps working when operations are added or reordered.

use std::collections::HashSet;

/// Hands out ids, making each unique in one page by a numeric suffix on a clash.
#[derive(Debug, Default)]
pub struct Anchors {
    used: HashSet<String>,
}

impl Anchors {
    /// `prefix-` and `text` in kebab case (`getPetById` → `get-pet-by-id`), unique in the page.
    pub fn take(&mut self, prefix: &str, text: &str) -> String {
        let base = format!("{prefix}-{}", kebab(text));
        let mut candidate = base.clone();
        let mut n = 2;
        while !self.used.insert(candidate.clone()) {
            candidate = format!("{base}-{n}");
            n += 1;
        }
        candidate
    }
}

/// Lower-case ASCII words joined by `-`: a camelCase hump, or any run of characters other
/// than letters and digits, starts a new word.
pub fn kebab(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    let mut previous_lower = false;
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            if c.is_ascii_uppercase() && previous_lower && !out.ends_with('-') {
                out.push('-');
            }
            previous_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
            out.push(c.to_ascii_lowercase());
        } else {
            previous_lower = false;
            if !out.is_empty() && !out.ends_with('-') {
                out.push('-');
            }
        }
    }
    let trimmed = out.trim_end_matches('-');
    if trimmed.is_empty() {
        "x".to_owned()
    } else {
        trimmed.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_kebab_case_of_what_the_document_names() {
        assert_eq!(kebab("getPetById"), "get-pet-by-id");
        assert_eq!(kebab("GET /pets/{petId}"), "get-pets-pet-id");
        assert_eq!(kebab("list_HTTPRoutes"), "list-httproutes");
        assert_eq!(kebab("???"), "x");
    }

    #[test]
    fn a_clash_gets_a_suffix_and_the_first_keeps_its_id() {
        let mut anchors = Anchors::default();
        assert_eq!(anchors.take("op", "getPet"), "op-get-pet");
        assert_eq!(anchors.take("op", "get_pet"), "op-get-pet-2");
        assert_eq!(anchors.take("op", "get-pet"), "op-get-pet-3");
    }
}
