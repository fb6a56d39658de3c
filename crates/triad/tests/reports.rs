//! Support reports on both databases: four reports about one outage become one incident
//! with four subscribed reporters (matched by words, by ticket reference, by naming the
//! incident); each gets a receipt, then every `reporters` update exactly once. A report
//! about something else opens its own incident; a help desk files through a key.

use serde_json::{Value, json};
use triad_testkit::{TestApp, TestDb, both_backends};

fn report(name: &str, email: &str, text: &str, extra: Value) -> Value {
    let mut r = json!({"reporter": {"name": name, "email": email}, "text": text,
        "service": "data ingest"});
    for (k, v) in extra.as_object().unwrap() {
        r[k] = v.clone();
    }
    r
}

both_backends!(
    four_reports_one_incident_every_update_once,
    |db: TestDb| async move {
        let t = TestApp::spawn(db).await;
        let admin = t.admin_token.clone();
        let (_, sue) = t.user("sue@example.com", "Sue Support", "support").await;
        let (_, rita) = t.user("rita@example.com", "Rita", "responder").await;
        let (st, _) = t
            .post("/api/v1/services", &admin, json!({"name": "data ingest"}))
            .await;
        assert_eq!(st, 201);

        let (st, first) = t
            .post(
                "/api/v1/reports",
                &sue,
                report(
                    "Pat",
                    "pat@a.example",
                    "Data ingest stalled: dashboards stopped updating",
                    json!({"severity": "SEV2", "external_ref": "ZD-100"}),
                ),
            )
            .await;
        assert_eq!(st, 201, "{first}");
        assert_eq!(first["report"]["matched_by"], "new");
        assert_eq!(first["incident"]["severity"], "SEV2");
        let n = first["incident"]["number"].clone();
        let cases = [
            (
                "Quinn",
                "quinn@b.example",
                "Our dashboards stopped updating, is data ingest down?",
                json!({}),
                "text",
            ),
            (
                "Ravi",
                "ravi@c.example",
                "Following up on my ticket",
                json!({"external_ref": "ZD-100"}),
                "external_ref",
            ),
            (
                "Sara",
                "sara@d.example",
                "Same here",
                json!({"incident": n.to_string()}),
                "named",
            ),
        ];
        for (name, email, text, extra, how) in cases {
            let (st, r) = t
                .post("/api/v1/reports", &sue, report(name, email, text, extra))
                .await;
            assert_eq!(st, 201, "{r}");
            assert_eq!(r["incident"]["number"], n, "{name}: {r}");
            assert_eq!(r["report"]["matched_by"], how, "{name}");
        }
        let (_, i) = t.get(&format!("/api/v1/incidents/{n}"), &admin).await;
        assert_eq!(i["reporters"].as_array().unwrap().len(), 4, "{i}");
        assert_eq!(
            i["reports"], 4,
            "the incident shows how many reports it absorbed"
        );
        let (st, list) = t
            .get(&format!("/api/v1/incidents/{n}/reports"), &admin)
            .await;
        assert_eq!(st, 200);
        assert_eq!(list.as_array().unwrap().len(), 4);
        assert_eq!(incidents_count(&t).await, 1);

        // Each reporter has exactly one receipt.
        t.tick().await;
        let emails = [
            "pat@a.example",
            "quinn@b.example",
            "ravi@c.example",
            "sara@d.example",
        ];
        for e in emails {
            let got = t.recorder.to(e);
            assert_eq!(got.len(), 1, "{e}: {got:?}");
            assert!(
                got[0].message.subject.contains("Received"),
                "{e}: {:?}",
                got[0].message.subject
            );
        }
        // Acknowledged, then two updates to reporters: each reporter gets each exactly once.
        let (st, _) = t
            .post(
                &format!("/api/v1/incidents/{n}/acknowledge"),
                &rita,
                json!({}),
            )
            .await;
        assert_eq!(st, 200);
        for (k, msg) in [
            "Ingest paused while we replay partition 7",
            "Replay done; dashboards catching up",
        ]
        .iter()
        .enumerate()
        {
            let (st, u) = t
                .post(
                    &format!("/api/v1/incidents/{n}/updates"),
                    &rita,
                    json!({"audience": "reporters", "state": "identified", "message": msg}),
                )
                .await;
            assert_eq!(st, 201, "{u}");
            t.tick().await;
            t.tick().await;
            for e in emails {
                let got: Vec<_> = t
                    .recorder
                    .to(e)
                    .into_iter()
                    .filter(|s| s.message.text.contains(msg))
                    .collect();
                assert_eq!(got.len(), 1, "update {k} to {e}");
            }
        }
        // Something else opens its own incident; a help desk files through a key.
        let (st, other) = t
            .post(
                "/api/v1/reports",
                &sue,
                report(
                    "Uma",
                    "uma@e.example",
                    "Invoices show the wrong currency",
                    json!({}),
                ),
            )
            .await;
        assert_eq!(st, 201);
        assert_ne!(other["incident"]["number"], n);
        let (_, k) = t
            .post(
                "/api/v1/services/data ingest/integration-keys",
                &admin,
                json!({"name": "zendesk"}),
            )
            .await;
        let key = k["key"].as_str().unwrap();
        let r = t.http.post(format!("{}/hooks/report/{key}", t.base))
        .json(&json!({"reporter": {"name": "Vic", "email": "vic@f.example"}, "text": "dashboards stopped updating, data ingest stalled?"}))
        .send().await.unwrap();
        assert_eq!(r.status(), 201);
        let filed: Value = r.json().await.unwrap();
        assert_eq!(filed["incident"]["number"], n, "{filed}");
        assert_eq!(filed["reports"], 5);
        // Refusals name the field; a resolved incident cannot be named.
        let (st, e) = t
            .post(
                "/api/v1/reports",
                &sue,
                json!({"reporter": {}, "text": "", "service": "nope"}),
            )
            .await;
        assert_eq!(st, 422, "{e}");
        let fields: Vec<&str> = e["error"]["fields"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["field"].as_str().unwrap())
            .collect();
        for f in ["text", "reporter.name", "service"] {
            assert!(fields.contains(&f), "{f} in {e}");
        }
        let (_, viewer) = t.user("vera@example.com", "Vera", "viewer").await;
        let (st, _) = t
            .post(
                "/api/v1/reports",
                &viewer,
                report("V", "v@x.example", "x y z", json!({})),
            )
            .await;
        assert_eq!(st, 403);
        t.stop().await;
    }
);

async fn incidents_count(t: &TestApp) -> usize {
    let (_, list) = t.get("/api/v1/incidents", &t.admin_token).await;
    list["items"].as_array().unwrap().len()
}
