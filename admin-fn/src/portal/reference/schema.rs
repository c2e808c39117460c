//! A JSON Schema (OpenAPI 3.0 or 3.1 dialect) laid out as indented rows: `$ref`s followed with
//! cycle protection, `allOf` merged into one object, `oneOf`/`anyOf` listed as options, and
//! both ways of saying "may be null" (3.0 `nullable`, 3.1 `type: [.., "null"]` or a `null`
//! option) shown the same way. Bounded in depth and rows, so a hostile or huge document
//! cannot make a page grow without limit.

use serde_json::Value;

use super::label;
use super::markdown;
use super::model::{SchemaRow, SchemaView};
use super::refs::{follow, schema_anchor, schema_name};

/// Deepest level shown below a root; deeper fields are behind the component's own entry.
pub const MAX_DEPTH: usize = 6;
/// Rows in one view; past it the view says it was cut.
pub const MAX_ROWS: usize = 200;
/// Nested `allOf` levels merged (an `allOf` of `allOf`s of ...).
const MAX_ALL_OF: usize = 8;
/// Parts merged into one schema in all (each new part is checked against those taken).
const MAX_PARTS: usize = 64;

/// Lays out `schema` (which may itself be a `$ref`) found in `doc`.
pub fn view(doc: &Value, schema: &Value) -> SchemaView {
    let mut walk = Walk { doc, rows: Vec::new(), stack: Vec::new(), truncated: false };
    walk.node(schema, String::new(), 0, false);
    SchemaView { rows: walk.rows, truncated: walk.truncated }
}

/// Lays out a component schema: its own reference counts as entered, so a self-reference
/// inside it reads "recursive" instead of repeating it once.
pub fn component_view(doc: &Value, name: &str, schema: &Value) -> SchemaView {
    let reference = format!("#/components/schemas/{}", name.replace('~', "~0").replace('/', "~1"));
    let mut walk = Walk { doc, rows: Vec::new(), stack: vec![reference], truncated: false };
    walk.node(schema, String::new(), 0, false);
    SchemaView { rows: walk.rows, truncated: walk.truncated }
}

struct Walk<'d> {
    doc: &'d Value,
    rows: Vec<SchemaRow>,
    /// References being laid out on the current path: meeting one again is recursion.
    stack: Vec<String>,
    truncated: bool,
}

/// One schema and the parts it is made of (itself first, then its `allOf` members and a
/// nullable option's single real schema), all with references followed.
pub(super) struct Parts<'d> {
    pub list: Vec<&'d Value>,
    pub nullable: bool,
    pub description: Option<&'d str>,
    /// The component this schema is, when it was reached through a `$ref` to one.
    pub name: Option<String>,
}

impl<'d> Walk<'d> {
    fn node(&mut self, schema: &'d Value, name: String, depth: usize, required: bool) {
        if self.rows.len() >= MAX_ROWS {
            self.truncated = true;
            return;
        }
        let followed = match follow(self.doc, schema) {
            Ok(followed) => followed,
            Err(reason) => return self.rows.push(plain_row(depth, name, required, "unknown", Some(reason))),
        };
        // `oneOf: [{$ref: X}, {type: null}]` enters X as much as `$ref: X` does.
        let option = label::single_non_null_option(followed.value);
        let reference = followed.reference.or_else(|| follow(self.doc, option?).ok()?.reference);
        let entered = reference.map(str::to_owned);
        let component = reference.and_then(schema_name);
        if let Some(reference) = &entered {
            if self.stack.contains(reference) {
                let label = component.clone().unwrap_or_else(|| reference.clone());
                let mut row = plain_row(depth, name, required, &label, Some(format!("recursive: see {label}")));
                row.link = component.as_deref().map(schema_anchor);
                row.nullable = option.is_some() || label::says_nullable(followed.value);
                return self.rows.push(row);
            }
            self.stack.push(reference.clone());
        }
        let parts = self.parts(followed.value, followed.description, component);
        let mut row = self.row(&parts, name, depth, required);
        let has_children = label::has_children(&parts);
        if has_children && depth >= MAX_DEPTH {
            row.note = Some(match &parts.name {
                Some(name) => format!("fields not shown at this depth: see {name}"),
                None => "fields not shown at this depth".to_owned(),
            });
            self.truncated = true;
        }
        self.rows.push(row);
        if has_children && depth < MAX_DEPTH {
            self.children(&parts, depth + 1);
        }
        if entered.is_some() {
            self.stack.pop();
        }
    }

