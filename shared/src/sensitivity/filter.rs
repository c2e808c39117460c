//! Rewriting a JSON body for a caller who lacks some classes: the pure function both
//! runtimes call where the response comes back.
//!
//! The body is read with `serde_json`'s `RawValue`: every value is validated, but only the
//! objects and arrays on an annotated path are taken apart; everything else is copied as the
//! upstream wrote it (same bytes, same number precision). That keeps the cost near one parse,
//! which the bench (`shared/benches/sensitivity_filter.rs`) compares with a plain
//! parse-and-serialise.

use std::borrow::Cow;
use std::fmt;

use serde::de::{Deserializer, MapAccess, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;
use smallvec::SmallVec;

use super::plan::{Edge, ResponseFilter, Rule, MAX_FILTERED_BODY_BYTES};
use super::{annotation, Mask};

/// A body rewritten for one caller.
#[derive(Debug, PartialEq, Eq)]
pub struct Filtered {
    pub body: Vec<u8>,
    /// Bits (in the filter's `classes`) of what was actually withheld.
    pub withheld: u64,
}

/// Why a body could not be filtered; the caller then gets a refusal, never the body.
#[derive(Debug, PartialEq, Eq)]
pub enum FilterError {
    /// Larger than [`MAX_FILTERED_BODY_BYTES`].
    TooLarge,
    /// Not JSON (or not UTF-8); the parser's message.
    Malformed(String),
    /// The body as a whole is of a class the caller lacks and its mask removes it.
    WholeBody(u8),
}

/// `body` without what the bits of `lacking` cover.
pub fn filter(spec: &ResponseFilter, lacking: u64, body: &[u8]) -> Result<Filtered, FilterError> {
    if body.len() > MAX_FILTERED_BODY_BYTES {
        return Err(FilterError::TooLarge);
    }
    let text = std::str::from_utf8(body).map_err(|e| FilterError::Malformed(e.to_string()))?;
    let raw: &RawValue = serde_json::from_str(text).map_err(|e| FilterError::Malformed(e.to_string()))?;
    let mut walk = Walk { spec, lacking, withheld: 0, out: Vec::with_capacity(body.len()) };
    match walk.withheld_by(&spec.root) {
        Some(Rule { class, mask: Mask::Remove }) => return Err(FilterError::WholeBody(class)),
        Some(rule) => walk.mask(rule, raw)?,
        None => walk.value(raw, &spec.root.nodes)?,
    }
    Ok(Filtered { body: walk.out, withheld: walk.withheld })
}

struct Walk<'s> {
    spec: &'s ResponseFilter,
    lacking: u64,
    withheld: u64,
    out: Vec<u8>,
}

type Nodes = SmallVec<[u32; 4]>;

impl Walk<'_> {
    /// The edge's rule, when the caller lacks its class.
    fn withheld_by(&self, edge: &Edge) -> Option<Rule> {
        edge.rule.filter(|rule| self.lacking & (1 << rule.class) != 0)
    }

    /// Whether anything the caller lacks is at or below `nodes`.
    fn reaches(&self, nodes: &[u32]) -> bool {
        nodes.iter().filter_map(|&n| self.spec.nodes.get(n as usize)).any(|node| node.reach & self.lacking != 0)
    }

    fn value(&mut self, raw: &RawValue, nodes: &[u32]) -> Result<(), FilterError> {
        let text = raw.get();
        if !self.reaches(nodes) {
            self.out.extend_from_slice(text.as_bytes());
            return Ok(());
        }
        match text.as_bytes().first() {
            Some(b'{') => self.object(text, nodes),
            Some(b'[') => self.array(text, nodes),
            _ => {
                self.out.extend_from_slice(text.as_bytes());
                Ok(())
            }
        }
    }

    fn object(&mut self, text: &str, nodes: &[u32]) -> Result<(), FilterError> {
        let members = serde_json::from_str::<RawObject<'_>>(text).map_err(malformed)?;
        self.out.push(b'{');
        let mut first = true;
        for (name, value) in &members.0 {
            let edges = nodes
                .iter()
                .filter_map(|&n| self.spec.nodes.get(n as usize))
                .flat_map(|node| node.fields.iter().filter(|f| f.name == *name).map(|f| &f.edge));
            let Some((rule, inner)) = self.resolve(edges) else { continue };
            if !first {
                self.out.push(b',');
            }
            first = false;
            serde_json::to_writer(&mut self.out, name).map_err(malformed)?;
            self.out.push(b':');
            match rule {
                Some(rule) => self.mask(rule, value)?,
                None => self.value(value, &inner)?,
            }
        }
        self.out.push(b'}');
        Ok(())
    }

    fn array(&mut self, text: &str, nodes: &[u32]) -> Result<(), FilterError> {
        let elements = serde_json::from_str::<Vec<&RawValue>>(text).map_err(malformed)?;
        let edges: SmallVec<[&Edge; 4]> =
            nodes.iter().filter_map(|&n| self.spec.nodes.get(n as usize)).flat_map(|node| node.items.iter()).collect();
        self.out.push(b'[');
        let mut first = true;
        for value in elements {
            let Some((rule, inner)) = self.resolve(edges.iter().copied()) else { continue };
            if !first {
                self.out.push(b',');
            }
            first = false;
            match rule {
                Some(rule) => self.mask(rule, value)?,
                None => self.value(value, &inner)?,
            }
        }
        self.out.push(b']');
        Ok(())
    }

    /// What the edges matching one value say: `None` to leave it out, else the mask to apply
    /// (when one of them withholds it) or the nodes to go on with.
    fn resolve<'e>(&mut self, edges: impl Iterator<Item = &'e Edge>) -> Option<(Option<Rule>, Nodes)> {
        let mut inner = Nodes::new();
        for edge in edges {
            if let Some(rule) = self.withheld_by(edge) {
                self.withheld |= 1 << rule.class;
                return (rule.mask != Mask::Remove).then_some((Some(rule), Nodes::new()));
            }
            for &node in &edge.nodes {
                if !inner.contains(&node) {
                    inner.push(node);
                }
            }
        }
        Some((None, inner))
    }

    fn mask(&mut self, rule: Rule, raw: &RawValue) -> Result<(), FilterError> {
        self.withheld |= 1 << rule.class;
        match rule.mask {
            Mask::Remove | Mask::Redact => self.out.extend_from_slice(b"null"),
            Mask::Last4 => {
                let value: serde_json::Value = serde_json::from_str(raw.get()).map_err(malformed)?;
                serde_json::to_writer(&mut self.out, &annotation::last4(&value)).map_err(malformed)?;
            }
        }
        Ok(())
    }
}

fn malformed(error: serde_json::Error) -> FilterError {
    FilterError::Malformed(error.to_string())
}

/// An object's members in document order, values left raw. Duplicate names are all kept, so
/// a second `"email"` is filtered like the first (a map would keep one and let the other by).
struct RawObject<'a>(Vec<(Cow<'a, str>, &'a RawValue)>);

/// A member name, borrowed from the body unless it has escapes.
#[derive(Deserialize)]
struct Name<'a>(#[serde(borrow)] Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for RawObject<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Members<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for Members<'a> {
            type Value = RawObject<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<RawObject<'a>, M::Error> {
                let mut members = Vec::with_capacity(map.size_hint().unwrap_or(8));
                while let Some(Name(name)) = map.next_key::<Name<'de>>()? {
                    members.push((name, map.next_value::<&'de RawValue>()?));
                }
                Ok(RawObject(members))
            }
        }
        deserializer.deserialize_map(Members(std::marker::PhantomData))
    }
}
