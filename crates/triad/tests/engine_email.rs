//! The engine delivering a page by email over REAL channels (`Channels::from_config`),
//! not the recorder, to a real SMTP server (`triad_testkit::SmtpServer`: aiosmtpd writing
//! a Maildir), the message read back by a parser that is not lettre. Runs on SQLite and
//! on PostgreSQL; the clock is a `ManualClock` that the test moves, and `t.tick()` runs
//! one engine pass.

use triad_notify::router::NotifyConfig;
mod common;

use common::*;
use triad_testkit::{SmtpServer, TestDb, both_backends};

// ---------------------------------------------------------------------------------------
// Email over real SMTP.

both_backends!(
    a_page_reaches_the_account_email_over_smtp,
    |db: TestDb| async move {
        let smtp = SmtpServer::start();
        let mut smtp_config =
            triad_notify::SmtpConfig::new("127.0.0.1", "Triad Pager <triad@example.org>");
        smtp_config.port = smtp.port;
        let notify = NotifyConfig {
            smtp: Some(smtp_config),
            ..NotifyConfig::default()
        };
        let t = spawn(db, None, notify).await;
        // No contact methods: paged at the account email.
        let (erin, _) = t.user("erin@example.com", "Erin Oncall", "responder").await;
        let title = "Checkout failing in Zürich";
        let (inc, path) = declare_paging(&t, &erin, title).await;
        let number = inc["number"].as_i64().expect("numeric incident number");

        let report = t.tick().await;
        assert_eq!(report.delivered, 1, "{report:?}\n{}", smtp.log());
        let n = the_page(&t, &path).await;
        assert_eq!(n["status"], "sent", "{n}\n{}", smtp.log());
        assert_eq!(n["channel"], "email");
        assert_eq!(n["address"], "erin@example.com");

        let files = smtp.wait_for_mail(1).await;
        assert_eq!(files.len(), 1, "{files:?}");
        let mail = smtp.parse(&files[0]);
        assert_eq!(mail["from"], "Triad Pager <triad@example.org>", "{mail:#}");
        assert_eq!(mail["to"], "Erin Oncall <erin@example.com>", "{mail:#}");
        assert_eq!(mail["rcpt"], "erin@example.com", "the envelope recipient");
        let subject = mail["subject"].as_str().unwrap_or_default();
        assert!(subject.contains(title), "{subject}");
        assert!(subject.contains("SEV3"), "{subject}");
        assert_eq!(subject, format!("[SEV3] #{number} {title}"));
        assert_eq!(
            mail["message_id"],
            format!("<{}@triad.local>", n["id"].as_str().unwrap()),
            "{mail:#}"
        );
        assert_eq!(mail["key"], n["idempotency_key"]);
        assert_eq!(mail["date"], "Thu, 01 Jan 2026 00:00:00 +0000");
        assert_eq!(mail["content_type"], "text/plain");
        let body = mail["body"].as_str().unwrap_or_default();
        assert!(body.contains(&format!("incident #{number}")), "{body}");
        assert!(
            body.contains(&format!("triad incident ack {number}")),
            "{body}"
        );
        assert!(body.contains(title), "{body}");

        // Delivered once, not again.
        t.advance(600).await;
        assert_eq!(smtp.delivered().len(), 1, "{:?}", smtp.delivered());
        assert!(events(&t, &path, "notification_failed").await.is_empty());
        assert!(events(&t, &path, "notification_dead").await.is_empty());
        t.stop().await;
        drop(smtp);
    }
);
