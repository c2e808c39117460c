//! `RateLimit-Policy` and `RateLimit` (draft-ietf-httpapi-ratelimit-headers, as Structured
//! Field lists) and `Retry-After`, from a [`LimitDecision`].
use std::cell::RefCell;
use std::cmp::Reverse;
use std::convert::Infallible;
use std::sync::Arc;

use http::header::{HeaderName, HeaderValue, RETRY_AFTER};
use http::HeaderMap;

use super::{LimitDecision, LimitResult};
use crate::decimal;
use crate::field_value::from_string;
use crate::recent::{recall, Recent};

/// The draft's field names, made once: a `&str` name is parsed again on every use.
const RATELIMIT_POLICY: HeaderName = HeaderName::from_static("ratelimit-policy");
const RATELIMIT: HeaderName = HeaderName::from_static("ratelimit");

/// Largest sf-integer (RFC 8941 §3.3.1); larger counts are clamped so the field stays valid.
const SF_INTEGER_MAX: u64 = 999_999_999_999_999;

/// The response headers for a decision.
///
/// `ratelimit-policy` lists every policy (`"burst";q=10;w=1, "daily";q=1000;w=86400`).
/// `ratelimit` reports one policy, the most restrictive: a refusing one first, then the one
/// with the fewest remaining, then the one that takes longest to reset; that is the number a
/// client must pace itself by. `retry-after` (seconds) is added when the call is refused.
/// An empty decision (no policies) yields no headers. Appended to `out` (the response's
/// fields) directly: a list of them in between cost an allocation on every call.
pub fn append_headers(decision: &LimitDecision, out: &mut HeaderMap) {
    let results = &decision.results;
    let tightest = results.iter().enumerate().min_by_key(|(_, r)| (r.allowed, r.remaining, Reverse(r.reset_secs)));
    let Some((tightest_at, tightest)) = tightest else {
        return;
    };
    let (policy, current) = with_description(results, |described| {
        let prefix = described.shapes.get(tightest_at).map_or("", |shape| &*shape.current_prefix);
        (described.policy.clone(), current_value(prefix, tightest))
    });
    if let Some(policy) = policy {
        out.append(RATELIMIT_POLICY, policy);
    }
    if let Some(current) = current {
        out.append(RATELIMIT, current);
    }
    if !decision.allowed() {
        out.append(RETRY_AFTER, HeaderValue::from(decision.retry_after_secs()));
    }
}

/// `RateLimit` for `result`, after its policy's `prefix` (`"burst";r=`): the one field value
/// built on every admitted call, so into a buffer of exactly its size, which becomes the
/// value without a copy.
fn current_value(prefix: &str, result: &LimitResult) -> Option<HeaderValue> {
    let mut remaining = [0; 20];
    let mut reset = [0; 20];
    let remaining = decimal::digits(result.remaining.min(SF_INTEGER_MAX), &mut remaining);
    let reset = decimal::digits(result.reset_secs.min(SF_INTEGER_MAX), &mut reset);
    let mut value = Vec::with_capacity(prefix.len() + remaining.len() + 3 + reset.len());
    for part in [prefix.as_bytes(), remaining, b";t=", reset] {
        value.extend_from_slice(part);
    }
    HeaderValue::try_from(value).ok()
}

/// What the limit fields say about a set of policies, which does not change from call to
/// call under one plan: the `RateLimit-Policy` value and each policy's `RateLimit` prefix.
/// Each thread keeps the descriptions it built for the policy sets it saw last ([`Recent`]),
/// and a call under one of them only compares.
struct Described {
    shapes: Vec<PolicyShape>,
    /// `None` if a value could not be made (never, as names are escaped).
    policy: Option<HeaderValue>,
}

