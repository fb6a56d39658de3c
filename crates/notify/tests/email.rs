//! Email against a real SMTP server (aiosmtpd writing to a Maildir), and against a
//! scripted one for the SMTP replies that decide between retrying and giving up.

mod support;

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use support::{NOW, closed_port, message};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use triad_notify::email::{EmailNotifier, SmtpConfig, SmtpTls};
use triad_notify::{Channel, Notifier, Outcome};

/// The first Python that can import aiosmtpd: `$TRIAD_TEST_PYTHON`, `python3`, then the
/// system's `/usr/bin/python3` (where Debian's python3-aiosmtpd installs).
fn python_with_aiosmtpd() -> PathBuf {
    let candidates: Vec<PathBuf> = std::env::var_os("TRIAD_TEST_PYTHON")
        .map(PathBuf::from)
        .into_iter()
        .chain(["python3", "/usr/bin/python3"].map(PathBuf::from))
        .collect();
    for python in &candidates {
        let ok = Command::new(python)
            .args(["-c", "import aiosmtpd"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if ok {
            return python.clone();
        }
    }
    panic!(
        "the email tests need a real SMTP server, and no Python among {candidates:?} can \
         import aiosmtpd: install it with `apt-get install python3-aiosmtpd` (CI does this \
         in .ci/run), or point TRIAD_TEST_PYTHON at a Python that has it"
    );
}

/// aiosmtpd on 127.0.0.1, storing what it receives in a Maildir; killed when dropped.
struct SmtpServer {
    child: Child,
    port: u16,
    python: PathBuf,
    dir: tempfile::TempDir,
}

impl SmtpServer {
    fn start() -> SmtpServer {
        let python = python_with_aiosmtpd();
        let dir = tempfile::tempdir().unwrap();
        let port = closed_port();
        let log = std::fs::File::create(dir.path().join("server.log")).unwrap();
        let child = Command::new(&python)
            .args(["-m", "aiosmtpd", "-n", "-l"])
            .arg(format!("127.0.0.1:{port}"))
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            // The handler creates the Maildir only when the folder does not exist yet.
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
        server.wait_until_listening();
        server
    }

    /// Polls the port until it accepts connections (the server's own start-up, not a
    /// timer of ours); fails if the server exits or takes longer than 30 s.
    fn wait_until_listening(&mut self) {
        let started = Instant::now();
        loop {
            if TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return;
            }
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!("aiosmtpd exited with {status}: {}", self.log());
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "aiosmtpd did not listen on port {} within 30 s: {}",
                self.port,
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
    }

    fn config(&self) -> SmtpConfig {
        let mut config = SmtpConfig::new("127.0.0.1", "Triad Pager <triad@example.org>");
        config.port = self.port;
        config.message_id_domain = "triad.example.org".to_string();
        config
    }

    /// The messages delivered so far, oldest first.
    fn delivered(&self) -> Vec<PathBuf> {
        let new = self.dir.path().join("maildir").join("new");
        let mut files: Vec<PathBuf> = std::fs::read_dir(&new)
            .map(|entries| entries.map(|e| e.unwrap().path()).collect())
            .unwrap_or_default();
        files.sort_by_key(|p| std::fs::metadata(p).unwrap().modified().unwrap());
        files
    }

    /// Parses a stored message with Python's own email package, so header decoding
    /// (encoded words, quoted-printable) is checked by a parser that is not lettre.
    fn parse(&self, path: &Path) -> serde_json::Value {
        let script = r#"
import email, email.policy, json, sys
with open(sys.argv[1], 'rb') as f:
    m = email.message_from_binary_file(f, policy=email.policy.default)
print(json.dumps({
    'from': str(m['From']), 'to': str(m['To']), 'subject': str(m['Subject']),
    'date': str(m['Date']), 'message_id': str(m['Message-ID']),
    'key': str(m['X-Triad-Idempotency-Key']), 'content_type': m.get_content_type(),
    'charset': m.get_content_charset(), 'body': m.get_content(),
}))
"#;
        let out = Command::new(&self.python)
            .args(["-c", script])
            .arg(path)
            .output()
            .unwrap();
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
        // Child::kill signals exactly this child's pid.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The raw value of header `name` in a stored message (unfolded).
fn raw_header(path: &Path, name: &str) -> Option<String> {
    let text = std::fs::read_to_string(path).unwrap().replace("\r\n", "\n");
    let head = text
        .split("\n\n")
        .next()
        .unwrap()
        .replace("\n ", " ")
        .replace("\n\t", " ");
    head.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        key.eq_ignore_ascii_case(name)
            .then(|| value.trim().to_string())
    })
}

#[tokio::test]
async fn delivers_a_plain_text_mail_to_a_real_smtp_server() {
    let server = SmtpServer::start();
    let notifier = EmailNotifier::new(&server.config()).unwrap();
    let mut msg = message(Channel::Email, "ada@example.com");
    msg.subject = "INC-7 SEV1 Zürich checkout is down".to_string();
    msg.text = "Checkout returns 502 in Zürich.\nAcknowledge within 5 minutes: ✓".to_string();

    let outcome = notifier.send(&msg, NOW).await;
    let Outcome::Delivered { detail } = outcome else {
        panic!("expected delivery: {outcome:?}\n{}", server.log());
    };
    assert!(
        detail.as_deref().unwrap_or("").starts_with("250"),
        "{detail:?}"
    );

    let files = server.delivered();
    assert_eq!(files.len(), 1, "{files:?}");
    let mail = server.parse(&files[0]);
    assert_eq!(mail["from"], "Triad Pager <triad@example.org>");
    assert_eq!(mail["to"], "Ada Lovelace <ada@example.com>");
    assert_eq!(mail["subject"], "INC-7 SEV1 Zürich checkout is down");
    assert_eq!(mail["date"], "Tue, 14 Nov 2023 22:13:15 +0000");
    assert_eq!(
        mail["message_id"],
        "<0190f3a4-5b6c-7d8e-9f01-23456789abcd@triad.example.org>"
    );
    assert_eq!(mail["key"], "incident:INC-7:page:1");
    assert_eq!(mail["content_type"], "text/plain");
    assert_eq!(mail["charset"], "utf-8");
    assert_eq!(
        mail["body"]
            .as_str()
            .unwrap()
            .replace("\r\n", "\n")
            .trim_end(),
        msg.text
    );

    // The same headers as they are on the wire.
    assert_eq!(
        raw_header(&files[0], "Message-ID").as_deref(),
        Some("<0190f3a4-5b6c-7d8e-9f01-23456789abcd@triad.example.org>")
    );
    assert_eq!(
        raw_header(&files[0], "Date").as_deref(),
        Some("Tue, 14 Nov 2023 22:13:15 +0000")
    );
    // aiosmtpd records the envelope: the sender and recipient lettre derived.
    assert_eq!(
        raw_header(&files[0], "X-MailFrom").as_deref(),
        Some("triad@example.org")
    );
    assert_eq!(
        raw_header(&files[0], "X-RcptTo").as_deref(),
        Some("ada@example.com")
    );
}

#[tokio::test]
async fn a_retry_keeps_the_message_id() {
    let server = SmtpServer::start();
    let notifier = EmailNotifier::new(&server.config()).unwrap();
    let mut msg = message(Channel::Email, "ops@example.com");
    msg.recipient_name = None;
    for now in [NOW, NOW + 60_000] {
        let outcome = notifier.send(&msg, now).await;
        assert!(matches!(outcome, Outcome::Delivered { .. }), "{outcome:?}");
    }
    let files = server.delivered();
    assert_eq!(files.len(), 2);
    let ids: Vec<_> = files
        .iter()
        .map(|f| server.parse(f)["message_id"].clone())
        .collect();
    assert_eq!(ids[0], ids[1]);
    assert_eq!(server.parse(&files[0])["to"], "ops@example.com");
}

#[tokio::test]
async fn a_closed_port_is_retried() {
    let mut config = SmtpConfig::new("127.0.0.1", "triad@example.org");
    config.port = closed_port();
    let outcome = EmailNotifier::new(&config)
        .unwrap()
        .send(&message(Channel::Email, "ada@example.com"), NOW)
        .await;
    assert!(matches!(outcome, Outcome::Retry { .. }), "{outcome:?}");
}

#[tokio::test]
async fn an_invalid_address_is_rejected_before_connecting() {
    let mut config = SmtpConfig::new("127.0.0.1", "triad@example.org");
    config.port = closed_port();
    for address in ["not-an-address", "ada@", "+4915112345678"] {
        let outcome = EmailNotifier::new(&config)
            .unwrap()
            .send(&message(Channel::Email, address), NOW)
            .await;
        let Outcome::Rejected { error } = outcome else {
            panic!("{address:?} must be rejected: {outcome:?}");
        };
        assert!(error.contains("not an email address"), "{error}");
    }
}

/// An SMTP server that answers RCPT TO with `rcpt_reply` and everything else with
/// success; returns its port.
async fn scripted_smtp(rcpt_reply: &'static str) -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let (read, mut write) = stream.into_split();
                let mut lines = BufReader::new(read).lines();
                write.write_all(b"220 scripted ESMTP\r\n").await.unwrap();
                while let Ok(Some(line)) = lines.next_line().await {
                    let verb = line
                        .split_whitespace()
                        .next()
                        .unwrap_or("")
                        .to_ascii_uppercase();
                    let reply = match verb.as_str() {
                        "EHLO" | "HELO" => "250 scripted",
                        "RCPT" => rcpt_reply,
                        "QUIT" => "221 bye",
                        _ => "250 ok",
                    };
                    if write
                        .write_all(format!("{reply}\r\n").as_bytes())
                        .await
                        .is_err()
                    {
                        break;
                    }
                    if verb == "QUIT" {
                        break;
                    }
                }
            });
        }
    });
    port
}

#[tokio::test]
async fn smtp_5xx_is_rejected_and_4xx_retried() {
    for (reply, retry) in [
        ("550 5.1.1 no such user", false),
        ("451 4.3.0 try again later", true),
    ] {
        let mut config = SmtpConfig::new("127.0.0.1", "triad@example.org");
        config.port = scripted_smtp(reply).await;
        config.tls = Some(SmtpTls::None);
        let outcome = EmailNotifier::new(&config)
            .unwrap()
            .send(&message(Channel::Email, "ada@example.com"), NOW)
            .await;
        match (&outcome, retry) {
            (Outcome::Retry { error, .. }, true) | (Outcome::Rejected { error }, false) => {
                assert!(error.contains(&reply[..3]), "{error}");
            }
            _ => panic!("{reply}: {outcome:?}"),
        }
    }
}
