//! On-call schedules over real HTTP on both databases: the final schedule, overrides,
//! versions and gaps; who is on call; role schedules; escalation to a schedule resolved
//! at the moment of paging; handoff notifications; the calendar feeds, parsed by Python's
//! `icalendar`. The clock is a ManualClock starting 2026-01-01T00:00:00Z (a Thursday).

use reqwest::Method;
use serde_json::{Value, json};
use std::process::Command;
use triad_testkit::{TestApp, TestDb, both_backends, python_with};

/// A daily rotation in London handing over at 09:00, from Monday 2025-12-29.
fn daily(participants: &[&str]) -> Value {
    json!([{"name": "daily", "participants": participants, "shift_length": 1,
        "shift_unit": "days", "start": "2025-12-29", "handoff_time": "09:00"}])
}

/// (start, end, [user ids]) of each segment of a final-schedule response.
fn segments(v: &Value) -> Vec<(String, String, Vec<String>)> {
    v["segments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            (
                g["start"].as_str().unwrap().to_string(),
                g["end"].as_str().unwrap().to_string(),
                g["users"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|u| u["id"].as_str().unwrap().to_string())
                    .collect(),
            )
        })
        .collect()
}

fn seg(a: &str, b: &str, users: &[&String]) -> (String, String, Vec<String>) {
    (
        a.to_string(),
        b.to_string(),
        users.iter().map(|u| u.to_string()).collect(),
    )
}

async fn put(t: &TestApp, path: &str, body: Value) -> (u16, Value) {
    t.call(Method::PUT, path, Some(&t.admin_token), Some(body))
        .await
}

