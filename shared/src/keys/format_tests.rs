use proptest::prelude::*;

use super::*;

fn key(env: KeyEnv, seed: u8) -> ParsedKey {
    let mut random = [0u8; RANDOM_BYTES];
    for (i, b) in random.iter_mut().enumerate() {
        *b = seed.wrapping_mul(31).wrapping_add(i as u8);
    }
    generate(env, &random)
}

#[test]
fn checksum_digits_are_the_base62_of_the_crc() {
    for body in ["", "gh_live_x", "gh_test_000000000000000000000000000000000"] {
        let expected = base62(&crate::keys::crc32::crc32(body.as_bytes()).to_be_bytes());
        assert_eq!(checksum(body.as_bytes()).as_slice(), expected.as_bytes(), "{body:?}");
    }
}

#[test]
fn base62_is_fixed_width_and_keeps_leading_zeros() {
    assert_eq!(base62(&[]), "");
    assert_eq!(base62(&[0]), "00");
    assert_eq!(base62(&[61]), "0z");
    assert_eq!(base62(&[62]), "10");
    assert_eq!(base62(&[0xFF]), "47");
    assert_eq!(base62(&[0, 0, 1]), "00001");
    assert_eq!(base62(&[0; 24]).len(), base62(&[0xFF; 24]).len());
    assert_eq!(base62(&[0xFF; 24]).len(), 33);
}

#[test]
fn every_generated_key_has_the_same_length_and_parses_back() {
    for random in [[0u8; RANDOM_BYTES], [0xFF; RANDOM_BYTES], [1; RANDOM_BYTES]] {
        for env in [KeyEnv::Live, KeyEnv::Test] {
            let k = generate(env, &random);
            assert_eq!(k.secret().len(), KEY_LEN);
            assert_eq!(parse(k.secret()), Ok(k.clone()));
        }
    }
}

#[test]
fn listing_shows_env_prefix_and_last_four_only() {
    let k = key(KeyEnv::Live, 3);
    assert_eq!(k.display_prefix(), "gh_live_");
    assert_eq!(key(KeyEnv::Test, 3).display_prefix(), "gh_test_");
    assert_eq!(k.last4(), k.secret()[KEY_LEN - 4..]);
    assert!(k.secret().starts_with("gh_live_"));
}

#[test]
fn debug_output_never_contains_the_secret() {
    let k = key(KeyEnv::Live, 9);
    let printed = format!("{k:?}");
    assert!(!printed.contains(k.secret()), "{printed}");
    assert!(!printed.contains(&k.secret()[8..20]), "{printed}");
}

#[test]
fn mistyped_key_is_rejected_by_checksum_without_lookup() {
    let k = key(KeyEnv::Live, 1);
    let mut typo = k.secret().to_owned().into_bytes();
    typo[10] = if typo[10] == b'a' { b'b' } else { b'a' };
    let typo = String::from_utf8(typo).expect("ascii");
    assert_eq!(parse(&typo), Err(KeyFormatError::Checksum));
}

#[test]
fn check_accepts_what_parse_accepts_and_tells_the_environment() {
    for env in [KeyEnv::Live, KeyEnv::Test] {
        assert_eq!(check(key(env, 3).secret()), Ok(env));
    }
    assert_eq!(check("gh_live_short"), Err(KeyFormatError::Shape));
}

#[test]
fn test_key_cannot_be_relabelled_live() {
    let k = key(KeyEnv::Test, 5);
    let relabelled = k.secret().replacen("gh_test_", "gh_live_", 1);
    assert_eq!(parse(&relabelled), Err(KeyFormatError::Checksum));
}

#[test]
fn every_single_character_change_is_caught() {
    let k = key(KeyEnv::Live, 7);
    let original = k.secret().as_bytes();
    let candidates: Vec<u8> = (0x20u8..0x7F).collect();
    for pos in 0..original.len() {
        for &c in candidates.iter().filter(|&&c| c != original[pos]) {
            let mut changed = original.to_vec();
            changed[pos] = c;
            let changed = String::from_utf8(changed).expect("ascii");
            assert!(parse(&changed).is_err(), "change at {pos} to {:?} passed", char::from(c));
            assert_eq!(check(&changed).err(), parse(&changed).err(), "check and parse agree");
        }
    }
}

