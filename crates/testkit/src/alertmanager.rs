//! A real Prometheus Alertmanager (Debian's `prometheus-alertmanager`, 0.25) for alert
//! intake tests: started by the test on 127.0.0.1 with a port the kernel picks,
//! clustering off, its state in a temporary folder, and killed (by pid) when dropped.
//!
//! Alertmanager sends with its own (wall) clock: a test waits for what it sends by
//! polling the receiving side with a bounded deadline, never by moving a `ManualClock`.
//!
//! The HTTP calls here are blocking (std `TcpStream`, HTTP/1.0, `Connection: close`):
//! they only talk to Alertmanager, which answers by itself, so they are fine inside an
//! async test too (wrap them in `tokio::task::spawn_blocking` on a `current_thread`
//! runtime if a server in the same runtime must keep serving meanwhile).
//!
//! A configuration that routes every alert to a webhook and to PagerDuty Events v2 at a
//! local address (`url` for PagerDuty, and `routing_key`: never `service_key`, which
//! always dials the public PagerDuty host):
//!
//! ```yaml
//! route:
//!   receiver: triad
//!   group_by: [alertname]
//!   group_wait: 1s
//!   group_interval: 1s
//!   repeat_interval: 1h
//! receivers:
//!   - name: triad
//!     webhook_configs:
//!       - url: http://127.0.0.1:PORT/hooks/alertmanager/KEY
//!         send_resolved: true
//!     pagerduty_configs:
//!       - routing_key: 0123456789abcdef0123456789abcdef
//!         url: http://127.0.0.1:PORT/v2/enqueue
//!         send_resolved: true
//! ```
//!
//! Opsgenie works the same way with `opsgenie_configs: [{api_key: …, api_url:
//! http://127.0.0.1:PORT/}]` (the `api_url` must end with `/`).

use serde_json::Value;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Where Debian installs the binary.
const DEBIAN_BINARY: &str = "/usr/bin/prometheus-alertmanager";

/// How long [`Alertmanager::start`] waits for `/-/ready`.
const START_TIMEOUT: Duration = Duration::from_secs(15);

/// The Alertmanager binary: `$TRIAD_TEST_ALERTMANAGER` if set, else Debian's
/// `/usr/bin/prometheus-alertmanager`, else `prometheus-alertmanager` or `alertmanager`
/// on `PATH`; `None` when there is none.
pub fn binary() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("TRIAD_TEST_ALERTMANAGER") {
        return Some(PathBuf::from(path));
    }
    let debian = PathBuf::from(DEBIAN_BINARY);
    if debian.is_file() {
        return Some(debian);
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| ["prometheus-alertmanager", "alertmanager"].map(|name| dir.join(name)))
        .find(|candidate| candidate.is_file())
}

/// A running Alertmanager on 127.0.0.1; its process (and only it, by pid) is killed when
/// dropped.
pub struct Alertmanager {
    /// `http://127.0.0.1:<port>`, without a trailing slash.
    pub base: String,
    /// The port it listens on, on 127.0.0.1.
    pub port: u16,
    child: Child,
    dir: tempfile::TempDir,
}

impl Alertmanager {
    /// Writes `config_yaml` to a temporary folder and starts Alertmanager on it,
    /// listening on a free 127.0.0.1 port with that address as its external URL (the
    /// `externalURL` and PagerDuty `client_url` it sends), `--cluster.listen-address=`
    /// (clustering off: nothing binds 9094), and debug logging; waits (at most 15 s)
    /// until `GET /-/ready` answers 200. Panics with the log when the binary is missing,
    /// the config is rejected, or it does not become ready.
    ///
    /// The port is one the kernel picked for a listener that is closed again just before
    /// Alertmanager binds it (Alertmanager must know its address up front for its
    /// external URL); should another process take it in between, Alertmanager exits
    /// saying so and is started again on another port.
    pub fn start(config_yaml: &str) -> Alertmanager {
        let binary = binary().unwrap_or_else(|| {
            panic!(
                "Alertmanager is not installed (no {DEBIAN_BINARY}, none on PATH, \
                 TRIAD_TEST_ALERTMANAGER unset): install it: apt-get install \
                 prometheus-alertmanager; .ci/run does"
            )
        });
        let mut attempts = 0;
        loop {
            attempts += 1;
            let mut am = Self::launch(&binary, config_yaml);
            if am.wait_until_ready(attempts < 5) {
                return am;
            }
        }
    }

