//! Compiling one response schema into a [`ResponseFilter`] graph.
//!
//! Each `$ref` target becomes one node (memoised by its pointer, which is what makes a
//! recursive schema a cycle in the graph instead of an endless tree); `allOf`, `oneOf` and
//! `anyOf` members apply to the same value, so their members are merged into the node that
//! holds them. The graph is then pruned to what can reach an annotation.

use std::collections::HashMap;

use serde_json::Value;

use super::super::pointer::{follow, Target};
use crate::sensitivity::annotation;
use crate::sensitivity::plan::{Edge, FieldEdge, Node, ResponseFilter, Rule, MAX_CLASSES_PER_RESPONSE};

/// How many `$ref` hops lead to one schema; more is a cycle of bare references.
const MAX_REF_HOPS: usize = 16;
/// Most nodes one response's graph may have before import refuses the schema.
const MAX_NODES: usize = 10_000;

/// A node before the composition keywords are merged in.
#[derive(Default)]
struct Draft {
    fields: Vec<FieldEdge>,
    items: Vec<Edge>,
    /// Nodes that apply to the same value (`allOf`/`oneOf`/`anyOf` members).
    also: Vec<u32>,
}

pub(super) struct Builder<'d> {
    doc: &'d Value,
    drafts: Vec<Draft>,
    memo: HashMap<String, u32>,
    classes: Vec<String>,
}

impl<'d> Builder<'d> {
    pub(super) fn new(doc: &'d Value) -> Self {
        Builder { doc, drafts: Vec::new(), memo: HashMap::new(), classes: Vec::new() }
    }

    /// The filter for a response body of `schema`, or `None` when nothing in it is annotated.
    pub(super) fn compile(
        mut self,
        status: &str,
        media_type: &str,
        schema: &'d Value,
    ) -> Result<Option<ResponseFilter>, String> {
        let root = self.edge(schema)?;
        let nodes = finish(self.drafts);
        let (root, nodes) = prune(root, nodes);
        if root.rule.is_none() && root.nodes.is_empty() {
            return Ok(None);
        }
        Ok(Some(ResponseFilter {
            status: status.into(),
            media_type: media_type.into(),
            classes: self.classes,
            root,
            nodes,
        }))
    }

    /// The edge into a value described by `schema`: its annotation (its own, else its `$ref`
    /// target's) and its node.
    fn edge(&mut self, schema: &'d Value) -> Result<Edge, String> {
        let rule = match self.annotation(schema) {
            Some(found) => Some(self.rule(found)?),
            None => None,
        };
        let leaf = ["$ref", "properties", "items", "allOf", "oneOf", "anyOf"].iter().all(|k| schema.get(k).is_none());
        let nodes = if leaf { Vec::new() } else { vec![self.node(schema)?] };
        Ok(Edge { rule, nodes })
    }

    fn annotation(&self, mut schema: &'d Value) -> Option<annotation::Annotation> {
        for _ in 0..MAX_REF_HOPS {
            // A malformed annotation was reported by the document scan; the import fails.
            if let Some(Ok(found)) = annotation::read(schema) {
                return Some(found);
            }
            schema = self.target(schema)?.1;
        }
        None
    }

    fn rule(&mut self, found: annotation::Annotation) -> Result<Rule, String> {
        let index = match self.classes.iter().position(|c| *c == found.class) {
            Some(index) => index,
            None if self.classes.len() < MAX_CLASSES_PER_RESPONSE => {
                self.classes.push(found.class);
                self.classes.len() - 1
            }
            None => return Err(format!("a response may name at most {MAX_CLASSES_PER_RESPONSE} classes")),
        };
        Ok(Rule { class: index as u8, mask: found.mask })
    }

    fn target(&self, schema: &'d Value) -> Option<(String, &'d Value)> {
        let reference = schema.get("$ref")?.as_str()?;
        match follow(self.doc, reference) {
            Target::Found { value, pointer } => Some((pointer, value)),
            Target::External | Target::Missing => None,
        }
    }