both_backends!(
    final_schedule_overrides_versions_and_gaps,
    |db: TestDb| async move {
        let t = TestApp::spawn(db).await;
        let admin = t.admin_token.clone();
        let (ana, _) = t.user("ana@example.com", "Ana", "responder").await;
        let (ben, _) = t.user("ben@example.com", "Ben", "responder").await;
        let (cy, cy_tok) = t.user("cy@example.com", "Cy", "responder").await;
        let (st, s) = t
            .post(
                "/api/v1/schedules",
                &admin,
                json!({"name": "primary", "time_zone": "Europe/London",
                "layers": daily(&["ana@example.com", &ben])}),
            )
            .await;
        assert_eq!(st, 201, "{s}");
        assert_eq!(s["coverage_gaps"], json!([]));
        // Participants named by email are stored as ids.
        assert_eq!(
            s["versions"][0]["layers"][0]["participants"],
            json!([ana, ben])
        );

        let window = "from=2026-01-01T00:00:00Z&to=2026-01-03T00:00:00Z";
        let (st, f) = t
            .get(&format!("/api/v1/schedules/primary/final?{window}"), &admin)
            .await;
        assert_eq!(st, 200, "{f}");
        assert_eq!(
            segments(&f),
            [
                seg("2026-01-01T00:00:00Z", "2026-01-01T09:00:00Z", &[&ana]),
                seg("2026-01-01T09:00:00Z", "2026-01-02T09:00:00Z", &[&ben]),
                seg("2026-01-02T09:00:00Z", "2026-01-03T00:00:00Z", &[&ana]),
            ]
        );
        assert_eq!(f["gaps"], json!([]));

        let (st, now) = t.get("/api/v1/oncall", &admin).await;
        assert_eq!(st, 200, "{now}");
        assert_eq!(now["schedules"][0]["users"][0]["id"], ana.as_str());
        assert_eq!(now["schedules"][0]["until"], "2026-01-01T09:00:00Z");
        let (_, later) = t
            .get("/api/v1/oncall?at=2026-01-01T10:00:00%2B01:00", &admin)
            .await;
        assert_eq!(later["schedules"][0]["users"][0]["name"], "Ben", "{later}");

        // A responder covers two hours of Ben's shift; another removes Ben for three.
        let (st, cover) = t
            .post(
                "/api/v1/schedules/primary/overrides",
                &cy_tok,
                json!({"start": "2026-01-01T12:00:00Z", "end": "2026-01-01T14:00:00Z",
                "action": "replace", "user": "me@invalid", "replaces": ben}),
            )
            .await;
        assert_eq!(st, 422, "an unknown user is refused: {cover}");
        let (st, cover) = t
            .post(
                "/api/v1/schedules/primary/overrides",
                &cy_tok,
                json!({"start": "2026-01-01T12:00:00Z", "end": "2026-01-01T14:00:00Z",
                "action": "replace", "user": cy, "replaces": "ben@example.com"}),
            )
            .await;
        assert_eq!(st, 201, "{cover}");
        let (st, hole) = t
            .post(
                "/api/v1/schedules/primary/overrides",
                &admin,
                json!({"start": "2026-01-02T00:00:00Z", "end": "2026-01-02T03:00:00Z",
                "action": "remove", "user": ben}),
            )
            .await;
        assert_eq!(st, 201, "{hole}");
        let (_, f) = t
            .get(&format!("/api/v1/schedules/primary/final?{window}"), &admin)
            .await;
        assert_eq!(
            segments(&f),
            [
                seg("2026-01-01T00:00:00Z", "2026-01-01T09:00:00Z", &[&ana]),
                seg("2026-01-01T09:00:00Z", "2026-01-01T12:00:00Z", &[&ben]),
                seg("2026-01-01T12:00:00Z", "2026-01-01T14:00:00Z", &[&cy]),
                seg("2026-01-01T14:00:00Z", "2026-01-02T00:00:00Z", &[&ben]),
                seg("2026-01-02T03:00:00Z", "2026-01-02T09:00:00Z", &[&ben]),
                seg("2026-01-02T09:00:00Z", "2026-01-03T00:00:00Z", &[&ana]),
            ]
        );
        let (st, g) = t
            .get(&format!("/api/v1/schedules/primary/gaps?{window}"), &admin)
            .await;
        assert_eq!(st, 200, "{g}");
        assert_eq!(
            g["gaps"],
            json!([{"start": "2026-01-02T00:00:00Z", "end": "2026-01-02T03:00:00Z"}])
        );
        let (st, _) = t
            .call(
                Method::DELETE,
                &format!(
                    "/api/v1/schedules/primary/overrides/{}",
                    hole["id"].as_str().unwrap()
                ),
                Some(&admin),
                None,
            )
            .await;
        assert_eq!(st, 204);
        let (_, g) = t
            .get(&format!("/api/v1/schedules/primary/gaps?{window}"), &admin)
            .await;
        assert_eq!(g["gaps"], json!([]));

        // A new roster takes effect on 2 January at midnight: Cy alone, daily.
        let (st, s) = put(
            &t,
            "/api/v1/schedules/primary/layers",
            json!({"effective_from": "2026-01-02T00:00:00Z", "layers": [{"name": "solo",
            "participants": [cy], "shift_length": 1, "shift_unit": "days",
            "start": "2026-01-01", "handoff_time": "09:00"}]}),
        )
        .await;
        assert_eq!(st, 200, "{s}");
        assert_eq!(s["versions"].as_array().unwrap().len(), 2);
        let (_, f) = t
            .get(&format!("/api/v1/schedules/primary/final?{window}"), &admin)
            .await;
        assert_eq!(
            segments(&f).last().unwrap(),
            &seg("2026-01-02T00:00:00Z", "2026-01-03T00:00:00Z", &[&cy])
        );
        // The past is not rewritten.
        let (st, e) = put(
            &t,
            "/api/v1/schedules/primary/layers",
            json!({"effective_from": "2025-12-01T00:00:00Z", "layers": daily(&[&ana])}),
        )
        .await;
        assert_eq!(st, 422, "{e}");
        assert_eq!(e["error"]["fields"][0]["field"], "effective_from");

        // A schedule with a working-hours layer reports its gaps when saved.
        let (st, s) = t
        .post(
            "/api/v1/schedules",
            &admin,
            json!({"name": "office", "time_zone": "Europe/London", "layers": [{"name": "9-5",
                "participants": [ana], "shift_length": 1, "shift_unit": "weeks",
                "start": "2025-12-29", "handoff_time": "09:00",
                "restrictions": [{"days": ["mon", "tue", "wed", "thu", "fri"], "start": "09:00", "end": "17:00"}]}]}),
        )
        .await;
        assert_eq!(st, 201, "{s}");
        let gaps = s["coverage_gaps"].as_array().unwrap();
        assert_eq!(
            gaps[0],
            json!({"start": "2026-01-01T00:00:00Z", "end": "2026-01-01T09:00:00Z"})
        );
        assert_eq!(
            gaps[1],
            json!({"start": "2026-01-01T17:00:00Z", "end": "2026-01-02T09:00:00Z"})
        );
        assert_eq!(
            gaps[2],
            json!({"start": "2026-01-02T17:00:00Z", "end": "2026-01-05T09:00:00Z"})
        );

        // Role schedules, and a schedule in use cannot be deleted.
        let (st, _) = t
            .post("/api/v1/teams", &admin, json!({"name": "ingest"}))
            .await;
        assert_eq!(st, 201);
        let (st, rs) = put(
            &t,
            "/api/v1/teams/ingest/role-schedules",
            json!({"coordinator": "primary"}),
        )
        .await;
        assert_eq!(st, 200, "{rs}");
        assert_eq!(rs["coordinator"], s_id(&t, "primary").await);
        assert_eq!(rs["observer"], Value::Null);
        let (_, oc) = t.get("/api/v1/oncall", &admin).await;
        assert_eq!(oc["roles"][0]["role"], "coordinator", "{oc}");
        assert_eq!(oc["roles"][0]["users"][0]["id"], ana.as_str(), "{oc}");
        let (st, e) = t
            .call(
                Method::DELETE,
                "/api/v1/schedules/primary",
                Some(&admin),
                None,
            )
            .await;
        assert_eq!(
            (st, e["error"]["code"].as_str()),
            (409, Some("in_use")),
            "{e}"
        );
        let (st, _) = put(&t, "/api/v1/teams/ingest/role-schedules", json!({})).await;
        assert_eq!(st, 200);
        let (st, e) = t
            .post(
                "/api/v1/escalation-policies",
                &admin,
                json!({"name": "by name", "levels": [{"delay_seconds": 60,
                "targets": [{"type": "schedule", "id": "primary"}]}]}),
            )
            .await;
        assert_eq!(st, 422, "{e}");
        assert!(
            e["error"]["fields"][0]["reason"]
                .as_str()
                .unwrap()
                .contains("by its id")
        );
        let (st, _) = t
            .call(
                Method::DELETE,
                "/api/v1/schedules/office",
                Some(&admin),
                None,
            )
            .await;
        assert_eq!(st, 204);
        let (st, _) = t.get("/api/v1/schedules/office", &admin).await;
        assert_eq!(st, 404);
        t.stop().await;
    }
);

