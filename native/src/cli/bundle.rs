//! `gatehouse apply` inlines the files an OpenAPI document's `$ref`s name (`pet.yaml#/Pet`,
//! `paths/pets.yaml`), so a description split over files imports as one document: the
//! importer itself sees one document and refuses references into others.
//!
//! A referenced schema becomes a named component (`#/components/schemas/Pet`, or
//! `#/definitions/Pet` in Swagger 2.0) referenced where it was: schemas are where cycles live
//! (a `Pet` whose `owner` has `pets`), and a named component keeps a cycle a reference rather
//! than an endless copy. Anything else (a path item, a parameter, a response) is copied in
//! place; a cycle through those is refused. References inside an inlined file are read
//! relative to that file, `#/…` ones included.
//!
//! Only files in the document's directory or below it are read: a `$ref` is written by
//! whoever wrote the document, and `apply` must not become a way to send `../../.ssh/…` to an
//! admin API. URLs are refused: the CLI fetches nothing.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

/// Where a value sits, which decides whether a `$ref` found there names a schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    Schema,
    /// A map whose values are schemas (`properties`, `components/schemas`, `definitions`).
    Schemas,
    /// An array whose items are schemas (`allOf`, `oneOf`, `anyOf`, `prefixItems`).
    SchemaList,
    Other,
}

/// Keywords whose value is a schema.
const SCHEMA_KEYS: [&str; 13] = [
    "schema",
    "items",
    "additionalProperties",
    "not",
    "propertyNames",
    "contains",
    "if",
    "then",
    "else",
    "unevaluatedItems",
    "unevaluatedProperties",
    "additionalItems",
    "contentSchema",
];

/// A (file, JSON Pointer) that a `$ref` names.
type Target = (PathBuf, String);

pub struct Bundler {
    /// The document's directory, canonical: no file outside it is read.
    root_dir: PathBuf,
    root_file: PathBuf,
    /// The document's directory as the user named it, for messages.
    shown_dir: PathBuf,
    /// `components/schemas` in OpenAPI 3, `definitions` in Swagger 2.0.
    swagger2: bool,
    files: HashMap<PathBuf, Value>,
    /// Each schema inlined, by where it came from, and the name it was given.
    named: HashMap<Target, String>,
    /// Schemas to add to the document, in the order they were met.
    schemas: Map<String, Value>,
    /// Names already used by the document's own schemas.
    taken: Vec<String>,
    /// Non-schema targets being copied, outermost first: one met again is a cycle.
    copying: Vec<Target>,
    pub problems: Vec<String>,
}

/// `doc` (read from `file`) with every reference into another file inlined; `Ok(None)` when
/// it has none (the text is then sent as written). Every problem is listed, one per line.
pub fn bundle(file: &Path, mut doc: Value) -> Result<Option<Value>, Vec<String>> {
    let root_file = file.canonicalize().map_err(|e| vec![format!("{}: {e}", file.display())])?;
    let root_dir = root_file.parent().map(Path::to_path_buf).unwrap_or_default();
    let swagger2 = doc.get("swagger").is_some();
    let container = if swagger2 { "/definitions" } else { "/components/schemas" };
    let taken =
        doc.pointer(container).and_then(Value::as_object).map(|m| m.keys().cloned().collect()).unwrap_or_default();
    let mut bundler = Bundler {
        root_dir,
        root_file: root_file.clone(),
        shown_dir: file.parent().map(Path::to_path_buf).unwrap_or_default(),
        swagger2,
        files: HashMap::new(),
        named: HashMap::new(),
        schemas: Map::new(),
        taken,
        copying: Vec::new(),
        problems: Vec::new(),
    };
    let changed = bundler.walk(&mut doc, &root_file, Place::Other, &mut String::new());
    if !bundler.problems.is_empty() {
        return Err(bundler.problems);
    }
    if !changed {
        return Ok(None);
    }
    bundler.add_schemas(&mut doc);
    Ok(Some(doc))
}

