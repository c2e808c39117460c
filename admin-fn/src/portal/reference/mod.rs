//! The static API reference: an OpenAPI 3.0/3.1 document (as the store keeps it, JSON) turned
//! into a view model that `templates/reference.html` lays out, with a try-it form and
//! copyable snippets per operation. Pure: no I/O, no clock; local `$ref`s are followed, other
//! references are named and never fetched. Everything taken from the document is escaped by
//! the template, except Markdown descriptions, which are rendered and sanitised here
//! (`*_html` fields).

mod anchor;
mod example;
mod label;
mod markdown;
mod model;
mod operations;
mod refs;
mod schema;
mod security;
mod snippets;
#[cfg(test)]
mod tests;

use askama::Template;
use serde_json::Value;

pub use model::{
    KeyPlace, MediaView, NamedSchema, OperationView, ParameterView, Reference, RequestBodyView, ResponseView,
    SchemaRow, SchemaView, SecurityView, Snippets, TagGroup,
};
pub use security::DEFAULT_KEY_HEADER;
pub use snippets::KEY_VARIABLE;

use anchor::Anchors;
use operations::Site;

/// HTTP methods a path item may hold, in the order pages list them.
const METHODS: [&str; 8] = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];
/// Group of operations that name no tag, when others do.
const UNTAGGED: &str = "Other operations";
/// The one group of a document that uses no tags.
const ALL: &str = "Operations";

/// The reference fragment on its own (the API page `{% include %}`s the same template with
/// its own `reference` field). `reference.gateway` goes in the fragment's `data-gateway`.
#[derive(Template)]
#[template(path = "reference.html")]
pub struct ReferenceFragment<'a> {
    pub reference: &'a Reference,
}

/// Stands for the gateway in snippets when the portal has no gateway address configured.
pub const GATEWAY_PLACEHOLDER: &str = "https://gateway.example.com";

impl Reference {
    /// The reference for `doc`, whose calls go to `gateway_url` (the gateway's public base
    /// URL, e.g. `http://127.0.0.1:8080`) plus the API's `base_path`. Without a gateway URL
    /// the snippets use [`GATEWAY_PLACEHOLDER`] and the try-it forms cannot send.
    pub fn build(doc: &Value, gateway_url: Option<&str>, base_path: &str) -> Reference {
        let origin = gateway_url.unwrap_or(GATEWAY_PLACEHOLDER).trim_end_matches('/');
        let gateway = format!("{origin}{}", base_path.trim_end_matches('/'));
        let info = doc.get("info").unwrap_or(&Value::Null);
        let text = |field: &str| info.get(field).and_then(Value::as_str).unwrap_or("").to_owned();
        let mut anchors = Anchors::default();
        let mut groups = declared_groups(doc, &mut anchors);
        let sites = sites(doc);
        let untagged = if sites.iter().any(|site| first_tag(site).is_some()) { UNTAGGED } else { ALL };
        let mut count = 0;
        for site in &sites {
            let view = operations::view(doc, site, &gateway, &mut anchors);
            let tag = first_tag(site).unwrap_or(untagged);
            group_for(&mut groups, tag, &mut anchors).operations.push(view);
            count += 1;
        }
        groups.retain(|group| !group.operations.is_empty());
        Reference {
            title: text("title"),
            version: text("version"),
            description_html: markdown::render_field(info, "description"),
            gateway,
            try_it: gateway_url.is_some(),
            groups,
            schemas: components(doc),
            operation_count: count,
        }
    }
}

/// The tag an operation is listed under: its first (listing it under each would repeat its
/// form and give its anchor twice).
fn first_tag<'d>(site: &Site<'d>) -> Option<&'d str> {
    site.operation.get("tags").and_then(|t| t.get(0)).and_then(Value::as_str)
}

/// Every operation of `paths`, in document order.
fn sites(doc: &Value) -> Vec<Site<'_>> {
    let Some(paths) = doc.get("paths").and_then(Value::as_object) else { return Vec::new() };
    let mut sites = Vec::new();
    for (path, item) in paths {
        let Ok(item) = refs::follow(doc, item).map(|f| f.value) else { continue };
        for method in METHODS {
            if let Some(operation) = item.get(method).filter(|o| o.is_object()) {
                sites.push(Site { path, method, path_item: item, operation });
            }
        }
    }
    sites
}

/// The groups of the top-level `tags` list, in its order, with their descriptions.
fn declared_groups(doc: &Value, anchors: &mut Anchors) -> Vec<TagGroup> {
    let tags = doc.get("tags").and_then(Value::as_array).into_iter().flatten();
    tags.filter_map(|tag| {
        let name = tag.get("name").and_then(Value::as_str)?;
        Some(TagGroup {
            name: name.to_owned(),
            anchor: anchors.take("tag", name),
            description_html: markdown::render_field(tag, "description"),
            operations: Vec::new(),
        })
    })
    .collect()
}

fn group_for<'g>(groups: &'g mut Vec<TagGroup>, tag: &str, anchors: &mut Anchors) -> &'g mut TagGroup {
    let index = match groups.iter().position(|g| g.name == tag) {
        Some(index) => index,
        None => {
            let anchor = anchors.take("tag", tag);
            groups.push(TagGroup {
                name: tag.to_owned(),
                anchor,
                description_html: String::new(),
                operations: Vec::new(),
            });
            groups.len() - 1
        }
    };
    &mut groups[index]
}

/// `components.schemas`, each laid out with its own reference counted as entered.
fn components(doc: &Value) -> Vec<NamedSchema> {
    let schemas = doc.pointer("/components/schemas").and_then(Value::as_object).into_iter().flatten();
    schemas
        .map(|(name, schema)| NamedSchema {
            name: name.clone(),
            anchor: refs::schema_anchor(name),
            schema: schema::component_view(doc, name, schema),
        })
        .collect()
}
