//! Reading a TOML document into a `#[serde(deny_unknown_fields)]` type while reporting every
//! problem at once, each with its line (serde alone stops at the first).
//!
//! How: the document is parsed once into toml's spanned tree (`DeTable`), then deserialised;
//! each failure is recorded with the line its span starts on, the entry it points at is taken
//! out of the tree, and deserialising is tried again, until it succeeds or nothing more can be
//! taken out. Values that came from the environment are given spans past the end of the file
//! (see [`Overrides`]), so their errors name the variable instead of a line.

use std::ops::Range;

use serde::de::DeserializeOwned;
use serde::de::IntoDeserializer;
use toml::de::{DeTable, DeValue};
use toml::Spanned;

/// Most errors reported for one document; a file that is all wrong needs no more to be fixed.
const MAX_ERRORS: usize = 50;

/// Settings that replace the file's (from `GATEHOUSE_*` variables): `(section, key, value,
/// variable name)`.
#[derive(Debug, Default)]
pub struct Overrides {
    pub entries: Vec<(String, String, String, String)>,
}

/// `T` from `text`, with `overrides` applied, or every problem found, one line each.
pub fn parse<T: DeserializeOwned>(text: &str, overrides: &Overrides) -> Result<T, Vec<String>> {
    let mut table = match DeTable::parse(text) {
        Ok(table) => table,
        Err(e) => return Err(vec![describe(text, overrides, e.span(), e.message())]),
    };
    for (i, (section, key, value, _)) in overrides.entries.iter().enumerate() {
        let span = text.len() + i..text.len() + i + 1;
        insert(table.get_mut(), section, key, env_value(value), span);
    }
    let mut errors = Vec::new();
    loop {
        let attempt = table.clone();
        match T::deserialize(attempt.into_deserializer()) {
            Ok(value) if errors.is_empty() => return Ok(value),
            Ok(_) => return Err(errors),
            Err(e) => {
                errors.push(describe(text, overrides, e.span(), e.message()));
                let removed = e.span().is_some_and(|span| remove(table.get_mut(), &span));
                if !removed || errors.len() >= MAX_ERRORS {
                    return Err(errors);
                }
            }
        }
    }
}

/// A variable's value as TOML when it reads as a number, boolean or array, else as a string,
/// so `GATEHOUSE_GATEWAY_THREADS=4` is a number and `GATEHOUSE_STORE_DIR=/var/lib/x` a path.
fn env_value(raw: &str) -> DeValue<'_> {
    match DeValue::parse(raw) {
        Ok(parsed) if !matches!(parsed.get_ref(), DeValue::Datetime(_) | DeValue::Table(_)) => parsed.into_inner(),
        _ => DeValue::String(raw.into()),
    }
}

fn insert<'i>(table: &mut DeTable<'i>, section: &str, key: &str, value: DeValue<'i>, span: Range<usize>) {
    let section_key = Spanned::new(span.clone(), section.to_owned().into());
    let entry =
        table.entry(section_key).or_insert_with(|| Spanned::new(span.clone(), DeValue::Table(DeTable::default())));
    if let DeValue::Table(inner) = entry.get_mut() {
        inner.insert(Spanned::new(span.clone(), key.to_owned().into()), Spanned::new(span, value));
    }
}

/// Takes out the innermost entry whose key or value holds `span`; `false` if none does.
fn remove(table: &mut DeTable<'_>, span: &Range<usize>) -> bool {
    let holds = |outer: Range<usize>| outer.start <= span.start && span.end <= outer.end.max(outer.start + 1);
    let mut found = None;
    for (key, value) in table.iter_mut() {
        if let DeValue::Table(inner) = value.get_mut() {
            if remove(inner, span) {
                return true;
            }
        }
        if holds(key.span()) || holds(value.span()) {
            found = Some(key.get_ref().clone());
            break;
        }
    }
    match found {
        Some(name) => {
            let kept = std::mem::take(table).into_iter().filter(|(key, _)| *key.get_ref() != name).collect();
            *table = kept;
            true
        }
        None => false,
    }
}

/// `line N: message`, or `GATEHOUSE_X: message` for a value from the environment.
fn describe(text: &str, overrides: &Overrides, span: Option<Range<usize>>, message: &str) -> String {
    let message = message.trim();
    match span {
        Some(span) if span.start >= text.len() && !overrides.entries.is_empty() => {
            let i = (span.start - text.len()).min(overrides.entries.len() - 1);
            format!("{}: {message}", overrides.entries[i].3)
        }
        Some(span) => {
            let line = text.as_bytes()[..span.start.min(text.len())].iter().filter(|b| **b == b'\n').count() + 1;
            format!("line {line}: {message}")
        }
        None => message.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Deserialize, Default)]
    #[serde(deny_unknown_fields, default)]
    struct Doc {
        a: Section,
        b: Section,
    }

    #[derive(Debug, Deserialize, Default)]
    #[serde(deny_unknown_fields, default)]
    struct Section {
        port: u16,
        name: String,
    }

    #[test]
    fn every_problem_is_reported_at_once_with_its_line() {
        let text = "[a]\nport = \"x\"\ncolour = 1\n\n[b]\nport = 70000\n[c]\n";
        let errors = parse::<Doc>(text, &Overrides::default()).expect_err("three problems");
        assert_eq!(errors.len(), 4, "{errors:?}");
        assert!(errors.iter().any(|e| e.starts_with("line 2:")), "{errors:?}");
        assert!(errors.iter().any(|e| e.starts_with("line 3:") && e.contains("colour")), "{errors:?}");
        assert!(errors.iter().any(|e| e.starts_with("line 6:")), "{errors:?}");
        assert!(errors.iter().any(|e| e.starts_with("line 7:") && e.contains('c')), "{errors:?}");
    }

    #[test]
    fn environment_values_override_the_file_and_their_errors_name_the_variable() {
        let text = "[a]\nport = 1\nname = \"file\"\n";
        let env =
            |v: &str| Overrides { entries: vec![("a".into(), "port".into(), v.into(), "GATEHOUSE_A_PORT".into())] };
        let doc = parse::<Doc>(text, &env("8443")).expect("valid");
        assert_eq!((doc.a.port, doc.a.name.as_str()), (8443, "file"));
        let errors = parse::<Doc>(text, &env("many")).expect_err("not a port");
        assert_eq!(errors.len(), 1);
        assert!(errors[0].starts_with("GATEHOUSE_A_PORT:"), "{errors:?}");
    }

    #[test]
    fn a_syntax_error_is_reported_with_its_line() {
        let errors = parse::<Doc>("[a]\nport = = 1\n", &Overrides::default()).expect_err("syntax");
        assert!(errors[0].starts_with("line 2:"), "{errors:?}");
    }
}