async fn s_id(t: &TestApp, name: &str) -> Value {
    let (_, s) = t
        .get(&format!("/api/v1/schedules/{name}"), &t.admin_token)
        .await;
    s["id"].clone()
}

/// Parses an iCalendar text with Python's `icalendar`; returns each VEVENT as
/// (uid, start RFC 3339 UTC, end, summary), and checks the raw text's line rules.
fn parse_ics(text: &str) -> Vec<(String, String, String, String)> {
    for line in text.split("\r\n") {
        assert!(line.len() <= 75, "line longer than 75 octets: {line:?}");
        assert!(!line.contains('\n'), "bare LF in {line:?}");
    }
    assert!(text.ends_with("\r\n"));
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("feed.ics");
    std::fs::write(&file, text).unwrap();
    let script = r#"
import json, sys, datetime, icalendar
cal = icalendar.Calendar.from_ical(open(sys.argv[1], 'rb').read())
out = []
for e in cal.walk('VEVENT'):
    assert e.get('DTSTAMP') is not None, 'DTSTAMP missing'
    def utc(d):
        return d.dt.astimezone(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')
    out.append([str(e['UID']), utc(e['DTSTART']), utc(e['DTEND']), str(e['SUMMARY'])])
print(json.dumps(out))
"#;
    let python = python_with("icalendar");
    let out = Command::new(python)
        .args(["-c", script])
        .arg(&file)
        .output()
        .expect("run python");
    assert!(
        out.status.success(),
        "icalendar refused the feed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

both_backends!(
    calendar_feeds_parse_and_equal_the_final_schedule,
    |db: TestDb| async move {
        let t = TestApp::spawn(db).await;
        let admin = t.admin_token.clone();
        let (ana, ana_tok) = t.user("ana@example.com", "Ana Ångström", "responder").await;
        let (ben, _) = t
            .user(
                "ben@example.com",
                "Ben, the \"backup\"; on call",
                "responder",
            )
            .await;
        let (st, s) = t
        .post(
            "/api/v1/schedules",
            &admin,
            json!({"name": "Primary — ingest, EU", "time_zone": "Europe/London",
                "layers": [{"name": "weekdays", "participants": [ana, ben], "shift_length": 12,
                    "shift_unit": "hours", "start": "2026-01-01", "handoff_time": "08:00",
                    "restrictions": [{"days": ["mon", "tue", "wed", "thu", "fri"], "start": "08:00", "end": "20:00"}]}]}),
        )
        .await;
        assert_eq!(st, 201, "{s}");
        let id = s["id"].as_str().unwrap().to_string();
        // Across the end of British Summer Time, so local and UTC differ on both sides.
        let window = "from=2026-10-19T00:00:00Z&to=2026-11-02T00:00:00Z";
        let (_, f) = t
            .get(&format!("/api/v1/schedules/{id}/final?{window}"), &admin)
            .await;
        let expected = segments(&f);
        // BST: Ben 07:00–08:00 UTC, Ana 08:00–19:00 UTC; GMT: Ana the whole 08:00–20:00.
        assert_eq!(expected.len(), 5 * 2 + 5, "{f}");

        let (st, feed) = t
            .post(
                &format!("/api/v1/schedules/{id}/calendar-feed"),
                &admin,
                json!({}),
            )
            .await;
        assert_eq!(st, 201, "{feed}");
        let path = feed["path"].as_str().unwrap().to_string();
        let resp = t
            .http
            .get(format!("{}{path}?{window}", t.base))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        assert_eq!(
            resp.headers()["content-type"],
            "text/calendar; charset=utf-8"
        );
        let events = parse_ics(&resp.text().await.unwrap());
        assert_eq!(events.len(), expected.len());
        let mut uids = std::collections::HashSet::new();
        for (e, (start, end, users)) in events.iter().zip(&expected) {
            assert!(uids.insert(e.0.clone()), "UID repeated: {}", e.0);
            assert_eq!((&e.1, &e.2), (start, end));
            let who = if users[0] == ana {
                "Ana Ångström"
            } else {
                "Ben, the \"backup\"; on call"
            };
            assert_eq!(e.3, format!("Primary — ingest, EU: {who}"));
        }

        // Ana's own feed: exactly her stretches of the final schedule.
        let (st, mine) = t
            .post("/api/v1/users/me/calendar-feed", &ana_tok, json!({}))
            .await;
        assert_eq!(st, 201, "{mine}");
        let text = t
            .http
            .get(format!(
                "{}{}?{window}",
                t.base,
                mine["path"].as_str().unwrap()
            ))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let own: Vec<(String, String)> = parse_ics(&text).into_iter().map(|e| (e.1, e.2)).collect();
        let anas: Vec<(String, String)> = expected
            .iter()
            .filter(|g| g.2.contains(&ana))
            .map(|g| (g.0.clone(), g.1.clone()))
            .collect();
        assert_eq!(own, anas);

        // A new token retires the old URL; unknown tokens are 404.
        let (_, again) = t
            .post(
                &format!("/api/v1/schedules/{id}/calendar-feed"),
                &admin,
                json!({}),
            )
            .await;
        assert_ne!(again["token"], feed["token"]);
        for p in [path.as_str(), "/ical/cal_nope.ics"] {
            let st = t
                .http
                .get(format!("{}{p}", t.base))
                .send()
                .await
                .unwrap()
                .status();
            assert_eq!(st, 404, "{p}");
        }
        // Someone else's feed is not yours to mint.
        let (st, _) = t
            .post(
                &format!("/api/v1/users/{ben}/calendar-feed"),
                &ana_tok,
                json!({}),
            )
            .await;
        assert_eq!(st, 403);
        t.stop().await;
    }
);