/// Runs `use_it` on the description of `results`' policies, remembered or built.
fn with_description<R>(results: &[LimitResult], use_it: impl Fn(&Described) -> R) -> R {
    let matches = |described: &Described| {
        described.shapes.len() == results.len()
            && described.shapes.iter().zip(results).all(|(shape, result)| shape.describes(result))
    };
    // Results share their policy's name, so its address tells policy sets apart cheaply.
    let key = results.first().map(|first| Arc::as_ptr(&first.name).cast::<u8>());
    let Ok(answer) = recall(&RECENT_POLICIES, key, matches, use_it, || Ok::<_, Infallible>(describe(results)));
    answer
}

fn describe(results: &[LimitResult]) -> Described {
    let mut policies = String::with_capacity(32 * results.len());
    for (i, result) in results.iter().enumerate() {
        if i > 0 {
            policies.push_str(", ");
        }
        push_sf_string(&mut policies, &result.name);
        push_param(&mut policies, ";q=", result.limit);
        push_param(&mut policies, ";w=", result.window_secs);
    }
    Described { shapes: results.iter().map(PolicyShape::of).collect(), policy: from_string(policies) }
}

/// How many policy sets a thread remembers a description of.
const POLICY_SLOTS: usize = 8;

thread_local! {
    static RECENT_POLICIES: RefCell<Recent<Described>> = RefCell::new(Recent::with_slots(POLICY_SLOTS));
}

/// What the limit fields say about one policy.
struct PolicyShape {
    name: Arc<str>,
    limit: u64,
    window_secs: u64,
    /// `RateLimit` for this policy up to its remaining count: `"<name>";r=`.
    current_prefix: Box<str>,
}

impl PolicyShape {
    fn of(result: &LimitResult) -> PolicyShape {
        let mut current_prefix = String::with_capacity(result.name.len() + 5);
        push_sf_string(&mut current_prefix, &result.name);
        current_prefix.push_str(";r=");
        PolicyShape {
            name: Arc::clone(&result.name),
            limit: result.limit,
            window_secs: result.window_secs,
            current_prefix: current_prefix.into(),
        }
    }

    /// Names are compared by pointer first: results share their policy's name.
    fn describes(&self, result: &LimitResult) -> bool {
        (Arc::ptr_eq(&self.name, &result.name) || self.name == result.name)
            && self.limit == result.limit
            && self.window_secs == result.window_secs
    }
}

/// `;<key>=<n>`, with `n` clamped to an sf-integer.
fn push_param(out: &mut String, key: &str, n: u64) {
    out.push_str(key);
    decimal::push(out, n.min(SF_INTEGER_MAX));
}