    fn launch(binary: &Path, config_yaml: &str) -> Alertmanager {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("alertmanager.yml");
        std::fs::write(&config, config_yaml).unwrap();
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let base = format!("http://127.0.0.1:{port}");
        let log = std::fs::File::create(dir.path().join("alertmanager.log")).unwrap();
        let child = Command::new(binary)
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.path={}",
                dir.path().join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .arg(format!("--web.external-url={base}"))
            .arg("--cluster.listen-address=")
            .arg("--log.level=debug")
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("start {}: {e}", binary.display()));
        Alertmanager {
            base,
            port,
            child,
            dir,
        }
    }

    /// Polls `/-/ready` for at most 15 s: true once ready; false when the process exited
    /// because its port was taken and `may_retry`; panics with the log otherwise.
    fn wait_until_ready(&mut self, may_retry: bool) -> bool {
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                let log = self.log();
                if may_retry && log.contains("address already in use") {
                    return false;
                }
                panic!("Alertmanager exited with {status}:\n{log}");
            }
            // Its own log says it bound the port, so what answers there is this process.
            let listening = format!("msg=\"Listening on\" address=127.0.0.1:{}", self.port);
            if self.log().contains(&listening)
                && matches!(self.request("GET", "/-/ready", None), Ok((200, _)))
            {
                return true;
            }
            assert!(
                started.elapsed() < START_TIMEOUT,
                "Alertmanager was not ready on {} within {START_TIMEOUT:?}:\n{}",
                self.base,
                self.log()
            );
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    /// Posts `alerts` (a JSON array of `{"labels", "annotations", "startsAt", "endsAt",
    /// "generatorURL"}`, as Alertmanager's v2 API takes it) to `/api/v2/alerts`, and
    /// asserts 200. An alert without `startsAt` starts at Alertmanager's now; one whose
    /// `endsAt` has passed is resolved.
    pub fn push(&self, alerts: &Value) {
        let body = serde_json::to_vec(alerts).unwrap();
        match self.request("POST", "/api/v2/alerts", Some(&body)) {
            Ok((200, _)) => {}
            Ok((status, text)) => panic!(
                "POST /api/v2/alerts answered {status}: {text}\nalerts: {alerts}\n{}",
                self.log()
            ),
            Err(e) => panic!("POST /api/v2/alerts: {e}\n{}", self.log()),
        }
    }

    /// Alertmanager's current (unresolved) alerts, from `GET /api/v2/alerts`: each with
    /// `labels`, `annotations`, `startsAt`, `endsAt`, `fingerprint`, `status`, ….
    pub fn alerts(&self) -> Value {
        let (status, text) = self.get("/api/v2/alerts");
        assert_eq!(status, 200, "GET /api/v2/alerts: {text}");
        serde_json::from_str(&text).unwrap()
    }

    /// Resolves the alert whose labels are exactly `labels` by pushing it again with
    /// `endsAt` = the `startsAt` Alertmanager gave it (so, in the past by its clock; no
    /// wall clock is read here). Panics when there is no such alert.
    pub fn resolve(&self, labels: &Value) {
        let alerts = self.alerts();
        let alert = alerts
            .as_array()
            .into_iter()
            .flatten()
            .find(|a| a["labels"] == *labels)
            .unwrap_or_else(|| panic!("no alert with labels {labels} in {alerts}"));
        let mut resolved = serde_json::json!({
            "labels": alert["labels"],
            "annotations": alert["annotations"],
            "startsAt": alert["startsAt"],
            "endsAt": alert["startsAt"],
        });
        if let Some(url) = alert.get("generatorURL") {
            resolved["generatorURL"] = url.clone();
        }
        self.push(&Value::Array(vec![resolved]));
    }

    /// `GET path` on Alertmanager; the status and the body.
    pub fn get(&self, path: &str) -> (u16, String) {
        self.request("GET", path, None)
            .unwrap_or_else(|e| panic!("GET {path}: {e}\n{}", self.log()))
    }

    /// What Alertmanager wrote to stdout and stderr so far (debug level: it logs each
    /// notification attempt and its error).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("alertmanager.log")).unwrap_or_default()
    }

    /// One HTTP/1.0 request (so the answer is never chunked and the connection closes).
    fn request(
        &self,
        method: &str,
        path: &str,
        body: Option<&[u8]>,
    ) -> std::io::Result<(u16, String)> {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port))?;
        stream.set_read_timeout(Some(Duration::from_secs(10)))?;
        stream.set_write_timeout(Some(Duration::from_secs(10)))?;
        let body = body.unwrap_or_default();
        let head = format!(
            "{method} {path} HTTP/1.0\r\nHost: 127.0.0.1:{}\r\nAccept: application/json\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            self.port,
            body.len()
        );
        stream.write_all(head.as_bytes())?;
        stream.write_all(body)?;
        let mut response = Vec::new();
        stream.read_to_end(&mut response)?;
        let response = String::from_utf8_lossy(&response);
        let (head, text) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
        let status = head
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| std::io::Error::other(format!("not an HTTP answer: {response}")))?;
        Ok((status, text.to_string()))
    }
}

impl Drop for Alertmanager {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
