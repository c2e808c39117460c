//! One API's operations compiled into a tree of segments, so a request is matched in one walk
//! down its path (O(segments), no allocation) instead of a scan of every operation.
//!
//! A node's children are tried in precedence order (see [`super::template`]): the literal
//! child (found by binary search), then patterns with the most literal text first, then the
//! whole-segment variable; a branch that dead-ends gives way to the next (backtracking only
//! where a literal and a template sit at the same depth). The first template that matches
//! the whole path is the one of highest precedence, because precedence is compared left to
//! right exactly as the walk goes.

use http::HeaderMap;

use super::template::{split_key, Segment, Template};
use super::NoMatch;
use crate::model::{Discriminator, DiscriminatorPlace, Operation};

/// The compiled paths of one API.
#[derive(Debug, Clone, Default)]
pub struct PathIndex {
    nodes: Vec<Node>,
    /// Operation indices (into the API's `operations`) per template, in document order.
    endpoints: Vec<Vec<usize>>,
}

#[derive(Debug, Clone, Default)]
struct Node {
    /// Sorted by text, for binary search.
    literals: Vec<(Box<str>, usize)>,
    /// Most literal text first; ties keep document order.
    patterns: Vec<(Segment, usize)>,
    variable: Option<usize>,
    /// Endpoint of the template ending here without and with a trailing `/`.
    end: [Option<usize>; 2],
}

/// What a request offers besides its path, for operations told apart by a query parameter
/// or a header.
#[derive(Clone, Copy, Default)]
pub struct Extras<'r> {
    pub query: Option<&'r str>,
    pub headers: Option<&'r HeaderMap>,
}

impl PathIndex {
    /// Compiles `operations`; one whose path does not parse is left out (the importer refuses
    /// such documents, so only a hand-made record can have one, and it then never matches).
    pub fn new(operations: &[Operation]) -> PathIndex {
        let mut index = PathIndex { nodes: vec![Node::default()], endpoints: Vec::new() };
        for (i, operation) in operations.iter().enumerate() {
            if let Ok(template) = Template::parse(split_key(&operation.path).0) {
                index.insert(&template, i);
            }
        }
        index
    }

    fn insert(&mut self, template: &Template, operation: usize) {
        let mut node = 0;
        for segment in &template.segments {
            node = self.child(node, segment);
        }
        let slot = usize::from(template.trailing_slash);
        let endpoint = match self.nodes[node].end[slot] {
            Some(endpoint) => endpoint,
            None => {
                self.endpoints.push(Vec::new());
                let endpoint = self.endpoints.len() - 1;
                self.nodes[node].end[slot] = Some(endpoint);
                endpoint
            }
        };
        self.endpoints[endpoint].push(operation);
    }

    /// The child of `node` for `segment`, made when missing.
    fn child(&mut self, node: usize, segment: &Segment) -> usize {
        let fresh = self.nodes.len();
        let parent = &mut self.nodes[node];
        let found = match segment {
            Segment::Literal(text) => match parent.literals.binary_search_by(|(t, _)| (**t).cmp(text)) {
                Ok(at) => Some(parent.literals[at].1),
                Err(at) => {
                    parent.literals.insert(at, (text.clone(), fresh));
                    None
                }
            },
            Segment::Variable => {
                let existing = parent.variable;
                parent.variable.get_or_insert(fresh);
                existing
            }
            Segment::Pattern(_) => match parent.patterns.iter().find(|(s, _)| s == segment) {
                Some((_, child)) => Some(*child),
                None => {
                    let at = parent.patterns.partition_point(|(s, _)| s.rank() >= segment.rank());
                    parent.patterns.insert(at, (segment.clone(), fresh));
                    None
                }
            },
        };
        found.unwrap_or_else(|| {
            self.nodes.push(Node::default());
            fresh
        })
    }

    /// The operation for `method` on `path` (below the API's base path, starting with `/`).
    pub fn find(&self, operations: &[Operation], method: &str, path: &str, extras: Extras) -> Result<usize, NoMatch> {
        let endpoint = self.endpoint(path).ok_or(NoMatch::NoOperation)?;
        pick(operations, &self.endpoints[endpoint], method, extras)
    }

    /// The endpoint of the highest-precedence template matching `path`.
    fn endpoint(&self, path: &str) -> Option<usize> {
        let body = path.strip_prefix('/').unwrap_or(path);
        let (body, trailing) = match body.strip_suffix('/') {
            Some(inner) => (inner, true),
            None => (body, false),
        };
        let segments = (!body.is_empty()).then_some(body);
        self.walk(0, segments, trailing)
    }

