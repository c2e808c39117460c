//! A sensitivity class's name: `pii`, `confidential`, or a provider's own (`health-records`).
//! Names travel in headers (the classes withheld from a response), cache keys and URLs, so
//! they are kept to lower-case letters, digits and hyphens.

/// Longest class name accepted.
pub const MAX_CLASS_CHARS: usize = 40;

/// Why `name` cannot be a class name, if it cannot.
pub fn check_class(name: &str) -> Result<(), String> {
    if name.is_empty() || name.len() > MAX_CLASS_CHARS {
        return Err(format!("a class name has 1 to {MAX_CLASS_CHARS} characters"));
    }
    let allowed = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-';
    if !name.chars().all(allowed) || name.starts_with('-') || name.ends_with('-') {
        return Err(format!("{name:?} is not a class name: lower-case letters, digits and inner hyphens only"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::check_class;

    #[test]
    fn class_names_are_lower_case_words_with_inner_hyphens() {
        for good in ["pii", "confidential", "health-records", "tier2"] {
            assert_eq!(check_class(good), Ok(()), "{good}");
        }
        for bad in ["", "PII", "pii data", "-pii", "pii-", "pii,phi", &"x".repeat(41)] {
            assert!(check_class(bad).is_err(), "{bad:?}");
        }
    }
}
