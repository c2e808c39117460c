//! The try-it script's helpers (CSV quoting, table detection, request building, status
//! hints, key prefill) pass their tests under Node, run as a real process. Node is what the
//! portal's browser tests run on too, so it is on every machine that runs this suite.

use std::process::Command;

#[test]
fn try_it_script_passes_its_node_tests() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/js");
    let output = Command::new("node").arg("--test").arg(dir).output().expect("node runs (install nodejs)");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    assert!(stdout.contains("# fail 0") && !stdout.contains("# pass 0"), "{stdout}");
}
