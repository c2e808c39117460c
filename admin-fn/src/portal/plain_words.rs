//! Limits in words a person reads at a glance ("10,000 calls a day, bursts of 20"), for the
//! catalog's plans and the usage page.

use gatehouse_core::limits::{LimitKind, LimitPolicy, LimitScope, QuotaWindow};

/// `1234567` → `1,234,567`.
pub(crate) fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn calls(n: u64) -> String {
    match n {
        1 => "1 call".to_owned(),
        n => format!("{} calls", thousands(n)),
    }
}

fn per_period(secs: u32) -> String {
    match secs {
        1 => "a second".to_owned(),
        60 => "a minute".to_owned(),
        3600 => "an hour".to_owned(),
        86_400 => "a day".to_owned(),
        s if s % 86_400 == 0 => format!("every {} days", s / 86_400),
        s if s % 3600 == 0 => format!("every {} hours", s / 3600),
        s if s % 60 == 0 => format!("every {} minutes", s / 60),
        s => format!("every {s} seconds"),
    }
}

fn window(w: QuotaWindow) -> &'static str {
    match w {
        QuotaWindow::Minute => "a minute",
        QuotaWindow::Hour => "an hour",
        QuotaWindow::Day => "a day",
        QuotaWindow::Month => "a month",
    }
}

fn whose(scope: LimitScope) -> &'static str {
    match scope {
        LimitScope::Key => "per key",
        LimitScope::App => "per app",
        LimitScope::Developer => "per developer (per organisation for an organisation's app)",
        LimitScope::Group => "shared by your tier",
    }
}

/// One policy in words.
pub(crate) fn limit(policy: &LimitPolicy) -> String {
    let what = match &policy.kind {
        LimitKind::Rate { limit, period_secs, burst, .. } if *burst > *limit => {
            format!(
                "{} {}, bursts of {}",
                calls(u64::from(*limit)),
                per_period(*period_secs),
                thousands(u64::from(*burst))
            )
        }
        LimitKind::Rate { limit, period_secs, .. } => {
            format!("{} {}", calls(u64::from(*limit)), per_period(*period_secs))
        }
        LimitKind::Quota { limit, window: w, .. } => format!("{} {}", calls(*limit), window(*w)),
    };
    format!("{what} ({})", whose(policy.scope))
}

/// Every policy of a plan in words, or that it has none.
pub(crate) fn limits(policies: &[LimitPolicy]) -> Vec<String> {
    match policies {
        [] => vec!["No limits".to_owned()],
        all => all.iter().map(limit).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(json: &str) -> LimitPolicy {
        serde_json::from_str(json).expect("a policy")
    }

    #[test]
    fn numbers_get_thousands_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000), "1,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }

    #[test]
    fn limits_read_as_a_sentence() {
        let daily = policy(r#"{"name":"daily","scope":"key","type":"quota","limit":10000,"window":"day"}"#);
        assert_eq!(limit(&daily), "10,000 calls a day (per key)");
        let burst = policy(r#"{"name":"burst","scope":"app","type":"rate","limit":10,"period_secs":1,"burst":20}"#);
        assert_eq!(limit(&burst), "10 calls a second, bursts of 20 (per app)");
        let odd = policy(r#"{"name":"slow","scope":"group","type":"rate","limit":1,"period_secs":90,"burst":1}"#);
        assert_eq!(limit(&odd), "1 call every 90 seconds (shared by your tier)");
        assert_eq!(limits(&[]), vec!["No limits"]);
    }
}