/// An sf-string (RFC 8941 §3.3.3): quoted, with `"` and `\` escaped. Only printable ASCII is
/// allowed there, so anything else in a policy name becomes `?` rather than making the whole
/// header invalid.
fn push_sf_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            ' '..='~' => out.push(c),
            _ => out.push('?'),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(fields: &HeaderMap) -> Vec<(HeaderName, String)> {
        fields.iter().map(|(n, v)| (n.clone(), v.to_str().expect("ascii").to_owned())).collect()
    }

    fn headers(decision: &LimitDecision) -> HeaderMap {
        let mut out = HeaderMap::new();
        append_headers(decision, &mut out);
        out
    }

    #[test]
    fn a_remembered_policy_field_is_only_reused_for_the_same_policies() {
        let burst = result("burst", true, 10, 3, 1, 1);
        let mut decision = LimitDecision { results: vec![burst.clone()] };
        let policy = |d: &LimitDecision| text(&headers(d))[0].1.clone();
        assert_eq!(policy(&decision), r#""burst";q=10;w=1"#);
        assert_eq!(policy(&decision), r#""burst";q=10;w=1"#, "served from memory, the same");
        // The same name (the same `Arc`) with another limit, then with another window.
        decision.results[0].limit = 20;
        assert_eq!(policy(&decision), r#""burst";q=20;w=1"#);
        decision.results[0].window_secs = 60;
        assert_eq!(policy(&decision), r#""burst";q=20;w=60"#);
        // A second policy after the same first one.
        decision.results.push(result("daily", true, 1000, 900, 86_400, 5_000));
        assert_eq!(policy(&decision), r#""burst";q=20;w=60, "daily";q=1000;w=86400"#);
        decision.results.pop();
        assert_eq!(policy(&decision), r#""burst";q=20;w=60"#);
        // An equal name in another allocation is the same policy.
        let mut copy = burst;
        copy.name = Arc::from("burst");
        assert_eq!(policy(&LimitDecision { results: vec![copy] }), r#""burst";q=10;w=1"#);
    }

    #[test]
    fn a_remembered_description_reports_whichever_policy_is_tightest() {
        let mut decision = LimitDecision {
            results: vec![result("burst", true, 10, 3, 1, 1), result("daily", true, 1000, 900, 86_400, 5_000)],
        };
        let current = |d: &LimitDecision| text(&headers(d))[1].1.clone();
        assert_eq!(current(&decision), r#""burst";r=3;t=1"#);
        decision.results[0].remaining = 950;
        assert_eq!(current(&decision), r#""daily";r=900;t=5000"#, "the same policies, another tightest");
        decision.results[1].name = Arc::from("dai\"ly");
        assert_eq!(current(&decision), r#""dai\"ly";r=900;t=5000"#, "a renamed policy is described again");
        decision.results[0].remaining = u64::MAX;
        decision.results[1].remaining = u64::MAX;
        assert_eq!(
            current(&decision),
            format!(r#""dai\"ly";r={SF_INTEGER_MAX};t=5000"#),
            "clamped; a tie goes to the longer reset"
        );
    }

    fn sf_string(s: &str) -> String {
        let mut out = String::new();
        push_sf_string(&mut out, s);
        out
    }

    fn result(name: &str, allowed: bool, limit: u64, remaining: u64, window: u64, reset: u64) -> LimitResult {
        let is_quota = window > 1;
        LimitResult { name: name.into(), is_quota, allowed, limit, remaining, window_secs: window, reset_secs: reset }
    }

    #[test]
    fn policy_lists_every_limit_and_ratelimit_the_tightest() {
        let decision = LimitDecision {
            results: vec![result("burst", true, 10, 3, 1, 1), result("daily", true, 1000, 900, 86_400, 5_000)],
        };
        assert_eq!(
            text(&headers(&decision)),
            vec![
                (RATELIMIT_POLICY, r#""burst";q=10;w=1, "daily";q=1000;w=86400"#.to_owned()),
                (RATELIMIT, r#""burst";r=3;t=1"#.to_owned()),
            ]
        );
    }

    #[test]
    fn refused_call_reports_the_refusal_and_retry_after() {
        let decision = LimitDecision {
            results: vec![result("burst", true, 10, 0, 1, 1), result("daily", false, 1000, 0, 86_400, 5_000)],
        };
        let h = text(&headers(&decision));
        assert_eq!(h[1], (RATELIMIT, r#""daily";r=0;t=5000"#.to_owned()));
        assert_eq!(h[2], (RETRY_AFTER, "5000".to_owned()));
    }

    #[test]
    fn policy_names_are_always_valid_sf_strings() {
        assert_eq!(sf_string(r#"a"b\c"#), r#""a\"b\\c""#);
        assert_eq!(sf_string("dé\u{7}"), r#""d??""#);
    }

    #[test]
    fn huge_counts_are_clamped_to_sf_integers() {
        let decision = LimitDecision { results: vec![result("q", true, u64::MAX, u64::MAX, 60, 1)] };
        assert_eq!(text(&headers(&decision))[0].1, format!(r#""q";q={SF_INTEGER_MAX};w=60"#));
    }

    #[test]
    fn no_policies_no_headers() {
        assert!(headers(&LimitDecision::default()).is_empty());
    }
}
