//! RFC 6901 JSON Pointers: building them for problem reports and following local `$ref`s.

use serde_json::Value;

/// Escapes one reference token: `~` → `~0` first, then `/` → `~1` (the order matters, or a
/// `/` would come out as `~01`).
pub(crate) fn escape(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

/// `base` extended by one object member.
pub(crate) fn child(base: &str, token: &str) -> String {
    format!("{base}/{}", escape(token))
}

/// `base` extended by one array index.
pub(crate) fn index(base: &str, i: usize) -> String {
    format!("{base}/{i}")
}

/// Where a `$ref` leads.
#[derive(Debug)]
pub(crate) enum Target<'d> {
    /// Inside this document, at `pointer`.
    Found { value: &'d Value, pointer: String },
    /// Another file or URL: the import sees one document only, so it must be bundled first.
    External,
    /// A same-document reference to a location that does not exist.
    Missing,
}

/// Follows one `$ref` within `doc`. The fragment is a URI fragment, so it is percent-decoded
/// before being read as a JSON Pointer (`#/paths/~1pets~1%7Bid%7D`).
pub(crate) fn follow<'d>(doc: &'d Value, reference: &str) -> Target<'d> {
    let Some(fragment) = reference.strip_prefix('#') else {
        return Target::External;
    };
    let Some(pointer) = percent_decode(fragment) else {
        return Target::Missing;
    };
    if !pointer.is_empty() && !pointer.starts_with('/') {
        return Target::Missing; // a named anchor (`#foo`), which the gateway does not resolve
    }
    match doc.pointer(&pointer) {
        Some(value) => Target::Found { value, pointer },
        None => Target::Missing,
    }
}

fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3)?;
            if !hex.iter().all(u8::is_ascii_hexdigit) {
                return None;
            }
            out.push(u8::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}
