//! Email subscriptions to the status page through a real SMTP server (aiosmtpd): subscribe,
//! follow the confirmation link from the email, receive a public update, follow the
//! one-click unsubscribe link, receive nothing more. Each step over real HTTP and SMTP,
//! the mail read back by Python's email parser. SQLite and PostgreSQL.

mod common;
mod status_common;

use reqwest::Method;
use serde_json::{Value, json};
use status_common::{made, publish, put};
use triad_notify::router::NotifyConfig;
use triad_testkit::{SmtpServer, TestApp, TestDb, both_backends};

/// The URLs in `body` that start with `prefix`.
fn links(body: &str, prefix: &str) -> Vec<String> {
    body.split_whitespace()
        .filter(|w| w.starts_with(prefix))
        .map(str::to_string)
        .collect()
}

/// The one URL in `body` that starts with `prefix`.
fn link(body: &str, prefix: &str) -> String {
    let found = links(body, prefix);
    assert_eq!(found.len(), 1, "one {prefix}… link in:\n{body}");
    found[0].clone()
}

/// Every message delivered so far, parsed, sorted by recipient then subject.
fn mails(smtp: &SmtpServer) -> Vec<Value> {
    let mut all: Vec<Value> = smtp.delivered().iter().map(|f| smtp.parse(f)).collect();
    all.sort_by_key(|m| (m["rcpt"].to_string(), m["subject"].to_string()));
    all
}

async fn subscribe(t: &TestApp, body: Value) -> (u16, Value) {
    t.call(Method::POST, "/status/subscriptions", None, Some(body))
        .await
}