impl Bundler {
    /// Rewrites the references under `value` (in `file`, at `at`); true if any changed.
    fn walk(&mut self, value: &mut Value, file: &Path, place: Place, at: &mut String) -> bool {
        match value {
            Value::Object(object) => {
                if let Some(Value::String(reference)) = object.get("$ref") {
                    let reference = reference.clone();
                    return self.reference(value, &reference, file, place, at);
                }
                let mut changed = false;
                for (key, inner) in object.iter_mut() {
                    let Some(inner_place) = child(place, key) else { continue };
                    let len = at.len();
                    at.push('/');
                    at.push_str(&key.replace('~', "~0").replace('/', "~1"));
                    changed |= self.walk(inner, file, inner_place, at);
                    at.truncate(len);
                }
                changed
            }
            Value::Array(items) => {
                let item_place =
                    if matches!(place, Place::SchemaList | Place::Schema) { Place::Schema } else { Place::Other };
                let mut changed = false;
                for (i, inner) in items.iter_mut().enumerate() {
                    let len = at.len();
                    at.push_str(&format!("/{i}"));
                    changed |= self.walk(inner, file, item_place, at);
                    at.truncate(len);
                }
                changed
            }
            _ => false,
        }
    }

    /// One `$ref` object: left alone when it points into the document itself, else inlined.
    fn reference(&mut self, value: &mut Value, reference: &str, file: &Path, place: Place, at: &str) -> bool {
        let (path_part, fragment) = reference.split_once('#').unwrap_or((reference, ""));
        let fragment = percent_encoding::percent_decode_str(fragment).decode_utf8_lossy().into_owned();
        let target_file = if path_part.is_empty() { Ok(file.to_path_buf()) } else { self.locate(file, path_part) };
        let here = format!("{}: {at}/$ref", self.shown(file));
        let target_file = match target_file {
            Ok(target) => target,
            Err(why) => {
                self.problems.push(format!("{here}: {reference:?} {why}"));
                return false;
            }
        };
        if target_file == self.root_file {
            let internal = format!("#{fragment}");
            let changed = internal != reference;
            value["$ref"] = Value::String(internal);
            return changed;
        }
        let target = (target_file, fragment);
        let inlined = if place == Place::Schema { self.schema(target, &here) } else { self.copy(target, place, &here) };
        if let Some(inlined) = inlined {
            *value = inlined;
        }
        true
    }

    /// A `$ref` to the named component holding `target`, inlining it the first time.
    fn schema(&mut self, target: Target, here: &str) -> Option<Value> {
        let container = if self.swagger2 { "#/definitions" } else { "#/components/schemas" };
        if let Some(name) = self.named.get(&target) {
            return Some(serde_json::json!({ "$ref": format!("{container}/{name}") }));
        }
        let name = self.name_for(&target);
        self.named.insert(target.clone(), name.clone()); // before the walk: a cycle finds it
        let mut schema = self.load(&target, here)?;
        self.walk(&mut schema, &target.0, Place::Schema, &mut target.1.clone());
        self.schemas.insert(name.clone(), schema);
        Some(serde_json::json!({ "$ref": format!("{container}/{name}") }))
    }

    /// A copy of `target` (a path item, parameter, response…), its own references inlined.
    fn copy(&mut self, target: Target, place: Place, here: &str) -> Option<Value> {
        if self.copying.contains(&target) {
            let (file, pointer) = &target;
            self.problems.push(format!(
                "{here}: {}#{pointer} refers back to itself through other files; only schemas may be recursive",
                self.shown(file)
            ));
            return None;
        }
        let mut copied = self.load(&target, here)?;
        self.copying.push(target.clone());
        self.walk(&mut copied, &target.0, place, &mut target.1.clone());
        self.copying.pop();
        Some(copied)
    }

    /// The value at `target`, reading (and keeping) its file the first time.
    fn load(&mut self, target: &Target, here: &str) -> Option<Value> {
        let (file, pointer) = target;
        if !self.files.contains_key(file) {
            let parsed = std::fs::read_to_string(file)
                .map_err(|e| e.to_string())
                .and_then(|text| gatehouse_core::openapi::parse_document(&text).map_err(|p| p.message));
            match parsed {
                Ok(doc) => self.files.insert(file.clone(), doc),
                Err(why) => {
                    self.problems.push(format!("{here}: cannot read {}: {why}", self.shown(file)));
                    return None;
                }
            };
        }
        let found = self.files.get(file).and_then(|doc| doc.pointer(pointer)).cloned();
        if found.is_none() {
            self.problems.push(format!("{here}: {}#{pointer} does not exist", self.shown(file)));
        }
        found
    }

