//! libFuzzer target: `gatehouse_native::fuzzing::request_head` (see that module for what it checks).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| gatehouse_native::fuzzing::request_head(data));