    /// Matches the `rest` of the path (segments joined by `/`; `None` when none are left)
    /// below `node`. Recursion depth is bounded by the deepest template, not by the request.
    fn walk(&self, node: usize, rest: Option<&str>, trailing: bool) -> Option<usize> {
        let here = &self.nodes[node];
        let Some(rest) = rest else {
            let [plain, slashed] = here.end;
            return if trailing { slashed.or(plain) } else { plain.or(slashed) };
        };
        let (segment, more) = match rest.split_once('/') {
            Some((segment, more)) => (segment, Some(more)),
            None => (rest, None),
        };
        if let Ok(at) = here.literals.binary_search_by(|(t, _)| (**t).cmp(segment)) {
            if let Some(found) = self.walk(here.literals[at].1, more, trailing) {
                return Some(found);
            }
        }
        for (pattern, child) in &here.patterns {
            if pattern.matches(segment) {
                if let Some(found) = self.walk(*child, more, trailing) {
                    return Some(found);
                }
            }
        }
        match here.variable {
            Some(child) if !segment.is_empty() => self.walk(child, more, trailing),
            _ => None,
        }
    }
}

/// Among one template's operations: the method's operation whose discriminators the request
/// meets, the one with the most conditions first (`#scope=x&arn` over `#arn`: a request that
/// meets the longer list meets the shorter too), else its operation without any; an explicit
/// `HEAD` before the `GET` fallback.
fn pick(operations: &[Operation], endpoint: &[usize], method: &str, extras: Extras) -> Result<usize, NoMatch> {
    let choose = |method: &str| {
        let mut candidates = endpoint.iter().copied().filter(|&i| operations[i].method.eq_ignore_ascii_case(method));
        let first = candidates.clone().next()?;
        let mut best: Option<usize> = None;
        for i in candidates.clone() {
            let conditions = &operations[i].discriminators;
            let better = best.is_none_or(|b| conditions.len() > operations[b].discriminators.len());
            if !conditions.is_empty() && better && meets(conditions, extras) {
                best = Some(i);
            }
        }
        let chosen = best.or_else(|| candidates.find(|&i| operations[i].discriminators.is_empty()));
        Some(chosen.ok_or(first))
    };
    let found = choose(method).or_else(|| if method == "HEAD" { choose("GET") } else { None });
    match found {
        Some(Ok(i)) => Ok(i),
        // The method exists on this path, but only for other query or header values.
        Some(Err(_)) => Err(NoMatch::NoOperation),
        None => Err(NoMatch::MethodNotAllowed),
    }
}

fn meets(discriminators: &[Discriminator], extras: Extras) -> bool {
    discriminators.iter().all(|d| match d.place {
        DiscriminatorPlace::Query => extras.query.is_some_and(|query| query_has(query, &d.name, d.value.as_deref())),
        DiscriminatorPlace::Header => extras
            .headers
            .and_then(|headers| headers.get(d.name.as_str()))
            .is_some_and(|value| d.value.as_ref().is_none_or(|wanted| value.as_bytes() == wanted.as_bytes())),
    })
}

/// Whether the query holds `name=value`, or `name` at all when `value` is `None`
/// (form-encoded: `+` and `%XX` decoded while comparing, without allocating).
fn query_has(query: &str, name: &str, value: Option<&str>) -> bool {
    query.split('&').any(|pair| {
        let (n, v) = pair.split_once('=').unwrap_or((pair, ""));
        decoded_eq(n, name) && value.is_none_or(|value| decoded_eq(v, value))
    })
}

fn decoded_eq(raw: &str, expected: &str) -> bool {
    let (raw, mut expected) = (raw.as_bytes(), expected.as_bytes().iter());
    let mut i = 0;
    while i < raw.len() {
        let byte = match raw[i] {
            b'+' => b' ',
            b'%' => match raw.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok()) {
                Some(hex) => match u8::from_str_radix(hex, 16) {
                    Ok(byte) => {
                        i += 2;
                        byte
                    }
                    Err(_) => b'%',
                },
                None => b'%',
            },
            other => other,
        };
        if expected.next() != Some(&byte) {
            return false;
        }
        i += 1;
    }
    expected.next().is_none()
}

#[cfg(test)]
mod tests;