    /// Collects `schema`'s parts: `allOf` members flattened, a `oneOf`/`anyOf` of one schema
    /// and `null` folded in as "nullable".
    fn parts(&self, schema: &'d Value, description: Option<&'d str>, name: Option<String>) -> Parts<'d> {
        let mut parts = Parts { list: Vec::new(), nullable: false, description, name };
        self.collect(schema, &mut parts, 0);
        parts
    }

    fn collect(&self, schema: &'d Value, parts: &mut Parts<'d>, level: usize) {
        let full = level > MAX_ALL_OF || parts.list.len() >= MAX_PARTS;
        if full || parts.list.iter().any(|seen| std::ptr::eq(*seen, schema)) {
            return;
        }
        parts.list.push(schema);
        parts.nullable |= label::says_nullable(schema);
        for member in schema.get("allOf").and_then(Value::as_array).into_iter().flatten() {
            if let Ok(followed) = follow(self.doc, member) {
                let looping = followed.reference.is_some_and(|r| self.stack.iter().any(|s| s == r));
                if !looping {
                    self.collect(followed.value, parts, level + 1);
                }
            }
        }
        if let Some(single) = label::single_non_null_option(schema) {
            if let Ok(followed) = follow(self.doc, single) {
                parts.nullable = true;
                if parts.name.is_none() && level == 0 && schema.get("properties").is_none() {
                    parts.name = followed.reference.and_then(schema_name);
                }
                self.collect(followed.value, parts, level + 1);
            }
        }
    }

    fn row(&self, parts: &Parts<'d>, name: String, depth: usize, required: bool) -> SchemaRow {
        let any = |field: &str| parts.list.iter().any(|p| p.get(field).and_then(Value::as_bool) == Some(true));
        let description = parts.description.or_else(|| first_str(parts, "description"));
        SchemaRow {
            depth,
            name,
            type_label: label::type_label(self.doc, parts),
            required,
            nullable: parts.nullable,
            deprecated: any("deprecated"),
            read_only: any("readOnly"),
            write_only: any("writeOnly"),
            constraints: label::constraints(parts),
            description_html: description.map(markdown::render).unwrap_or_default(),
            link: parts.name.as_deref().map(schema_anchor),
            note: None,
        }
    }

    fn children(&mut self, parts: &Parts<'d>, depth: usize) {
        let required: Vec<&str> = parts
            .list
            .iter()
            .filter_map(|p| p.get("required").and_then(Value::as_array))
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        let mut seen: Vec<&str> = Vec::new();
        for part in &parts.list {
            let Some(properties) = part.get("properties").and_then(Value::as_object) else { continue };
            for (field, schema) in properties {
                if !seen.contains(&field.as_str()) {
                    seen.push(field);
                    self.node(schema, field.clone(), depth, required.contains(&field.as_str()));
                }
            }
        }
        if let Some(extra) = parts.list.iter().find_map(|p| p.get("additionalProperties").filter(|v| v.is_object())) {
            let name = if seen.is_empty() { "{any key}" } else { "{other keys}" };
            self.node(extra, name.to_owned(), depth, false);
        }
        if let Some(items) = parts.list.iter().find_map(|p| p.get("items")) {
            if label::worth_a_row(self.doc, items) {
                self.node(items, "[]".to_owned(), depth, false);
            }
        }
        if let Some((word, options)) = label::options(parts) {
            for (index, option) in options.iter().filter(|o| !label::is_null_type(o)).enumerate() {
                self.node(option, format!("{word} {}", index + 1), depth, false);
            }
        }
    }
}

fn first_str<'d>(parts: &Parts<'d>, field: &str) -> Option<&'d str> {
    parts.list.iter().find_map(|p| p.get(field).and_then(Value::as_str))
}

fn plain_row(depth: usize, name: String, required: bool, label: &str, note: Option<String>) -> SchemaRow {
    SchemaRow {
        depth,
        name,
        type_label: label.to_owned(),
        required,
        nullable: false,
        deprecated: false,
        read_only: false,
        write_only: false,
        constraints: String::new(),
        description_html: String::new(),
        link: None,
        note,
    }
}
