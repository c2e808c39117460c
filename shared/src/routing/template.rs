//! OpenAPI path templates, read as RFC 6570 level 1 the way OpenAPI uses them: a variable
//! (`{name}`) matches one or more characters of a single segment, and may sit beside literal
//! text (`/files/{name}.json`, `/jobs/{id}:cancel`), several to a segment (`/{a}-{b}`).
//!
//! Precedence (OpenAPI: "concrete paths are matched before templated ones"), compared segment
//! by segment from the left: a literal segment beats a segment with a variable in it, and
//! between two segments with variables, the one with more literal text beats the other; a
//! whole-segment variable (`{id}`) comes last. Two templates that tie on every segment and
//! can match the same path are ambiguous: the importer refuses them ([`overlap`]).

mod overlap;

pub use overlap::overlap;

/// Most variables one segment may hold: a matcher tries each split of the segment between
/// them, so the bound keeps a hostile template from costing more than a few steps a segment.
pub const MAX_VARIABLES_PER_SEGMENT: usize = 4;

/// One segment of a template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    /// Literal text only: matched exactly.
    Literal(Box<str>),
    /// Variables beside literal text, in order.
    Pattern(Pattern),
    /// A single variable filling the segment: matches any non-empty segment.
    Variable,
}

/// A segment mixing literal text and variables, e.g. `{name}.json` → `[Var, Lit(".json")]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern {
    pieces: Box<[Piece]>,
    /// Bytes of literal text, the precedence between two patterns (more wins).
    literal_len: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Literal(Box<str>),
    Variable,
}

/// A path template split into segments; the query or fragment part of a path key is not
/// part of it (see [`split_key`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    pub segments: Vec<Segment>,
    /// Written with a trailing `/` (`/a/`); only matters when the document also has `/a`.
    pub trailing_slash: bool,
}

/// How a segment ranks against another at the same depth: greater wins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Rank {
    Variable,
    /// Holds the bytes of literal text beside the variables.
    Pattern(usize),
    Literal,
}

/// Why a template is not one the router can follow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TemplateError {
    NoLeadingSlash,
    Unclosed { at: usize },
    Nested { at: usize },
    Unopened { at: usize },
    EmptyName { at: usize },
    Repeated(String),
    TooManyVariables,
}

impl std::fmt::Display for TemplateError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TemplateError::NoLeadingSlash => f.write_str("a path must start with '/'"),
            TemplateError::Unclosed { at } => write!(f, "'{{' at byte {at} is never closed"),
            TemplateError::Nested { at } => write!(f, "'{{' at byte {at} opens a parameter inside another"),
            TemplateError::Unopened { at } => write!(f, "'}}' at byte {at} closes no parameter"),
            TemplateError::EmptyName { at } => write!(f, "empty parameter name '{{}}' at byte {at}"),
            TemplateError::Repeated(name) => write!(f, "path parameter {name:?} appears twice"),
            TemplateError::TooManyVariables => {
                write!(f, "more than {MAX_VARIABLES_PER_SEGMENT} parameters in one segment")
            }
        }
    }
}

/// Splits a path key into its template and the query (`?a=b`) or fragment (`#a=b`) that some
/// real descriptions add to tell operations on one path apart; the separator is returned with
/// the rest. Braces are never split.
pub fn split_key(key: &str) -> (&str, Option<(char, &str)>) {
    match key.find(['?', '#']) {
        Some(i) => {
            let separator = if key.as_bytes()[i] == b'?' { '?' } else { '#' };
            (&key[..i], Some((separator, &key[i + 1..])))
        }
        None => (key, None),
    }
}

impl Template {
    /// Parses the template part of a path key (see [`split_key`]).
    pub fn parse(path: &str) -> Result<Template, Vec<TemplateError>> {
        let mut errors = Vec::new();
        let Some(body) = path.strip_prefix('/') else {
            return Err(vec![TemplateError::NoLeadingSlash]);
        };
        let (body, trailing_slash) = match body.strip_suffix('/') {
            Some(inner) => (inner, true),
            None => (body, false),
        };
        let mut names: Vec<&str> = Vec::new();
        let mut segments = Vec::new();
        let mut offset = 1;
        if !body.is_empty() {
            for text in body.split('/') {
                segments.push(segment(text, offset, &mut names, &mut errors));
                offset += text.len() + 1;
            }
        }
        if errors.is_empty() {
            Ok(Template { segments, trailing_slash })
        } else {
            Err(errors)
        }
    }

    /// Each segment's rank, the template's precedence (compared left to right).
    pub fn ranks(&self) -> Vec<Rank> {
        self.segments.iter().map(Segment::rank).collect()
    }

