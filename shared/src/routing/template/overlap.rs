//! Whether two segments of equal precedence can match the same request segment: the question
//! the importer asks to refuse templates no request can tell apart.

use super::{Piece, Segment};

/// Whether some request segment matches both `a` and `b` (which rank the same).
pub fn overlap(a: &Segment, b: &Segment) -> bool {
    match (a, b) {
        (Segment::Literal(x), Segment::Literal(y)) => x == y,
        (Segment::Variable, Segment::Variable) => true,
        (Segment::Pattern(x), Segment::Pattern(y)) => patterns_overlap(&x.pieces, &y.pieces),
        (Segment::Literal(x), other) | (other, Segment::Literal(x)) => other.matches(x),
        (Segment::Variable, _) | (_, Segment::Variable) => true,
    }
}

/// Whether two patterns share a match: a walk over pairs of positions in both, where a
/// variable may swallow any byte and literal bytes must agree. Positions are (piece, byte,
/// variable already non-empty), explored depth-first with a visited set; patterns are short.
fn patterns_overlap(a: &[Piece], b: &[Piece]) -> bool {
    let a = Walker::new(a);
    let b = Walker::new(b);
    let mut seen = std::collections::HashSet::new();
    let mut stack = vec![(0usize, 0usize)];
    while let Some((x, y)) = stack.pop() {
        if !seen.insert((x, y)) {
            continue;
        }
        if a.accepts(x) && b.accepts(y) {
            return true;
        }
        for (byte_a, next_a) in a.steps(x) {
            for (byte_b, next_b) in b.steps(y) {
                let agree = match (byte_a, byte_b) {
                    (Some(p), Some(q)) => p == q,
                    // A variable takes any byte but `/`: the other side's literal byte, or any byte.
                    (Some(p), None) | (None, Some(p)) => p != b'/',
                    (None, None) => true,
                };
                if agree {
                    stack.push((next_a, next_b));
                }
            }
        }
    }
    false
}

/// A pattern as a small automaton over bytes: state `2 * i` is "at the start of token i",
/// state `2 * i + 1` is "inside variable token i, having taken at least one byte".
struct Walker {
    tokens: Vec<Option<u8>>,
}

impl Walker {
    fn new(pieces: &[Piece]) -> Walker {
        let mut tokens = Vec::new();
        for piece in pieces {
            match piece {
                Piece::Literal(text) => tokens.extend(text.bytes().map(Some)),
                Piece::Variable => tokens.push(None),
            }
        }
        Walker { tokens }
    }

    fn accepts(&self, state: usize) -> bool {
        state == 2 * self.tokens.len() || (state % 2 == 1 && state / 2 + 1 == self.tokens.len())
    }

    /// The bytes that can be read from `state` (`None`: any byte) and where each leads.
    fn steps(&self, state: usize) -> Vec<(Option<u8>, usize)> {
        let (i, inside) = (state / 2, state % 2 == 1);
        let mut out = Vec::new();
        if inside {
            out.push((None, state)); // the variable takes another byte
            if let Some(Some(next)) = self.tokens.get(i + 1) {
                out.push((Some(*next), 2 * (i + 2))); // it ends; the literal after it starts
            }
            return out;
        }
        match self.tokens.get(i) {
            Some(Some(byte)) => out.push((Some(*byte), 2 * (i + 1))),
            Some(None) => out.push((None, 2 * i + 1)),
            None => {}
        }
        out
    }
}
