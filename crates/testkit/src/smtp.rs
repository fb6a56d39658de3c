//! A real SMTP server for email tests: aiosmtpd on 127.0.0.1 writing a Maildir, started
//! with the first Python that can import it, killed (by pid) when dropped; its messages
//! are read back with Python's `email` package.

use serde_json::Value;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The first Python among `$TRIAD_TEST_PYTHON`, `python3` and `/usr/bin/python3` that
/// can import `module` (`python3` may be a pyenv shim without Debian's packages).
pub fn python_with(module: &str) -> PathBuf {
    let candidates: Vec<PathBuf> = std::env::var_os("TRIAD_TEST_PYTHON")
        .map(PathBuf::from)
        .into_iter()
        .chain(["python3", "/usr/bin/python3"].map(PathBuf::from))
        .collect();
    candidates
        .iter()
        .find(|python| {
            Command::new(python)
                .args(["-c", &format!("import {module}")])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        })
        .cloned()
        .unwrap_or_else(|| {
            panic!(
                "no Python among {candidates:?} can import {module}: install it (aiosmtpd: \
                 `apt-get install python3-aiosmtpd`; icalendar, pdpyras, opsgenie_sdk: \
                 `python3 -m pip install` the versions .ci/run pins) or point \
                 TRIAD_TEST_PYTHON at a Python that has it"
            )
        })
}

/// aiosmtpd on 127.0.0.1, storing what it receives in a Maildir; its process (and only
/// it, by pid) is killed when dropped.
pub struct SmtpServer {
    child: Child,
    /// The port it listens on, on 127.0.0.1.
    pub port: u16,
    python: PathBuf,
    dir: tempfile::TempDir,
}

impl SmtpServer {
    /// Starts the server and waits (at most 30 s) until it listens.
    pub fn start() -> SmtpServer {
        let python = python_with("aiosmtpd");
        let dir = tempfile::tempdir().unwrap();
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let log = std::fs::File::create(dir.path().join("server.log")).unwrap();
        let child = Command::new(&python)
            .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}")])
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            // The handler creates the Maildir itself; the folder must not exist yet.
            .arg(dir.path().join("maildir"))
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("start aiosmtpd");
        let mut server = SmtpServer {
            child,
            port,
            python,
            dir,
        };
        // The server's own start-up, polled for at most 30 s.
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Some(status) = server.child.try_wait().unwrap() {
                panic!("aiosmtpd exited with {status}: {}", server.log());
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "aiosmtpd did not listen on 127.0.0.1:{port} within 30 s: {}",
                server.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        server
    }

    /// What the server wrote to stdout and stderr so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
    }

    /// The messages in the Maildir now.
    pub fn delivered(&self) -> Vec<PathBuf> {
        std::fs::read_dir(self.dir.path().join("maildir").join("new"))
            .map(|d| d.map(|e| e.unwrap().path()).collect())
            .unwrap_or_default()
    }

    /// Waits (at most 10 s) until the Maildir holds `count` messages; returns them.
    pub async fn wait_for_mail(&self, count: usize) -> Vec<PathBuf> {
        let new = self.dir.path().join("maildir").join("new");
        let started = Instant::now();
        loop {
            let files = self.delivered();
            if files.len() >= count {
                return files;
            }
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "{} message(s) in {} after 10 s, expected {count}: {}",
                files.len(),
                new.display(),
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// A stored message, read by Python's email package (a parser that is not lettre):
    /// `from`, `to`, `subject`, `date`, `message_id`, `key` (`X-Triad-Idempotency-Key`),
    /// `rcpt` (`X-RcptTo`, the envelope recipient), `content_type` and `body`.
    pub fn parse(&self, file: &Path) -> Value {
        let script = "import email, email.policy, json, sys\n\
                      m = email.message_from_binary_file(open(sys.argv[1], 'rb'), policy=email.policy.default)\n\
                      h = lambda n: None if m[n] is None else str(m[n])\n\
                      print(json.dumps({'from': h('From'), 'to': h('To'), 'subject': h('Subject'),\n\
                      'date': h('Date'), 'message_id': h('Message-ID'),\n\
                      'key': h('X-Triad-Idempotency-Key'), 'rcpt': h('X-RcptTo'),\n\
                      'content_type': m.get_content_type(), 'body': m.get_content()}))";
        let out = Command::new(&self.python)
            .args(["-c", script])
            .arg(file)
            .output()
            .expect("run python");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
