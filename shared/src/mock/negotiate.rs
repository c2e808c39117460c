//! What the caller asked the mock for: the `Prefer` header's `code` and `example` (as Prism
//! reads them) and the media type `Accept` allows among those the operation describes.

/// `Prefer: code=404, example=notFound` (RFC 7240 preferences; `;` is accepted between them
/// too, as Prism's users write both). Unknown preferences are ignored, as RFC 7240 says.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Preference {
    /// The status the caller wants, as written (`404`).
    pub code: Option<String>,
    /// The name of a named example (`examples` of the media type).
    pub example: Option<String>,
}

impl Preference {
    /// Reads every `Prefer` field value; a later value of the same preference wins.
    pub fn read<'a>(values: impl IntoIterator<Item = &'a str>) -> Preference {
        let mut preference = Preference::default();
        for part in values.into_iter().flat_map(|v| v.split([',', ';'])) {
            let Some((name, value)) = part.split_once('=') else { continue };
            let value = value.trim().trim_matches('"').to_owned();
            match name.trim().to_ascii_lowercase().as_str() {
                "code" => preference.code = Some(value),
                "example" => preference.example = Some(value),
                _ => {}
            }
        }
        preference
    }

    /// The `Preference-Applied` value (RFC 7240 §3) once the answer honoured these.
    pub fn applied(&self) -> Option<String> {
        let code = self.code.as_ref().map(|code| format!("code={code}"));
        let example = self.example.as_ref().map(|name| format!("example={name}"));
        let applied: Vec<String> = code.into_iter().chain(example).collect();
        (!applied.is_empty()).then(|| applied.join(", "))
    }
}

/// The index in `described` (media types as the document writes them) of the one to answer
/// with: the first that the most preferred media range of `accept` matches (RFC 9110 §12.5.1:
/// higher `q` first, then the more specific range). No `Accept` takes the first described.
/// `None`: nothing described is acceptable.
pub fn media_type(accept: Option<&str>, described: &[&str]) -> Option<usize> {
    let Some(accept) = accept.filter(|a| !a.trim().is_empty()) else {
        return (!described.is_empty()).then_some(0);
    };
    let mut ranges: Vec<(f32, u8, &str)> = accept
        .split(',')
        .filter_map(|range| {
            let mut parts = range.split(';');
            let essence = parts.next()?.trim();
            let q = parts
                .filter_map(|p| p.trim().strip_prefix("q=").or_else(|| p.trim().strip_prefix("Q=")))
                .find_map(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            let specificity = match essence {
                "*/*" => 0,
                e if e.ends_with("/*") => 1,
                _ => 2,
            };
            Some((q, specificity, essence))
        })
        .filter(|(q, _, _)| *q > 0.0)
        .collect();
    ranges.sort_by(|a, b| b.0.total_cmp(&a.0).then(b.1.cmp(&a.1)));
    ranges.iter().find_map(|(_, _, range)| described.iter().position(|d| matches(range, essence(d))))
}

/// A media type without its parameters, lower case.
fn essence(media_type: &str) -> String {
    media_type.split(';').next().unwrap_or_default().trim().to_ascii_lowercase()
}

fn matches(range: &str, media_type: String) -> bool {
    let range = range.to_ascii_lowercase();
    match range.strip_suffix("/*") {
        Some("*") => true,
        Some(top) => media_type.split('/').next() == Some(top),
        None => range == media_type || media_type.contains('*') && matches(&media_type, range),
    }
}
