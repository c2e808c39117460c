//! Every input the fuzzers keep (`fuzz/seeds/<target>/`: hand-written seeds and inputs that
//! once failed; `fuzz/corpus/<target>/`: what libFuzzer found while exploring) replayed
//! through the same entry points on stable Rust, so a regression in the parsers shows up in
//! `cargo test`, not only in a fuzzing run.
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;

use gatehouse_native::fuzzing;

fn replay(target: &str, run: fn(&[u8])) {
    let fuzz = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fuzz");
    for kind in ["seeds", "corpus"] {
        let dir = fuzz.join(kind).join(target);
        let mut inputs = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let data = std::fs::read(&path).unwrap();
            let outcome = std::panic::catch_unwind(|| run(&data));
            assert!(outcome.is_ok(), "{target}: {} fails", path.display());
            inputs += 1;
        }
        assert!(inputs >= 5, "{target}: {} holds only {inputs} inputs", dir.display());
    }
}

#[test]
fn the_request_head_corpus_parses_the_same_whole_and_split() {
    replay("request_head", fuzzing::request_head);
}

#[test]
fn the_chunked_corpus_decodes_the_same_whole_split_and_byte_by_byte() {
    replay("chunked", fuzzing::chunked);
}

#[test]
fn the_response_corpus_decodes_the_same_whole_and_split() {
    replay("response", fuzzing::response);
}
