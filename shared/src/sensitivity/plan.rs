//! What import compiles from the annotations, per operation, so the gateway never walks a
//! schema on a request: the operation's own class, its sensitive parameters, and for each
//! described response (status, media type) a small graph of the JSON members to withhold.
//!
//! A response filter is a graph, not a list of paths, because schemas recurse (`Person.
//! children: [Person]`): node `n` says which members of an object (or which array elements)
//! lead to data of a class, and where to go next. Only members that can reach an annotation
//! are kept, so a body is read only along annotated paths; the rest is copied as it came.

use serde::{Deserialize, Serialize};

use super::Mask;

/// Most classes one response filter can name: each is a bit of a `u64`.
pub const MAX_CLASSES_PER_RESPONSE: usize = 64;

/// Biggest body the filter reads (8 MiB). The filter needs the whole body, so a larger body
/// of an operation with fields to withhold is refused (502), never passed through unfiltered.
pub const MAX_FILTERED_BODY_BYTES: usize = 8 * 1024 * 1024;

/// One operation's sensitive data, compiled at import; absent when it has none.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct OperationSensitivity {
    /// The operation as a whole needs this class (`x-gatehouse-sensitivity` on it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub class: Option<String>,
    /// Parameters whose mere presence needs a class.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parameters: Vec<SensitiveParameter>,
    /// Response filters, one per described (status, JSON media type) that has annotations.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub responses: Vec<ResponseFilter>,
}

impl OperationSensitivity {
    /// Whether there is nothing to enforce.
    pub fn is_empty(&self) -> bool {
        self.class.is_none() && self.parameters.is_empty() && self.responses.is_empty()
    }
}

/// A parameter annotated with a class.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SensitiveParameter {
    pub name: String,
    /// `query`, `header`, `path` or `cookie`.
    #[serde(rename = "in")]
    pub place: String,
    pub class: String,
}

/// The members to withhold from one described response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResponseFilter {
    /// The response's key in the document: `200`, `2XX` or `default`.
    pub status: String,
    /// Lower-case media type without parameters, e.g. `application/json`.
    pub media_type: String,
    /// The classes the filter names; a rule's `class` is an index here (and a bit in masks).
    pub classes: Vec<String>,
    /// How the body itself is reached.
    pub root: Edge,
    /// The graph; edges refer to nodes by index.
    pub nodes: Vec<Node>,
}

/// One way into a value: a rule for the value itself, and the nodes that apply inside it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Edge {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<Rule>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub nodes: Vec<u32>,
}

/// The value is of class `classes[class]` and is withheld by `mask`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rule {
    pub class: u8,
    pub mask: Mask,
}

/// An object member by name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldEdge {
    pub name: String,
    #[serde(flatten)]
    pub edge: Edge,
}

/// What applies inside one value: its members (when it is an object) and its elements (when
/// it is an array). `reach` has a bit for every class found at or below it, so a value whose
/// classes the caller all holds is copied without being read.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Node {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldEdge>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub items: Vec<Edge>,
    pub reach: u64,
}

impl ResponseFilter {
    /// Bits of the classes the caller does not hold.
    pub fn lacking(&self, holds: impl Fn(&str) -> bool) -> u64 {
        self.classes.iter().enumerate().filter(|(_, class)| !holds(class)).fold(0, |mask, (i, _)| mask | (1 << i))
    }

    /// The class names of the bits in `mask`, in the filter's order.
    pub fn class_names(&self, mask: u64) -> Vec<&str> {
        self.classes.iter().enumerate().filter(|(i, _)| mask & (1 << i) != 0).map(|(_, c)| c.as_str()).collect()
    }
}