    /// The node for a value of `schema`; one per `$ref` target, so recursion closes.
    fn node(&mut self, schema: &'d Value) -> Result<u32, String> {
        if let Some((pointer, target)) = self.target(schema) {
            if let Some(&id) = self.memo.get(&pointer) {
                return Ok(id);
            }
            let id = self.fresh()?;
            self.memo.insert(pointer, id);
            self.fill(id, target)?;
            self.fill(id, schema)?; // 3.1 lets keywords sit beside `$ref`
            return Ok(id);
        }
        let id = self.fresh()?;
        self.fill(id, schema)?;
        Ok(id)
    }

    fn fresh(&mut self) -> Result<u32, String> {
        if self.drafts.len() >= MAX_NODES {
            return Err(format!("a response schema may expand to at most {MAX_NODES} schemas"));
        }
        self.drafts.push(Draft::default());
        Ok((self.drafts.len() - 1) as u32)
    }

    fn fill(&mut self, id: u32, schema: &'d Value) -> Result<(), String> {
        if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
            for (name, property) in properties {
                let edge = self.edge(property)?;
                self.draft(id).fields.push(FieldEdge { name: name.clone(), edge });
            }
        }
        if let Some(items) = schema.get("items").filter(|items| items.is_object()) {
            let edge = self.edge(items)?;
            self.draft(id).items.push(edge);
        }
        for keyword in ["allOf", "oneOf", "anyOf"] {
            for member in schema.get(keyword).and_then(Value::as_array).into_iter().flatten() {
                let node = self.node(member)?;
                self.draft(id).also.push(node);
            }
        }
        Ok(())
    }

    fn draft(&mut self, id: u32) -> &mut Draft {
        &mut self.drafts[id as usize]
    }
}

/// Merges each node's `also` closure into it (cycles of `allOf` end at a visited node) and
/// computes every node's `reach`.
fn finish(drafts: Vec<Draft>) -> Vec<Node> {
    let mut nodes: Vec<Node> = Vec::with_capacity(drafts.len());
    for start in 0..drafts.len() {
        let (mut seen, mut stack, mut node) = (vec![start], vec![start], Node::default());
        while let Some(at) = stack.pop() {
            node.fields.extend(drafts[at].fields.iter().cloned());
            node.items.extend(drafts[at].items.iter().cloned());
            for &next in &drafts[at].also {
                if !seen.contains(&(next as usize)) {
                    seen.push(next as usize);
                    stack.push(next as usize);
                }
            }
        }
        nodes.push(node);
    }
    // `reach` only gains bits, so this reaches a fixed point (a cycle just takes more passes).
    loop {
        let mut changed = false;
        for i in 0..nodes.len() {
            let edges = nodes[i].fields.iter().map(|f| &f.edge).chain(nodes[i].items.iter());
            let reach = edges.fold(0u64, |acc, edge| acc | edge_reach(edge, &nodes));
            if reach != nodes[i].reach {
                nodes[i].reach = reach;
                changed = true;
            }
        }
        if !changed {
            return nodes;
        }
    }
}

fn edge_reach(edge: &Edge, nodes: &[Node]) -> u64 {
    let own = edge.rule.map_or(0, |rule| 1u64 << rule.class);
    edge.nodes.iter().fold(own, |acc, &n| acc | nodes[n as usize].reach)
}

/// Keeps only nodes that reach an annotation, and only edges that matter, renumbered.
fn prune(mut root: Edge, nodes: Vec<Node>) -> (Edge, Vec<Node>) {
    let mut renumber: Vec<Option<u32>> = vec![None; nodes.len()];
    let mut kept = 0u32;
    for (i, node) in nodes.iter().enumerate() {
        if node.reach != 0 {
            renumber[i] = Some(kept);
            kept += 1;
        }
    }
    let fix = |edge: &mut Edge| edge.nodes = edge.nodes.iter().filter_map(|&n| renumber[n as usize]).collect();
    let mut out = Vec::with_capacity(kept as usize);
    for mut node in nodes.into_iter().filter(|node| node.reach != 0) {
        node.fields.iter_mut().for_each(|f| fix(&mut f.edge));
        node.fields.retain(|f| f.edge.rule.is_some() || !f.edge.nodes.is_empty());
        node.items.iter_mut().for_each(fix);
        node.items.retain(|e| e.rule.is_some() || !e.nodes.is_empty());
        out.push(node);
    }
    fix(&mut root);
    (root, out)
}