#[test]
fn adjacent_swaps_are_caught() {
    let k = key(KeyEnv::Test, 11);
    let original = k.secret().as_bytes();
    for pos in 0..original.len() - 1 {
        if original[pos] == original[pos + 1] {
            continue;
        }
        let mut swapped = original.to_vec();
        swapped.swap(pos, pos + 1);
        let swapped = String::from_utf8(swapped).expect("ascii");
        assert!(parse(&swapped).is_err(), "swap at {pos} passed");
    }
}

#[test]
fn wrong_shape_is_refused_as_shape() {
    let good = key(KeyEnv::Live, 2).secret().to_owned();
    let cases = [
        String::new(),
        format!("{good}x"),
        good[1..].to_owned(),
        good.replacen("gh_", "gx_", 1),
        good.replacen("_live_", "_prod_", 1),
        good.replacen("_live_", "-live_", 1),
        format!("{}_{}", &good[..20], &good[21..]),
        format!("{}-{}", &good[..20], &good[21..]),
        format!("{}é{}", &good[..20], &good[22..]),
        " ".repeat(KEY_LEN),
        "_".repeat(KEY_LEN),
    ];
    for case in cases {
        assert_eq!(parse(&case), Err(KeyFormatError::Shape), "{case:?}");
    }
}

/// The shape rule as the documentation states it, by splitting on `_`: what [`check`]'s
/// fixed offsets must agree with.
fn check_by_split(candidate: &str) -> Result<KeyEnv, KeyFormatError> {
    if candidate.len() != KEY_LEN || !candidate.is_ascii() {
        return Err(KeyFormatError::Shape);
    }
    let parts: Vec<&str> = candidate.split('_').collect();
    let [prefix, env, random, sum] = parts[..] else {
        return Err(KeyFormatError::Shape);
    };
    let env = KeyEnv::from_segment(env).ok_or(KeyFormatError::Shape)?;
    let is_base62 = |s: &str, len: usize| s.len() == len && s.bytes().all(|b| b.is_ascii_alphanumeric());
    if prefix != KEY_PREFIX || !is_base62(random, RANDOM_CHARS) || !is_base62(sum, CHECKSUM_CHARS) {
        return Err(KeyFormatError::Shape);
    }
    let body = &candidate[..candidate.len() - CHECKSUM_CHARS - 1];
    if checksum(body.as_bytes()) != sum.as_bytes() {
        return Err(KeyFormatError::Checksum);
    }
    Ok(env)
}

proptest! {
    /// Keys with segments moved, resized, emptied or merged, and any character anywhere.
    #[test]
    fn fixed_offsets_agree_with_splitting_on_underscores(
        seed in any::<u8>(),
        cut in 0..KEY_LEN,
        insert in "[_a-zA-Z0-9\u{e9}]{0,3}",
        remove in 0..4usize,
    ) {
        let valid = key(KeyEnv::Test, seed).secret().to_owned();
        let mut edited: String = valid.chars().take(cut).collect();
        edited.push_str(&insert);
        edited.extend(valid.chars().skip(cut + remove));
        prop_assert_eq!(check(&edited), check_by_split(&edited), "{}", edited);
    }

    #[test]
    fn parse_never_panics_on_arbitrary_text(s in "\\PC{0,80}") {
        let _ = parse(&s);
    }

    #[test]
    fn parse_never_panics_on_key_length_multibyte_text(s in "[a-z_\u{e9}\u{1F600}]{10,48}") {
        let _ = parse(&s);
    }

    #[test]
    fn a_corrupted_key_never_parses(seed in any::<u8>(), pos in 0..KEY_LEN, c in any::<char>()) {
        let k = key(KeyEnv::Live, seed);
        let mut chars: Vec<char> = k.secret().chars().collect();
        prop_assume!(chars[pos] != c);
        chars[pos] = c;
        let corrupted: String = chars.into_iter().collect();
        prop_assert!(parse(&corrupted).is_err());
    }

    #[test]
    fn any_random_bytes_give_a_key_that_parses(random in any::<[u8; RANDOM_BYTES]>(), live in any::<bool>()) {
        let env = if live { KeyEnv::Live } else { KeyEnv::Test };
        let k = generate(env, &random);
        prop_assert_eq!(parse(k.secret()), Ok(k.clone()));
    }
}