async fn follow(t: &TestApp, url: &str) -> (u16, String) {
    let r = t.http.get(url).send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

/// Follows a confirmation link as a person does: the page shows a button (a GET changes
/// nothing), pressing it POSTs the token back.
async fn confirm(t: &TestApp, url: &str) -> (u16, String) {
    let (s, page) = follow(t, url).await;
    assert_eq!(s, 200, "{page}");
    assert!(
        page.contains("<form method=\"post\"") && page.contains("Confirm"),
        "{page}"
    );
    let r = t.http.post(url).send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

both_backends!(
    subscribe_confirm_receive_unsubscribe,
    |db: TestDb| async move {
        let smtp = SmtpServer::start();
        let mut smtp_config =
            triad_notify::SmtpConfig::new("127.0.0.1", "Status <status@example.org>");
        smtp_config.port = smtp.port;
        let notify = NotifyConfig {
            smtp: Some(smtp_config),
            ..NotifyConfig::default()
        };
        let t = common::spawn(db, None, notify).await;

        // Before the page has a public address, links could not be made.
        let (s, v) = subscribe(&t, json!({"email": "early@example.com"})).await;
        assert_eq!(
            (s, v["error"]["code"].clone()),
            (409, json!("page_url_required")),
            "{v}"
        );
        let page_url = format!("{}/status", t.base);
        let (s, _) = put(
            &t,
            "/api/v1/status-page",
            json!({"name": "Acme Status", "url": page_url}),
        )
        .await;
        assert_eq!(s, 200);
        made(&t, "/api/v1/services", json!({"name": "api"})).await;
        made(&t, "/api/v1/services", json!({"name": "mail"})).await;
        made(
            &t,
            "/api/v1/status-page/components",
            json!({"name": "API", "service": "api"}),
        )
        .await;
        made(
            &t,
            "/api/v1/status-page/components",
            json!({"name": "Mail", "service": "mail"}),
        )
        .await;

        // Refusals name the field; nothing is sent for them.
        for (body, want) in [
            (json!({"email": "not-an-address"}), "email"),
            (
                json!({"email": "x@example.com", "component": "Nope"}),
                "component",
            ),
        ] {
            let (s, v) = subscribe(&t, body).await;
            assert_eq!(
                (s, v["error"]["fields"][0]["field"].clone()),
                (422, json!(want)),
                "{v}"
            );
        }
        // Four subscriptions: the page; the API component; both (one address); Mail only.
        for body in [
            json!({"email": "page@example.com"}),
            json!({"email": "api@example.com", "component": "API"}),
            json!({"email": "both@example.com"}),
            json!({"email": "both@example.com", "component": "API"}),
            json!({"email": "mail@example.com", "component": "Mail"}),
            json!({"email": "never@example.com"}),
        ] {
            let (s, v) = subscribe(&t, body).await;
            assert_eq!(s, 202, "{v}");
            assert_eq!(v["status"], "confirmation_sent");
        }
        t.tick().await;
        // Two confirmations for one address in one pass travel in one email (the outbox
        // batches per destination): five emails, six links.
        smtp.wait_for_mail(5).await;
        let confirmations = mails(&smtp);
        assert_eq!(confirmations.len(), 5);
        let mut followed = 0;
        for m in &confirmations {
            assert!(
                m["subject"]
                    .as_str()
                    .unwrap()
                    .contains("Confirm your subscription to "),
                "{m}"
            );
            if m["rcpt"] == "never@example.com" {
                continue; // never confirms: must get nothing else
            }
            let urls = links(
                m["body"].as_str().unwrap(),
                &format!("{page_url}/subscriptions/confirm?token="),
            );
            let want = if m["rcpt"] == "both@example.com" {
                2
            } else {
                1
            };
            assert_eq!(urls.len(), want, "{m}");
            for url in urls {
                // A GET alone (a mail scanner) confirms nothing.
                let (_, counts) = t
                    .get("/api/v1/status-page/subscribers", &t.admin_token)
                    .await;
                let before = counts["confirmed"].clone();
                let _ = follow(&t, &url).await;
                let (_, counts) = t
                    .get("/api/v1/status-page/subscribers", &t.admin_token)
                    .await;
                assert_eq!(counts["confirmed"], before);
                let (s, page) = confirm(&t, &url).await;
                assert_eq!(s, 200, "{page}");
                assert!(page.contains("Subscribed"), "{page}");
                // Confirming again is harmless.
                assert_eq!(confirm(&t, &url).await.0, 200);
                followed += 1;
            }
        }
        assert_eq!(followed, 5);
        // A confirmed address asking again gets no second email; a forged link is a 404.
        let (s, _) = subscribe(&t, json!({"email": "page@example.com"})).await;
        assert_eq!(s, 202);
        let forged = format!("{page_url}/subscriptions/confirm?token=forged");
        let r = t.http.post(&forged).send().await.unwrap();
        let (s, page) = (r.status().as_u16(), r.text().await.unwrap());
        assert_eq!(s, 404);
        assert!(page.contains("not valid"));
        let (_, counts) = t
            .get("/api/v1/status-page/subscribers", &t.admin_token)
            .await;
        assert_eq!(counts, json!({"confirmed": 5, "pending": 1}));

        // A public update on an API incident: the page and API subscribers, once each.
        let (s, inc) = t
            .post(
                "/api/v1/incidents",
                &t.admin_token,
                json!({"title": "PRIMARY-DB full", "severity": "SEV2", "service": "api"}),
            )
            .await;
        assert_eq!(s, 201);
        let path = format!("/api/v1/incidents/{}", inc["number"]);
        publish(
            &t,
            &path,
            "investigating",
            "Some requests fail.",
            Some("API errors"),
        )
        .await;
        // Stakeholder updates never reach subscribers.
        let (s, _) = t
            .post(
                &format!("{path}/updates"),
                &t.admin_token,
                json!({"audience": "stakeholders", "state": "identified", "message": "STAKEHOLDERS-ONLY"}),
            )
            .await;
        assert_eq!(s, 201);
        t.tick().await;
        smtp.wait_for_mail(5 + 3).await;
        t.tick().await;
        let updates: Vec<Value> = mails(&smtp)
            .into_iter()
            .filter(|m| m["subject"].as_str().unwrap().starts_with("[Acme Status]"))
            .collect();
        let to: Vec<&str> = updates
            .iter()
            .map(|m| m["rcpt"].as_str().unwrap())
            .collect();
        assert_eq!(
            to,
            ["api@example.com", "both@example.com", "page@example.com"],
            "{updates:#?}"
        );
        for m in &updates {
            assert_eq!(m["subject"], "[Acme Status] API errors: investigating");
            let body = m["body"].as_str().unwrap();
            assert!(
                body.contains("Some requests fail.")
                    && !body.contains("PRIMARY-DB")
                    && !body.contains("STAKEHOLDERS-ONLY"),
                "{body}"
            );
        }
        // "both" is told how to stop each of its two subscriptions.
        let both = updates
            .iter()
            .find(|m| m["rcpt"] == "both@example.com")
            .unwrap();
        assert_eq!(
            both["body"]
                .as_str()
                .unwrap()
                .matches("/subscriptions/unsubscribe?token=")
                .count(),
            2
        );

        // One click on page@'s unsubscribe link; the next update reaches the other two only.
        let page_mail = updates
            .iter()
            .find(|m| m["rcpt"] == "page@example.com")
            .unwrap();
        let url = link(
            page_mail["body"].as_str().unwrap(),
            &format!("{page_url}/subscriptions/unsubscribe?token="),
        );
        let (s, page) = follow(&t, &url).await;
        assert_eq!(s, 200);
        assert!(
            page.contains("Unsubscribed") && page.contains("page@example.com"),
            "{page}"
        );
        assert_eq!(follow(&t, &url).await.0, 200, "again is harmless");
        publish(&t, &path, "resolved", "Fixed.", None).await;
        t.tick().await;
        smtp.wait_for_mail(5 + 3 + 2).await;
        t.advance(60).await;
        let resolved: Vec<String> = mails(&smtp)
            .into_iter()
            .filter(|m| m["subject"].as_str().unwrap().ends_with(": resolved"))
            .map(|m| m["rcpt"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(resolved, ["api@example.com", "both@example.com"]);
        assert_eq!(smtp.delivered().len(), 10, "nothing else was sent");
        let (_, counts) = t
            .get("/api/v1/status-page/subscribers", &t.admin_token)
            .await;
        assert_eq!(counts, json!({"confirmed": 4, "pending": 1}));
        t.stop().await;
    }
);

both_backends!(
    the_page_form_subscribes_and_answers_with_a_page,
    |db: TestDb| async move {
        let t = TestApp::spawn(db).await;
        let (s, _) = put(
            &t,
            "/api/v1/status-page",
            json!({"url": format!("{}/status", t.base)}),
        )
        .await;
        assert_eq!(s, 200);
        let html = t
            .http
            .get(format!("{}/status", t.base))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            html.contains("action=\"") && html.contains("/status/subscriptions\""),
            "the page has the form"
        );
        let r = t
            .http
            .post(format!("{}/status/subscriptions", t.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .body("email=form%40example.com")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 202);
        assert!(
            r.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/html")
        );
        assert!(r.text().await.unwrap().contains("Check your inbox"));
        let r = t
            .http
            .post(format!("{}/status/subscriptions", t.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .body("email=nope")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 422);
        // The confirmation email is in the outbox for the engine to send.
        t.tick().await;
        let to: Vec<String> = t
            .recorder
            .sent()
            .iter()
            .map(|m| m.message.address.clone())
            .collect();
        assert_eq!(to, ["form@example.com"]);
        t.stop().await;
    }
);

both_backends!(
    webhook_subscribers_confirm_and_get_signed_public_events,
    |db: TestDb| async move {
        let t = TestApp::spawn(db).await;
        let page_url = format!("{}/status", t.base);
        let (s, _) = put(
            &t,
            "/api/v1/status-page",
            json!({"url": page_url, "name": "Acme"}),
        )
        .await;
        assert_eq!(s, 200);
        let hook = "https://hooks.example/triad";
        for (body, field) in [
            (json!({"webhook": "not a url"}), "webhook"),
            (json!({"webhook": hook, "email": "x@example.com"}), "email"),
            (json!({}), "email"),
        ] {
            let (s, v) = subscribe(&t, body).await;
            assert_eq!(
                (s, v["error"]["fields"][0]["field"].clone()),
                (422, json!(field)),
                "{v}"
            );
        }
        let (s, v) = subscribe(&t, json!({"webhook": hook})).await;
        assert_eq!(s, 202, "{v}");
        let secret = v["secret"]
            .as_str()
            .expect("the signing secret, once")
            .to_string();
        t.tick().await;
        let sent = t.recorder.sent();
        let confirm = sent
            .iter()
            .find(|s| s.message.address == hook)
            .expect("a confirmation event");
        assert_eq!(
            confirm.message.secret.as_deref(),
            Some(secret.as_str()),
            "signed with it"
        );
        let event = &confirm.message.event;
        assert_eq!(event["type"], "subscription_confirm");
        let confirm_url = event["data"]["confirm_url"].as_str().unwrap().to_string();
        assert!(confirm_url.starts_with(&format!("{page_url}/subscriptions/confirm?token=")));
        // The receiver confirms by POSTing to it.
        assert_eq!(
            t.http
                .post(&confirm_url)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16(),
            200
        );
        let (s, v) = subscribe(&t, json!({"webhook": hook})).await;
        assert_eq!(
            (s, v["error"]["code"].clone()),
            (409, json!("already_subscribed"))
        );

        let (s, inc) = t
            .post(
                "/api/v1/incidents",
                &t.admin_token,
                json!({"title": "PRIMARY-DB full", "severity": "SEV2"}),
            )
            .await;
        assert_eq!(s, 201);
        let path = format!("/api/v1/incidents/{}", inc["number"]);
        publish(
            &t,
            &path,
            "identified",
            "Some payments fail.",
            Some("Payment failures"),
        )
        .await;
        t.tick().await;
        let sent = t.recorder.sent();
        let update = sent
            .iter()
            .rev()
            .find(|s| s.message.address == hook)
            .expect("the update event");
        assert_eq!(update.message.secret.as_deref(), Some(secret.as_str()));
        let e = &update.message.event;
        assert_eq!(e["type"], "subscriber_update");
        assert!(e["incident"].is_null(), "never the incident itself: {e}");
        assert_eq!(e["data"]["name"], "Payment failures");
        assert_eq!(e["data"]["state"], "identified");
        assert_eq!(e["data"]["message"], "Some payments fail.");
        assert!(!e.to_string().contains("PRIMARY-DB"), "{e}");
        let unsubscribe = e["data"]["unsubscribe_urls"][0]
            .as_str()
            .unwrap()
            .to_string();
        assert_eq!(
            t.http
                .post(&unsubscribe)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16(),
            200
        );
        let before = t.recorder.sent().len();
        publish(&t, &path, "resolved", "Fixed.", None).await;
        t.tick().await;
        assert!(
            t.recorder.sent()[before..]
                .iter()
                .all(|s| s.message.address != hook),
            "unsubscribed"
        );
        t.stop().await;
    }
);
