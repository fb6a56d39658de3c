//! Bad input to the schedule API gets 4xx naming the field, never a 500, and nothing is
//! stored; on SQLite and on PostgreSQL.

use reqwest::Method;
use serde_json::{Value, json};
use triad_testkit::{TestApp, TestDb, both_backends};

fn fields(v: &Value) -> Vec<String> {
    v["error"]["fields"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|f| f["field"].as_str().unwrap().to_string())
                .collect()
        })
        .unwrap_or_default()
}

fn layer(over: Value) -> Value {
    let mut l = json!({"name": "daily", "participants": ["u@example.com"], "shift_length": 1,
        "shift_unit": "days", "start": "2025-12-29", "handoff_time": "09:00"});
    for (k, v) in over.as_object().unwrap() {
        l[k] = v.clone();
    }
    l
}

fn schedule(layers: Value) -> Value {
    json!({"name": "s", "time_zone": "Europe/London", "layers": layers})
}

both_backends!(
    bad_schedule_input_names_its_field,
    |db: TestDb| async move {
        let t = TestApp::spawn(db).await;
        let admin = t.admin_token.clone();
        t.user("u@example.com", "U", "responder").await;
        let (st, ok) = t
            .post(
                "/api/v1/schedules",
                &admin,
                schedule(json!([layer(json!({}))])),
            )
            .await;
        assert_eq!(st, 201, "{ok}");
        let s = "/api/v1/schedules/s";
        let cases: Vec<(Method, String, Value, u16, Vec<&str>)> = vec![
            (
                Method::POST,
                "/api/v1/schedules".into(),
                json!({"name": "", "time_zone": "Mars/Base", "layers": []}),
                422,
                vec!["name", "time_zone", "layers"],
            ),
            (
                Method::POST,
                "/api/v1/schedules".into(),
                schedule(json!([layer(
                    json!({"participants": ["nobody@example.com", ""],
                "shift_length": 0, "time_zone": "Not/AZone", "name": " "})
                )])),
                422,
                vec![
                    "layers[0].name",
                    "layers[0].time_zone",
                    "layers[0].shift_length",
                    "layers[0].participants[0]",
                    "layers[0].participants[1]",
                ],
            ),
            (
                Method::POST,
                "/api/v1/schedules".into(),
                schedule(json!([layer(json!({"participants": []}))])),
                422,
                vec!["layers[0].participants"],
            ),
            (
                Method::POST,
                "/api/v1/schedules".into(),
                schedule(json!([layer(
                    json!({"shift_length": 100000, "shift_unit": "weeks"})
                )])),
                422,
                vec!["layers[0].shift_length"],
            ),
            (
                Method::POST,
                "/api/v1/schedules".into(),
                schedule(json!([layer(json!({"handoff_time": "25:00"}))])),
                422,
                vec!["layers[0].handoff_time"],
            ),
            (
                Method::POST,
                "/api/v1/schedules".into(),
                schedule(json!([layer(json!({"shift_unit": "fortnights"}))])),
                422,
                vec!["layers[0].shift_unit"],
            ),
            (
                Method::POST,
                "/api/v1/schedules".into(),
                schedule(json!([layer(json!({"start": "2026-02-30"}))])),
                422,
                vec!["layers[0].start"],
            ),
            (
                Method::POST,
                "/api/v1/schedules".into(),
                schedule(json!([layer(
                    json!({"restrictions": [{"days": ["funday"], "start": "09:00", "end": "17:00"}]})
                )])),
                422,
                vec!["layers[0].restrictions[0].days[0]"],
            ),
            (
                Method::POST,
                "/api/v1/schedules".into(),
                schedule(json!([layer(json!({"colour": "red"}))])),
                422,
                vec!["layers[0].colour"],
            ),
            (
                Method::POST,
                "/api/v1/schedules".into(),
                json!({"name": "t", "time_zone": "UTC", "layers": [layer(json!({}))], "effective_from": "yesterday"}),
                422,
                vec!["effective_from"],
            ),
            (
                Method::POST,
                "/api/v1/schedules".into(),
                schedule(json!([layer(json!({}))])),
                409,
                vec![],
            ),
            (
                Method::PATCH,
                s.into(),
                json!({"time_zone": "Europe/Lndon"}),
                422,
                vec!["time_zone"],
            ),
            (
                Method::PUT,
                format!("{s}/layers"),
                json!({"layers": [], "effective_from": "2025-01-01T00:00:00Z"}),
                422,
                vec!["effective_from", "layers"],
            ),
            (
                Method::POST,
                format!("{s}/overrides"),
                json!({"start": "2026-01-02T00:00:00Z", "end": "2026-01-01T00:00:00Z",
                "action": "add", "user": "u@example.com"}),
                422,
                vec!["end"],
            ),
            (
                Method::POST,
                format!("{s}/overrides"),
                json!({"start": "2025-12-01T00:00:00Z", "end": "2025-12-02T00:00:00Z",
                "action": "remove", "user": "u@example.com"}),
                422,
                vec!["end"],
            ),
            (
                Method::POST,
                format!("{s}/overrides"),
                json!({"start": "2026-01-02T00:00:00Z", "end": "2026-01-03T00:00:00Z",
                "action": "swap", "user": "u@example.com"}),
                422,
                vec!["action"],
            ),
            (
                Method::POST,
                format!("{s}/overrides"),
                json!({"start": "soon", "end": "2026-01-03T00:00:00Z",
                "action": "add", "user": "u@example.com"}),
                422,
                vec!["start"],
            ),
            (
                Method::POST,
                format!("{s}/overrides"),
                json!({"start": "2026-01-02T00:00:00Z", "end": "2026-01-03T00:00:00Z",
                "action": "add", "user": "ghost@example.com", "replaces": "u@example.com"}),
                422,
                vec!["user", "replaces"],
            ),
            (
                Method::GET,
                format!("{s}/final?from=bad"),
                Value::Null,
                422,
                vec!["from"],
            ),
            (
                Method::GET,
                format!("{s}/final?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z"),
                Value::Null,
                422,
                vec!["to"],
            ),
            (
                Method::GET,
                format!("{s}/gaps?from=2026-01-01T00:00:00Z&to=2028-01-01T00:00:00Z"),
                Value::Null,
                422,
                vec!["to"],
            ),
            (
                Method::GET,
                "/api/v1/oncall?at=noon".into(),
                Value::Null,
                422,
                vec!["at"],
            ),
            (
                Method::PUT,
                "/api/v1/services/none/role-schedules".into(),
                json!({}),
                404,
                vec![],
            ),
            (
                Method::GET,
                "/api/v1/schedules/none-such/final".into(),
                Value::Null,
                404,
                vec![],
            ),
            (
                Method::DELETE,
                format!("{s}/overrides/none-such"),
                Value::Null,
                404,
                vec![],
            ),
        ];
        for (method, path, body, want, want_fields) in cases {
            let body = (!body.is_null()).then_some(body);
            let (st, v) = t.call(method.clone(), &path, Some(&admin), body).await;
            assert_eq!(st, want, "{method} {path}: {v}");
            for f in &want_fields {
                assert!(
                    fields(&v).iter().any(|x| x == f),
                    "{method} {path}: {f} not in {v}"
                );
            }
        }
        // A team's role schedule must exist.
        let (_, team) = t.post("/api/v1/teams", &admin, json!({"name": "a"})).await;
        let (st, v) = t
            .call(
                Method::PUT,
                &format!(
                    "/api/v1/teams/{}/role-schedules",
                    team["id"].as_str().unwrap()
                ),
                Some(&admin),
                Some(json!({"observer": "nope", "coordinator": "s"})),
            )
            .await;
        assert_eq!((st, fields(&v)), (422, vec!["observer".to_string()]), "{v}");
        // Nothing was stored by the refusals: one schedule, one version, no overrides.
        let (_, list) = t.get("/api/v1/schedules", &admin).await;
        assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
        assert_eq!(list[0]["versions"].as_array().unwrap().len(), 1);
        assert_eq!(list[0]["overrides"], json!([]));
        assert_eq!(list[0]["time_zone"], "Europe/London");
        t.stop().await;
    }
);