    /// The file a relative reference names, canonical; refused when it is a URL or outside
    /// the document's directory.
    fn locate(&self, from: &Path, relative: &str) -> Result<PathBuf, String> {
        let scheme = relative
            .split_once(':')
            .is_some_and(|(s, _)| s.len() > 1 && s.chars().all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c)));
        if scheme {
            return Err("is a URL: apply reads only files beside the document (download it there)".into());
        }
        let decoded = percent_encoding::percent_decode_str(relative).decode_utf8_lossy().into_owned();
        let joined = from.parent().unwrap_or(Path::new(".")).join(decoded);
        let canonical = joined.canonicalize().map_err(|e| format!("cannot be read: {e}"))?;
        if !canonical.starts_with(&self.root_dir) {
            return Err(format!("is outside the document's directory {}", self.root_dir.display()));
        }
        Ok(canonical)
    }

    /// A component name from the pointer's last token or the file's stem, unused so far.
    fn name_for(&mut self, (file, pointer): &Target) -> String {
        let last =
            pointer.rsplit('/').next().filter(|t| !t.is_empty()).map(|t| t.replace("~1", "/").replace("~0", "~"));
        let stem = || file.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "schema".into());
        let base: String = last
            .unwrap_or_else(stem)
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() || "._-".contains(c) { c } else { '_' })
            .collect();
        let mut name = base.clone();
        let mut n = 1;
        while self.taken.contains(&name) || self.schemas.contains_key(&name) {
            n += 1;
            name = format!("{base}_{n}");
        }
        self.taken.push(name.clone());
        name
    }

    /// Adds the inlined schemas to the document's own.
    fn add_schemas(&mut self, doc: &mut Value) {
        if self.schemas.is_empty() {
            return;
        }
        let Some(root) = doc.as_object_mut() else { return };
        let container = if self.swagger2 {
            root.entry("definitions").or_insert_with(|| Value::Object(Map::new()))
        } else {
            let components = root.entry("components").or_insert_with(|| Value::Object(Map::new()));
            let Some(components) = components.as_object_mut() else { return };
            components.entry("schemas").or_insert_with(|| Value::Object(Map::new()))
        };
        if let Some(container) = container.as_object_mut() {
            container.extend(std::mem::take(&mut self.schemas));
        }
    }

    /// A file as the user knows it: under the document's directory as they named it.
    fn shown(&self, file: &Path) -> String {
        file.strip_prefix(&self.root_dir)
            .map_or_else(|_| file.to_path_buf(), |rel| self.shown_dir.join(rel))
            .display()
            .to_string()
    }
}

/// Where the member `key` of an object at `place` sits; `None` for members that are data
/// (examples, defaults, enums) or extensions, whose `$ref`s are not references.
fn child(place: Place, key: &str) -> Option<Place> {
    if matches!(key, "example" | "examples" | "default" | "enum" | "const") && place != Place::Schemas {
        return (key == "examples" && place == Place::Other).then_some(Place::Other);
    }
    if key.starts_with("x-") && place != Place::Schemas {
        return None;
    }
    Some(match place {
        Place::Schemas => Place::Schema,
        Place::SchemaList => Place::Schema,
        Place::Schema if SCHEMA_KEYS.contains(&key) => Place::Schema,
        Place::Schema if matches!(key, "allOf" | "anyOf" | "oneOf" | "prefixItems") => Place::SchemaList,
        Place::Schema
            if matches!(key, "properties" | "patternProperties" | "$defs" | "definitions" | "dependentSchemas") =>
        {
            Place::Schemas
        }
        Place::Schema => Place::Other,
        Place::Other if key == "schema" => Place::Schema,
        Place::Other if matches!(key, "schemas" | "definitions") => Place::Schemas,
        Place::Other => Place::Other,
    })
}

#[cfg(test)]
mod tests;
