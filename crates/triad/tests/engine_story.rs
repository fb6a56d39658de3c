//! PRODUCT.md §6, the parts the engine covers, over real HTTP with a manual clock and a
//! recording channel: nobody acknowledges so the escalation climbs; the reporter is told
//! at acknowledgement; the coordinator is reminded; the overdue update reaches the
//! manager on duty; a support engineer asks for news and the coordinator (not the
//! responders) is paged; the resolution reaches everyone. No test waits for a timer.

use reqwest::Method;
use serde_json::{Value, json};
use triad_testkit::{Clock, TestApp, TestDb, both_backends};

const CHAT: &str = "http://chat.invalid/hooks/ingest";
const PAT_EMAIL: &str = "pat@customer.example";
const PAT_HOOK: &str = "http://customer.invalid/triad";

fn kinds(events: &Value) -> Vec<String> {
    events
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_string())
        .collect()
}

/// Messages recorded for `address` whose subject or text contains `needle`.
fn sent_to(t: &TestApp, address: &str, needle: &str) -> Vec<triad_testkit::Sent> {
    t.recorder
        .to(address)
        .into_iter()
        .filter(|s| s.message.subject.contains(needle) || s.message.text.contains(needle))
        .collect()
}

both_backends!(the_article_replayed, |db: TestDb| async move {
    let t = TestApp::spawn(db).await;
    let admin = t.admin_token.clone();
    let (rita, rita_tok) = t
        .user("rita@example.com", "Rita Responder", "responder")
        .await;
    let (sam, _) = t
        .user("sam@example.com", "Sam Secondary", "responder")
        .await;
    let (eve, _) = t.user("eve@example.com", "Eve Manager", "responder").await;
    let (cora, cora_tok) = t
        .user("cora@example.com", "Cora Coordinator", "responder")
        .await;
    let (omar, omar_tok) = t
        .user("omar@example.com", "Omar Observer", "responder")
        .await;
    let (max, _) = t.user("max@example.com", "Max OnDuty", "responder").await;
    let (hana, _) = t
        .user("hana@example.com", "Hana HeadOfSupport", "support")
        .await;
    let (_, sue_tok) = t.user("sue@example.com", "Sue Support", "support").await;

    // Rita is paged by webhook at once and by email a minute later.
    let (st, hook) = t
        .post(
            "/api/v1/users/me/contact-methods",
            &rita_tok,
            json!({"type": "webhook", "address": "http://pager.invalid/rita"}),
        )
        .await;
    assert_eq!(st, 201, "{hook}");
    assert!(hook["secret"].as_str().unwrap().starts_with("whsec_"));
    let (st, mail) = t
        .post(
            &format!("/api/v1/users/{rita}/contact-methods"),
            &admin,
            json!({"type": "email", "address": "rita@example.com"}),
        )
        .await;
    assert_eq!(st, 201);
    for (method, delay) in [(&hook, 0), (&mail, 60)] {
        let (st, rule) = t
            .post(
                "/api/v1/users/me/notification-rules",
                &rita_tok,
                json!({"contact_method_id": method["id"], "delay_seconds": delay, "urgency": "high"}),
            )
            .await;
        assert_eq!(st, 201, "{rule}");
    }
    // The secret is shown once only.
    let (_, listed) = t.get("/api/v1/users/me/contact-methods", &rita_tok).await;
    assert!(listed[0].get("secret").is_none());

    let (st, oncall) = t
        .post(
            "/api/v1/escalation-policies",
            &admin,
            json!({"name": "ingest on-call", "levels": [
                {"delay_seconds": 300, "targets": [{"type": "user", "id": rita}]},
                {"delay_seconds": 300, "targets": [{"type": "user", "id": sam}]},
                {"delay_seconds": 300, "targets": [{"type": "user", "id": eve}]}
            ], "repeat": 0}),
        )
        .await;
    assert_eq!(st, 201, "{oncall}");
    let (st, comms) = t
        .post(
            "/api/v1/escalation-policies",
            &admin,
            json!({"name": "comms", "levels": [
                {"delay_seconds": 300, "targets": [{"type": "incident_role", "role": "coordinator"}]},
                {"delay_seconds": 600, "targets": [{"type": "user", "id": max}]},
                {"delay_seconds": 600, "targets": [{"type": "user", "id": hana}]}
            ]}),
        )
        .await;
    assert_eq!(st, 201, "{comms}");
    let (st, sev1) = t
        .call(
            Method::PUT,
            "/api/v1/severity-policies/SEV1",
            Some(&admin),
            Some(json!({
                "ack_deadline_seconds": 300,
                "staffing": {"required": ["responder", "observer", "coordinator"], "distinct": true},
                "cadence": {
                    "public": {"first_after_ack_seconds": 300, "every_seconds": 1200},
                    "reporters": {"first_after_ack_seconds": 300, "every_seconds": 1200},
                    "stakeholders": {"first_after_ack_seconds": 3600, "every_seconds": 3600}
                },
                "reminder_lead_seconds": 120,
                "comms_escalation_policy": "comms"
            })),
        )
        .await;
    assert_eq!(st, 200, "{sev1}");
    let (st, svc) = t
        .post(
            "/api/v1/services",
            &admin,
            json!({"name": "data ingest", "escalation_policy": "ingest on-call", "chat_webhook": CHAT}),
        )
        .await;
    assert_eq!(st, 201, "{svc}");
    // The observer and coordinator come from role schedules: the secondary on-call and
    // the manager on duty.
    for (name, who) in [("ingest secondary", &omar), ("manager on duty", &cora)] {
        let (st, s) = t
            .post(
                "/api/v1/schedules",
                &admin,
                json!({"name": name, "time_zone": "Europe/London", "layers": [{
                    "name": "weekly", "participants": [who], "shift_length": 1,
                    "shift_unit": "weeks", "start": "2025-12-01", "handoff_time": "09:00"}]}),
            )
            .await;
        assert_eq!(st, 201, "{s}");
        assert_eq!(s["coverage_gaps"], json!([]), "{s}");
    }
    let (st, rs) = t
        .call(
            Method::PUT,
            "/api/v1/services/data ingest/role-schedules",
            Some(&admin),
            Some(json!({"observer": "ingest secondary", "coordinator": "manager on duty"})),
        )
        .await;
    assert_eq!(st, 200, "{rs}");

    // 00:00 — the support engineer files a SEV1 for a customer.
    let (st, inc) = t
        .post(
            "/api/v1/incidents",
            &sue_tok,
            json!({"title": "Ingest stalled", "severity": "SEV1", "service": "data ingest",
                   "reporter": {"name": "Pat Customer", "email": PAT_EMAIL, "webhook": PAT_HOOK}}),
        )
        .await;
    assert_eq!(st, 201, "{inc}");
    assert!(inc["reporters"][0]["webhook_secret"].as_str().is_some());
    let path = format!("/api/v1/incidents/{}", inc["number"]);
    t.tick().await;
    assert_eq!(
        sent_to(&t, "http://pager.invalid/rita", "Ingest stalled").len(),
        1
    );
    assert!(
        t.recorder.to("rita@example.com").is_empty(),
        "email waits a minute"
    );
    let receipt = sent_to(&t, PAT_EMAIL, "Paged: Rita Responder");
    assert_eq!(receipt.len(), 1, "{:?}", t.recorder.to(PAT_EMAIL));
    assert!(receipt[0].message.text.contains("expected by 00:05 UTC"));
    let signed = sent_to(&t, PAT_HOOK, "Paged: Rita Responder");
    assert_eq!(signed[0].message.event["type"], "incident.receipt");
    assert!(signed[0].message.secret.is_some());

    // Nobody acknowledges: a minute later Rita's email, at 5 minutes Sam, at 10 Eve.
    t.advance(60).await;
    assert_eq!(t.recorder.to("rita@example.com").len(), 1);
    t.advance(240).await;
    assert_eq!(sent_to(&t, "sam@example.com", "Ingest stalled").len(), 1);
    assert!(t.recorder.to("eve@example.com").is_empty());
    t.advance(300).await;
    assert_eq!(sent_to(&t, "eve@example.com", "Ingest stalled").len(), 1);

    // 00:10:30 — Rita acknowledges; Pat hears who has it within the same engine pass.
    t.clock.advance_secs(30);
    let ack_at = t.clock.now();
    let (st, _) = t
        .post(&format!("{path}/acknowledge"), &rita_tok, json!({}))
        .await;
    assert_eq!(st, 200);
    t.tick().await;
    let told = sent_to(&t, PAT_EMAIL, "Rita Responder has incident");
    assert_eq!(told.len(), 1, "{:?}", t.recorder.to(PAT_EMAIL));
    assert!(told[0].at - ack_at < 1000);
    assert!(
        told[0]
            .message
            .text
            .contains("next update is due by 00:15 UTC")
    );
    let paged_before_ack = t.recorder.sent().len();

    // The team formed at the acknowledgement: observer and coordinator came from their
    // role schedules, so the incident is fully staffed.
    let (_, i) = t.get(&path, &admin).await;
    let held: Vec<(String, String)> = i["roles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["role"].as_str().unwrap().into(),
                r["user_id"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        held,
        [
            ("responder".to_string(), rita.clone()),
            ("observer".to_string(), omar.clone()),
            ("coordinator".to_string(), cora.clone())
        ],
        "{i}"
    );
    assert_eq!(i["understaffed"], false, "{i}");
    // The observer's notes stream to the internal channel.
    t.post(
        &format!("{path}/notes"),
        &omar_tok,
        json!({"body": "consumer lag 40 min on partition 7"}),
    )
    .await;
    t.tick().await;
    assert_eq!(sent_to(&t, CHAT, "consumer lag 40 min").len(), 1);

    // 00:13:30 — the coordinator is reminded two minutes before the first update is due.
    t.advance(179).await;
    assert!(sent_to(&t, "cora@example.com", "update due").is_empty());
    t.advance(1).await;
    let reminders = sent_to(&t, "cora@example.com", "due at 00:15 UTC");
    assert_eq!(
        reminders.len(),
        1,
        "public and reporters coalesce into one message"
    );
    assert!(reminders[0].message.subject.starts_with("2 notifications"));

    // 00:15:30 — overdue: the coordinator is paged, then the manager on duty.
    t.advance(120).await;
    let (_, events) = t.get(&format!("{path}/timeline"), &admin).await;
    let k = kinds(&events);
    assert_eq!(
        k.iter().filter(|k| *k == "update_overdue").count(),
        2,
        "{k:?}"
    );
    assert!(!sent_to(&t, "cora@example.com", "overdue public update").is_empty());
    assert!(t.recorder.to("max@example.com").is_empty());
    // A note while the update is overdue is a communication gap.
    t.post(
        &format!("{path}/notes"),
        &omar_tok,
        json!({"body": "restarting consumers"}),
    )
    .await;
    let (_, i) = t.get(&path, &admin).await;
    assert!(i["communication_gap_at"].is_string(), "{i}");
    t.advance(300).await;
    assert!(!sent_to(&t, "max@example.com", "overdue").is_empty());
    assert!(t.recorder.to("hana@example.com").is_empty());

    // 00:20:30 — Cora publishes; lateness is recorded and the escalation stops.
    for audience in ["public", "reporters"] {
        let (st, u) = t
            .post(
                &format!("{path}/updates"),
                &cora_tok,
                json!({"audience": audience, "state": "identified", "message": "Consumers stuck after a deploy; rolling back."}),
            )
            .await;
        assert_eq!(st, 201, "{u}");
        assert_eq!(u["late_by_seconds"], 300);
        assert_eq!(u["due_at"], "2026-01-01T00:15:30Z");
    }
    t.tick().await;
    assert_eq!(sent_to(&t, PAT_EMAIL, "rolling back").len(), 1);
    let (_, i) = t.get(&path, &admin).await;
    assert!(i["communication_gap_at"].is_null());
    t.advance(900).await;
    assert!(
        t.recorder.to("hana@example.com").is_empty(),
        "stopped by the update"
    );

    // "I am not getting updates": the coordinator is paged, never the responders.
    let before_rita = t.recorder.to("http://pager.invalid/rita").len();
    let (st, req) = t
        .post(
            &format!("{path}/update-requests"),
            &sue_tok,
            json!({"message": "customer asking"}),
        )
        .await;
    assert_eq!(st, 202, "{req}");
    assert_eq!(req["paged"], json!(["Cora Coordinator"]));
    let (_, again) = t
        .post(&format!("{path}/update-requests"), &sue_tok, json!({}))
        .await;
    assert_eq!(again["count"], 2);
    assert_eq!(again["escalation_started"], false);
    t.tick().await;
    assert!(!sent_to(&t, "cora@example.com", "somebody asked for an update").is_empty());
    assert_eq!(
        t.recorder.to("http://pager.invalid/rita").len(),
        before_rita
    );

    // The fix ships: resolved, and everyone is told.
    let (st, _) = t
        .post(&format!("{path}/resolve"), &rita_tok, json!({}))
        .await;
    assert_eq!(st, 200);
    t.tick().await;
    for who in [
        PAT_EMAIL,
        "sam@example.com",
        "eve@example.com",
        "cora@example.com",
        "omar@example.com",
        "max@example.com",
    ] {
        assert_eq!(sent_to(&t, who, "Resolved: #").len(), 1, "{who}");
    }
    // No technical page after the acknowledgement.
    for s in &t.recorder.sent()[paged_before_ack..] {
        assert_ne!(
            s.message.event["type"], "incident.page",
            "{:?}",
            s.message.subject
        );
    }
    // Every notification ended as sent or cancelled; the timeline tells the whole story.
    let (_, notes) = t.get(&format!("{path}/notifications"), &admin).await;
    for n in notes.as_array().unwrap() {
        assert!(matches!(n["status"].as_str(), Some("sent")), "{n}");
    }
    let (_, events) = t.get(&format!("{path}/timeline"), &admin).await;
    let k = kinds(&events);
    for kind in [
        "paged",
        "reporter_notified",
        "update_reminder",
        "update_overdue",
        "communication_gap",
        "update_requested",
        "resolved",
    ] {
        assert!(k.iter().any(|x| x == kind), "{kind} missing from {k:?}");
    }
    assert_eq!(
        k.iter().filter(|x| *x == "paged").count(),
        3 + 2 + 2 + 1,
        "three levels, coordinator for each overdue audience, Max for each, the request: {k:?}"
    );
    let _ = (hana, sam, eve, max);
    assert!(
        t.app
            .incident_timers(inc["id"].as_str().unwrap())
            .await
            .unwrap()
            .is_empty()
    );
    t.stop().await;
});
