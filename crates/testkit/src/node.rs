//! Runs a Node.js snippet with real npm clients (the `statuspage.io` package), bounded
//! by the same timeout as the Python snippets.
//!
//! The packages live in `target/npm/node_modules` of the workspace; `.ci/run`
//! installs them there with `npm install --prefix target/npm …`. Nothing is fetched
//! at test time: a missing package fails the test with the command that installs it.

use crate::python::run_bounded;
use std::path::PathBuf;
use std::process::{Command, Output};

/// Where the npm packages the tests use are installed.
pub fn node_modules() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../target/npm/node_modules")
        .canonicalize()
        .unwrap_or_else(|_| PathBuf::from("target/npm/node_modules"))
}

/// Runs `node -e script args…` with `package` resolvable; panics with the install
/// command if it is not installed, or if `node` is missing.
pub fn run_node(package: &str, script: &str, args: &[&str]) -> Output {
    let modules = node_modules();
    assert!(
        modules.join(package).join("package.json").is_file(),
        "the npm package {package} is not installed in {}; install it with .ci/run (npm install --prefix target/npm {package}@<version>)",
        modules.display()
    );
    let mut cmd = Command::new("node");
    cmd.arg("-e")
        .arg(script)
        .arg("--")
        .args(args)
        .env("NODE_PATH", &modules);
    run_bounded(cmd, "node")
}
