//! `Cache-Control` parsing (RFC 9111 §5.2) for requests and responses.
//!
//! Parsing never fails: upstreams and clients send junk, and a cache that rejected a whole
//! header because of one bad token would behave less predictably than one that skips it.
//! Where junk could make a response look *more* cacheable than intended, the parser errs on
//! the side of caching less (see [`CacheControl::max_age`]).

use std::borrow::Cow;

use http::header::{CACHE_CONTROL, PRAGMA};
use http::HeaderMap;

/// The directives Gatehouse acts on, from every `Cache-Control` line of a message.
///
/// Qualified forms (`no-cache="Set-Cookie"`, `private="X-Foo"`) are treated as their
/// unqualified form: RFC 9111 §5.2.2.4 and §5.2.2.7 allow that, and it only ever caches less.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CacheControl {
    pub no_store: bool,
    pub no_cache: bool,
    pub private: bool,
    pub public: bool,
    pub must_revalidate: bool,
    pub proxy_revalidate: bool,
    /// Seconds. A value that is not a delta-seconds counts as `0` (stale): a typo in an
    /// upstream's header must not extend how long we serve its response. When the directive
    /// repeats, the smallest value wins for the same reason (RFC 9111 §4.2.1 allows treating
    /// conflicting duplicates as stale).
    pub max_age: Option<u64>,
    /// Seconds; same rules as `max_age`. Only shared caches obey it, and this is one.
    pub s_maxage: Option<u64>,
    /// Request only: the client wants at least this many seconds of freshness left.
    pub min_fresh: Option<u64>,
    /// Request only: answer from storage or with 504, never by forwarding (RFC 9111 §5.2.1.7).
    pub only_if_cached: bool,
    /// Response only: store only if the cache understands the status code's caching rules,
    /// and then ignore `no-store` (RFC 9111 §5.2.2.3).
    pub must_understand: bool,
}

/// Largest delta-seconds we keep (RFC 9111 §1.2.2: 2^31 stands for "infinity").
const MAX_DELTA_SECONDS: u64 = 1 << 31;

impl CacheControl {
    /// Parses all `Cache-Control` field lines of `headers`.
    pub fn from_headers(headers: &HeaderMap) -> Self {
        let mut cc = CacheControl::default();
        for value in headers.get_all(CACHE_CONTROL) {
            // Non-UTF-8 bytes can only be junk here; lossy decoding keeps the valid directives.
            cc.parse_line(&String::from_utf8_lossy(value.as_bytes()));
        }
        cc
    }

    /// A request's directives: its `Cache-Control` lines, or, when it has none, `Pragma:
    /// no-cache` read as `Cache-Control: no-cache` (RFC 9111 §5.4; HTTP/1.0 clients and some
    /// tools still send only `Pragma`).
    pub fn from_request(headers: &HeaderMap) -> Self {
        let mut cc = Self::from_headers(headers);
        if !headers.contains_key(CACHE_CONTROL) {
            for value in headers.get_all(PRAGMA) {
                for_each_directive(&String::from_utf8_lossy(value.as_bytes()), |name, _| {
                    cc.no_cache |= name.eq_ignore_ascii_case("no-cache");
                });
            }
        }
        cc
    }

    /// Parses one field value, e.g. `public, max-age=60, no-cache="set-cookie"`.
    pub fn parse(value: &str) -> Self {
        let mut cc = CacheControl::default();
        cc.parse_line(value);
        cc
    }

    fn parse_line(&mut self, line: &str) {
        for_each_directive(line, |name, value| self.apply(name, value.as_deref()));
    }

    /// Directive names are case-insensitive; comparing in place saves lower-casing a copy.
    fn apply(&mut self, name: &str, value: Option<&str>) {
        let is = |directive: &str| name.eq_ignore_ascii_case(directive);
        if is("no-store") {
            self.no_store = true;
        } else if is("no-cache") {
            self.no_cache = true;
        } else if is("private") {
            self.private = true;
        } else if is("public") {
            self.public = true;
        } else if is("must-revalidate") {
            self.must_revalidate = true;
        } else if is("proxy-revalidate") {
            self.proxy_revalidate = true;
        } else if is("max-age") {
            self.max_age = min_seconds(self.max_age, value);
        } else if is("s-maxage") {
            self.s_maxage = min_seconds(self.s_maxage, value);
        } else if is("min-fresh") {
            self.min_fresh = min_seconds(self.min_fresh, value);
        } else if is("only-if-cached") {
            self.only_if_cached = true;
        } else if is("must-understand") {
            self.must_understand = true;
        }
        // Extensions we do not understand are ignored (RFC 9111 §5.2.3).
    }
}

