//! Runs a snippet of Python with a real third-party client (`pdpyras`, `opsgenie_sdk`,
//! …) in the first Python that can import it, bounded by a timeout.
//!
//! The snippets print JSON on stdout for the test to check; anything a library warns
//! about goes to stderr (pdpyras 5.4 warns that it is deprecated on import).

use crate::python_with;
use std::io::Read;
use std::process::{Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

/// How long a snippet may run before it is killed (by pid).
pub const PYTHON_TIMEOUT: Duration = Duration::from_secs(60);

/// Runs `python -c script args…` with the first Python that can import `module` (see
/// [`python_with`]) and returns what it printed and how it ended. Blocking. A run that
/// outlives [`PYTHON_TIMEOUT`] is killed by pid; its status is then the kill signal and
/// its stderr ends with a line saying so.
pub fn run_python(module: &str, script: &str, args: &[&str]) -> Output {
    let python = python_with(module);
    let mut cmd = Command::new(&python);
    cmd.arg("-c").arg(script).args(args);
    run_bounded(cmd, &python.display().to_string())
}

/// Runs `cmd` with no stdin, collecting stdout and stderr; kills it by pid after
/// [`PYTHON_TIMEOUT`] (its stderr then ends with a line saying so). Blocking.
pub fn run_bounded(mut cmd: Command, what: &str) -> Output {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("run {what}: {e}"));
    // Drained on their own threads so a chatty child never blocks on a full pipe.
    let drain = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = pipe.read_to_end(&mut bytes);
            bytes
        })
    };
    let stdout = drain(Box::new(child.stdout.take().unwrap()));
    let stderr = drain(Box::new(child.stderr.take().unwrap()));
    let started = Instant::now();
    let (status, timed_out): (ExitStatus, bool) = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break (status, false);
        }
        if started.elapsed() >= PYTHON_TIMEOUT {
            let _ = child.kill();
            break (child.wait().unwrap(), true);
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let stdout = stdout.join().unwrap();
    let mut stderr = stderr.join().unwrap();
    if timed_out {
        stderr.extend_from_slice(
            format!("\n[triad-testkit: killed after {PYTHON_TIMEOUT:?}]\n").as_bytes(),
        );
    }
    Output {
        status,
        stdout,
        stderr,
    }
}

/// Like [`run_python`], asserting that the snippet succeeded; returns its stdout.
/// Panics with the status, stderr and stdout otherwise.
pub fn run_python_ok(module: &str, script: &str, args: &[&str]) -> String {
    let out = run_python(module, script, args);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "python ({module}) failed with {}\n--- stderr\n{}\n--- stdout\n{stdout}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}
