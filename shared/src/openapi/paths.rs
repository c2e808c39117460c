//! The `paths` object: path templates and path items (following a path item's `$ref`).

use std::collections::HashMap;

use serde_json::{Map, Value};

use super::document::{kind, Dialect};
use super::operations::{Collector, METHODS};
use super::pointer::{child, follow, Target};
use super::security::Security;
use super::Problems;
use crate::model::Operation;
use crate::routing::template::{overlap, split_key, Rank, Template};

/// How many `$ref` hops a path item may take; more is almost certainly a cycle.
const MAX_REF_HOPS: usize = 8;

/// Checks `paths` and returns its operations.
pub(crate) fn read(doc: &Value, dialect: Dialect, security: &mut Security, problems: &mut Problems) -> Vec<Operation> {
    let Some(paths) = doc.get("paths") else {
        // 3.1 made `paths` optional when `webhooks` or `components` carry the document.
        let pathless_ok = dialect == Dialect::V31 && (doc.get("webhooks").is_some() || doc.get("components").is_some());
        if !pathless_ok {
            problems.push("/paths", "required (OpenAPI 3.1 also accepts webhooks or components instead)");
        }
        return Vec::new();
    };
    let Some(paths) = paths.as_object() else {
        problems.push("/paths", format!("must be an object, not {}", kind(paths)));
        return Vec::new();
    };
    let mut collector = Collector::new(doc, security);
    let mut routes = Routes::default();
    for (key, item) in paths.iter().filter(|(key, _)| !key.starts_with("x-")) {
        let at = child("/paths", key);
        let resolved = resolve_item(doc, item, at.clone(), problems);
        let methods = resolved.as_ref().map(|(item, _)| methods_of(item)).unwrap_or_default();
        let discriminators = routes.add(key, &at, methods, problems);
        if let Some((item, item_at)) = resolved {
            collector.read_item(key, discriminators.as_ref(), item, &item_at, problems);
        }
    }
    routes.check_ambiguity(problems);
    collector.finish()
}

/// A path key's discriminator: its separator (`?` or `#`) and `name=value` pairs (`name`
/// alone: present with any value).
pub(crate) type Pairs = (char, Vec<(String, Option<String>)>);

/// The path keys read so far, to find two that are one route or that no request can tell
/// apart.
#[derive(Default)]
struct Routes {
    /// Template with parameter names erased, plus the discriminator → pointer of the first
    /// and the methods declared under that route so far.
    shapes: HashMap<String, (String, Vec<String>)>,
    /// Precedence and discriminator → the templates that share them, with their pointers.
    by_rank: HashMap<Precedence, Vec<(Template, String)>>,
}

/// Segment ranks, trailing slash and discriminator: templates that share all three can only
/// be told apart by what they match.
type Precedence = (Vec<Rank>, bool, String);

impl Routes {
    /// Checks one path key; returns the `name=value` pairs of its discriminator, if any.
    fn add(&mut self, key: &str, at: &str, methods: Vec<String>, problems: &mut Problems) -> Option<Pairs> {
        let (text, discriminator) = split_key(key);
        let pairs = discriminator.and_then(|(separator, rest)| match pairs(rest) {
            Some(pairs) => Some((separator, pairs)),
            None => {
                let message = format!(
                    "the path key {key:?} carries {separator}{rest:?}, which is not name=value pairs (or names): Gatehouse \
                     routes a path key's query or fragment only as query parameters or headers to match"
                );
                problems.push(at, message);
                None
            }
        });
        let template = match Template::parse(text) {
            Ok(template) => template,
            Err(errors) => {
                for error in errors {
                    problems.push(at, format!("path {key:?}: {error}"));
                }
                return pairs;
            }
        };
        let selector = discriminator.map(|(separator, rest)| format!("{separator}{rest}")).unwrap_or_default();
        let shape = format!("{}{selector}", template.example("{}"));
        match self.shapes.get_mut(&shape) {
            // The same route under other parameter names: one route as long as no method is
            // declared under both (real descriptions split methods this way).
            Some((first, declared)) => {
                let both: Vec<&str> = methods.iter().filter(|m| declared.contains(m)).map(String::as_str).collect();
                if both.is_empty() {
                    declared.extend(methods);
                } else {
                    let both = both.join(", ");
                    problems
                        .push(at, format!("same template as {first} but for parameter names, and both declare {both}"));
                }
            }
            None => {
                self.shapes.insert(shape, (at.to_owned(), methods));
                let group = (template.ranks(), template.trailing_slash, selector);
                self.by_rank.entry(group).or_default().push((template, at.to_owned()));
            }
        }
        pairs
    }

    /// Two templates of equal precedence that some path matches both: the gateway could only
    /// pick one by document order, so the import refuses them.
    fn check_ambiguity(&self, problems: &mut Problems) {
        let mut found: Vec<(String, String)> = Vec::new();
        for templates in self.by_rank.values().filter(|t| t.len() > 1) {
            for (i, (a, a_at)) in templates.iter().enumerate() {
                for (b, b_at) in &templates[i + 1..] {
                    if a.segments.iter().zip(&b.segments).all(|(x, y)| overlap(x, y)) {
                        found.push((b_at.clone(), a_at.clone()));
                    }
                }
            }
        }
        found.sort();
        for (at, other) in found {
            problems.push(
                at,
                format!(
                    "ambiguous with {other}: a request path can match both, and neither has more literal text \
                     where they differ; make one of them more specific"
                ),
            );
        }
    }
}

/// `a=1&b` as pairs (`b`: present with any value); `None` when a name is empty or holds
/// what no query parameter or header name can.
fn pairs(text: &str) -> Option<Vec<(String, Option<String>)>> {
    text.split('&')
        .map(|pair| {
            let (name, value) = pair.split_once('=').map_or((pair, None), |(n, v)| (n, Some(v.to_owned())));
            let valid = !name.is_empty() && !name.contains(['/', '{', '}', '#', '?', ' ']);
            valid.then(|| (name.to_owned(), value))
        })
        .collect()
}

/// The methods a path item declares.
fn methods_of(item: &Map<String, Value>) -> Vec<String> {
    item.keys().filter(|key| METHODS.contains(&key.as_str())).cloned().collect()
}

/// The path item itself, following `$ref` within the document. Problems inside a referenced
/// item are reported where it really is, so the returned pointer is the target's.
fn resolve_item<'d>(
    doc: &'d Value,
    mut item: &'d Value,
    mut at: String,
    problems: &mut Problems,
) -> Option<(&'d Map<String, Value>, String)> {
    for _ in 0..=MAX_REF_HOPS {
        let Some(reference) = item.get("$ref") else {
            let Some(object) = item.as_object() else {
                problems.push(at, format!("a path item must be an object, not {}", kind(item)));
                return None;
            };
            return Some((object, at));
        };
        let ref_at = child(&at, "$ref");
        let Some(reference) = reference.as_str() else {
            problems.push(ref_at, format!("must be a string, not {}", kind(reference)));
            return None;
        };
        match follow(doc, reference) {
            Target::Found { value, pointer } => (item, at) = (value, pointer),
            // Already reported where it is written (`refs::check`).
            Target::External | Target::Missing => return None,
        }
    }
    problems.push(at, format!("more than {MAX_REF_HOPS} $ref hops (a reference cycle?)"));
    None
}