fn min_seconds(current: Option<u64>, value: Option<&str>) -> Option<u64> {
    let parsed = value.and_then(|v| v.trim().parse::<u64>().ok()).map_or(0, |s| s.min(MAX_DELTA_SECONDS));
    Some(current.map_or(parsed, |c| c.min(parsed)))
}

/// Calls `visit` with each `(name, value)` pair of a field value, honouring quoted strings so
/// a comma inside quotes does not end the directive. Empty and nameless members are skipped.
/// Every request and response of a caching API is parsed, so names and values are borrowed
/// from `line`; only a quoted value with `\` escapes is copied.
fn for_each_directive<'l>(line: &'l str, mut visit: impl FnMut(&'l str, Option<Cow<'l, str>>)) {
    let mut rest = line;
    loop {
        let name_end = rest.find([',', '=']).unwrap_or(rest.len());
        let name = rest[..name_end].trim();
        rest = &rest[name_end..];
        let value = match rest.strip_prefix('=') {
            Some(after) => {
                let (value, after_value) = read_value(after);
                rest = after_value;
                Some(value)
            }
            None => None,
        };
        // Skip whatever junk follows a value up to the next comma.
        rest = rest.find(',').map_or("", |comma| &rest[comma + 1..]);
        if !name.is_empty() {
            visit(name, value);
        }
        if rest.is_empty() {
            return;
        }
    }
}