    /// A concrete path that this template matches, with `value` in every variable.
    pub fn example(&self, value: &str) -> String {
        let mut out = String::new();
        for segment in &self.segments {
            out.push('/');
            match segment {
                Segment::Literal(text) => out.push_str(text),
                Segment::Variable => out.push_str(value),
                Segment::Pattern(pattern) => {
                    for piece in &pattern.pieces {
                        match piece {
                            Piece::Literal(text) => out.push_str(text),
                            Piece::Variable => out.push_str(value),
                        }
                    }
                }
            }
        }
        if out.is_empty() || self.trailing_slash {
            out.push('/');
        }
        out
    }
}

/// Reads one segment starting at byte `offset` of the path, recording variable names.
fn segment<'p>(text: &'p str, offset: usize, names: &mut Vec<&'p str>, errors: &mut Vec<TemplateError>) -> Segment {
    let mut pieces = Vec::new();
    let mut open: Option<usize> = None;
    let mut literal_start = 0;
    for (i, c) in text.char_indices() {
        match (c, open) {
            ('{', Some(_)) => errors.push(TemplateError::Nested { at: offset + i }),
            ('{', None) => {
                if i > literal_start {
                    pieces.push(Piece::Literal(text[literal_start..i].into()));
                }
                open = Some(i);
            }
            ('}', None) => errors.push(TemplateError::Unopened { at: offset + i }),
            ('}', Some(start)) => {
                open = None;
                literal_start = i + 1;
                let name = &text[start + 1..i];
                if name.is_empty() {
                    errors.push(TemplateError::EmptyName { at: offset + start });
                } else if names.contains(&name) {
                    errors.push(TemplateError::Repeated(name.to_owned()));
                }
                names.push(name);
                pieces.push(Piece::Variable);
            }
            _ => {}
        }
    }
    if let Some(start) = open {
        errors.push(TemplateError::Unclosed { at: offset + start });
        return Segment::Literal(text.into());
    }
    if literal_start < text.len() {
        pieces.push(Piece::Literal(text[literal_start..].into()));
    }
    let variables = pieces.iter().filter(|p| matches!(p, Piece::Variable)).count();
    if variables > MAX_VARIABLES_PER_SEGMENT {
        errors.push(TemplateError::TooManyVariables);
    }
    match (variables, pieces.len()) {
        (0, _) => Segment::Literal(text.into()),
        (1, 1) => Segment::Variable,
        _ => {
            let literal_len = pieces.iter().map(|p| if let Piece::Literal(t) = p { t.len() } else { 0 }).sum();
            Segment::Pattern(Pattern { pieces: pieces.into(), literal_len })
        }
    }
}

impl Segment {
    /// Variables side by side with no literal text (`{id}{ext}`) rank as one variable: they
    /// are no more specific, so beside `{id}` the importer finds them ambiguous.
    pub fn rank(&self) -> Rank {
        match self {
            Segment::Literal(_) => Rank::Literal,
            Segment::Pattern(pattern) if pattern.literal_len > 0 => Rank::Pattern(pattern.literal_len),
            Segment::Pattern(_) | Segment::Variable => Rank::Variable,
        }
    }

    /// Whether this segment matches the request segment `text`, without allocating.
    pub fn matches(&self, text: &str) -> bool {
        match self {
            Segment::Literal(literal) => **literal == *text,
            Segment::Variable => !text.is_empty(),
            Segment::Pattern(pattern) => pattern.matches(text),
        }
    }
}

impl Pattern {
    /// The literal text beside the variables, in bytes.
    pub fn literal_len(&self) -> usize {
        self.literal_len
    }

    pub fn matches(&self, text: &str) -> bool {
        match_pieces(&self.pieces, text)
    }
}

/// Each variable takes one or more bytes; a literal must follow exactly. A variable's end is
/// one of the places where the next literal occurs (or any byte boundary when another variable
/// follows): at most `MAX_VARIABLES_PER_SEGMENT` nested loops over the segment.
fn match_pieces(pieces: &[Piece], text: &str) -> bool {
    match pieces.split_first() {
        None => text.is_empty(),
        Some((Piece::Literal(literal), rest)) => text.strip_prefix(&**literal).is_some_and(|t| match_pieces(rest, t)),
        Some((Piece::Variable, [])) => !text.is_empty(),
        Some((Piece::Variable, rest)) => {
            let Some(Piece::Literal(next)) = rest.first() else {
                return (1..text.len()).any(|end| text.is_char_boundary(end) && match_pieces(rest, &text[end..]));
            };
            let mut from = 1;
            while let Some(found) = text.get(from..).and_then(|t| t.find(&**next)) {
                if match_pieces(rest, &text[from + found..]) {
                    return true;
                }
                from += found + 1;
            }
            false
        }
    }
}

#[cfg(test)]
mod tests;