/// A directive's value (after `=`) and what follows it: a token up to the next comma,
/// trimmed, or a quoted string with `\` escapes resolved (an unterminated one runs to the
/// end of the line).
fn read_value(after_equals: &str) -> (Cow<'_, str>, &str) {
    let s = after_equals.trim_start();
    let Some(quoted) = s.strip_prefix('"') else {
        let end = s.find(',').unwrap_or(s.len());
        return (Cow::Borrowed(s[..end].trim()), &s[end..]);
    };
    match quoted.find(['"', '\\']) {
        Some(end) if quoted.as_bytes()[end] == b'"' => return (Cow::Borrowed(&quoted[..end]), &quoted[end + 1..]),
        None => return (Cow::Borrowed(quoted), ""),
        Some(_) => {}
    }
    let mut value = String::with_capacity(quoted.len());
    let mut chars = quoted.char_indices();
    while let Some((at, c)) = chars.next() {
        match c {
            '"' => return (Cow::Owned(value), &quoted[at + 1..]),
            '\\' => value.extend(chars.next().map(|(_, escaped)| escaped)),
            _ => value.push(c),
        }
    }
    (Cow::Owned(value), "")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // in tests a panic is the failure report
mod tests {
    use super::*;

    #[test]
    fn directives_are_case_insensitive_and_combined_across_lines() {
        let mut headers = HeaderMap::new();
        headers.append(CACHE_CONTROL, "Public, MAX-AGE=60".parse().unwrap());
        headers.append(CACHE_CONTROL, "S-MaxAge=30".parse().unwrap());
        let cc = CacheControl::from_headers(&headers);
        assert!(cc.public);
        assert_eq!(cc.max_age, Some(60));
        assert_eq!(cc.s_maxage, Some(30));
        assert!(!cc.no_store && !cc.private);
    }

    #[test]
    fn comma_inside_quoted_value_does_not_split_the_directive() {
        let cc = CacheControl::parse(r#"no-cache="set-cookie, x-foo", max-age="120""#);
        assert!(cc.no_cache);
        assert_eq!(cc.max_age, Some(120));
        assert!(!cc.private, "x-foo\" must not be read as another directive");
    }

    #[test]
    fn qualified_private_counts_as_private() {
        assert!(CacheControl::parse(r#"private="x-user", max-age=60"#).private);
    }

    #[test]
    fn junk_max_age_makes_the_response_stale_not_fresher() {
        assert_eq!(CacheControl::parse("max-age=soon").max_age, Some(0));
        assert_eq!(CacheControl::parse("max-age").max_age, Some(0));
        assert_eq!(CacheControl::parse("max-age=-5").max_age, Some(0));
    }

    #[test]
    fn duplicate_max_age_keeps_the_smallest() {
        assert_eq!(CacheControl::parse("max-age=600, max-age=5").max_age, Some(5));
    }

    #[test]
    fn junk_members_are_skipped_and_valid_ones_kept() {
        let cc = CacheControl::parse(",, ;;; , =3, no-store x, foo=\"unterminated, private");
        assert!(!cc.private, "an unterminated quote swallows the rest of the line");
        let cc = CacheControl::parse(",, ;;; , =3, no-store, bogus=1 2, private");
        assert!(cc.no_store && cc.private);
    }

    /// The allocating parser this module used before `for_each_directive`, kept as the
    /// reference the borrowing one must agree with.
    fn reference_split(line: &str) -> Vec<(String, Option<String>)> {
        fn read_value(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) -> String {
            while chars.peek().is_some_and(|c| c.is_whitespace()) {
                chars.next();
            }
            let mut value = String::new();
            if chars.peek() != Some(&'"') {
                while let Some(&c) = chars.peek() {
                    if c == ',' {
                        break;
                    }
                    value.push(c);
                    chars.next();
                }
                return value.trim().to_string();
            }
            chars.next();
            while let Some(c) = chars.next() {
                match c {
                    '"' => break,
                    '\\' => value.extend(chars.next()),
                    _ => value.push(c),
                }
            }
            value
        }
        let mut out = Vec::new();
        let mut chars = line.chars().peekable();
        loop {
            let mut name = String::new();
            while let Some(&c) = chars.peek() {
                if c == ',' || c == '=' {
                    break;
                }
                name.push(c);
                chars.next();
            }
            let value = if chars.peek() == Some(&'=') {
                chars.next();
                Some(read_value(&mut chars))
            } else {
                None
            };
            for c in chars.by_ref() {
                if c == ',' {
                    break;
                }
            }
            let name = name.trim();
            if !name.is_empty() {
                out.push((name.to_string(), value));
            }
            if chars.peek().is_none() {
                return out;
            }
        }
    }

    fn split(line: &str) -> Vec<(String, Option<String>)> {
        let mut out = Vec::new();
        for_each_directive(line, |name, value| out.push((name.to_owned(), value.map(Cow::into_owned))));
        out
    }

    proptest::proptest! {
        /// Junk included: separators, quotes, escapes, Unicode whitespace and letters.
        #[test]
        fn borrowing_parser_agrees_with_the_reference(line in "[a-zA-Z0-9 ,=\"\\\\;\t\u{a0}\u{3000}é-]{0,40}") {
            proptest::prop_assert_eq!(split(&line), reference_split(&line));
        }
    }

    #[test]
    fn borrowing_parser_agrees_on_the_edge_cases() {
        for line in [
            "",
            ",",
            "a,",
            "=",
            "a=",
            "a=\"",
            "a=\"x\\",
            "a=\"x\\\"y\", b",
            "a=\"x\" junk, b=1",
            " max-age = 5 ,",
            "a=\u{3000}\"q\"",
            "no-store x, foo=\"unterminated, private",
            "x=1 2, y",
        ] {
            assert_eq!(split(line), reference_split(line), "{line:?}");
        }
    }

    #[test]
    fn rfc9111_5_4_pragma_no_cache_counts_only_without_cache_control() {
        let mut headers = HeaderMap::new();
        headers.append(PRAGMA, "x-foo, No-Cache".parse().unwrap());
        assert!(CacheControl::from_request(&headers).no_cache);
        assert!(!CacheControl::from_headers(&headers).no_cache, "responses ignore Pragma");
        headers.append(CACHE_CONTROL, "max-age=60".parse().unwrap());
        assert!(!CacheControl::from_request(&headers).no_cache, "Cache-Control wins over Pragma");
    }

    #[test]
    fn only_if_cached_and_must_understand_are_read() {
        let cc = CacheControl::parse("Only-If-Cached, must-understand");
        assert!(cc.only_if_cached && cc.must_understand);
    }

    #[test]
    fn huge_delta_seconds_are_capped() {
        assert_eq!(CacheControl::parse("max-age=99999999999999").max_age, Some(1 << 31));
    }
}
