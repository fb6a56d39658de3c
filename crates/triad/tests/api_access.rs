//! Every route of the API by every role: the documented status and error code; on
//! SQLite and on PostgreSQL.

use reqwest::Method;
use serde_json::{Value, json};
use triad_testkit::{TestApp, TestDb, both_backends};

/// What a role is allowed on a route: the status a permitted caller gets.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Need {
    Read,
    Declare,
    Note,
    Respond,
    Admin,
    AnyUser,
    /// Admins only; for anybody else the resource does not exist (404), so that ids
    /// of other people's tokens cannot be probed.
    AdminElseHidden,
    /// No token needed.
    Public,
}

fn allowed(role: &str, need: Need) -> bool {
    match need {
        Need::AnyUser | Need::Read | Need::Public => true,
        Need::Declare | Need::Note => matches!(role, "admin" | "responder" | "support"),
        Need::Respond => matches!(role, "admin" | "responder"),
        Need::Admin | Need::AdminElseHidden => role == "admin",
    }
}

both_backends!(every_route_by_every_role, |db: TestDb| async move {
    let t = TestApp::spawn(db).await;
    let mut tokens = vec![("admin".to_string(), Some(t.admin_token.clone()))];
    for role in ["responder", "support", "stakeholder", "viewer"] {
        let (_, tok) = t.user(&format!("{role}@example.com"), role, role).await;
        tokens.push((role.to_string(), Some(tok)));
    }
    tokens.push(("anonymous".into(), None));
    tokens.push((
        "bad-token".into(),
        Some("triad_0000000000000000000000000000000000000000000000000000000000000000".into()),
    ));
    let (helper_id, _) = t.user("helper@example.com", "Helper", "responder").await;
    let admin = t.admin_token.clone();

    let mut checked = 0;
    let mut per_caller = 0;
    for (role, token) in &tokens {
        // Fresh subjects for every caller so that state changes do not interfere.
        let new_incident = |state: &'static str| {
            let t = &t;
            let admin = admin.clone();
            let helper_id = helper_id.clone();
            async move {
                let (_, p) = t.declare(&admin, "t", "SEV2").await;
                match state {
                    "resolved" => assert_eq!(
                        t.post(&format!("{p}/resolve"), &admin, json!({})).await.0,
                        200
                    ),
                    "observed" => assert_eq!(
                        t.post(
                            &format!("{p}/roles"),
                            &admin,
                            json!({"role": "observer", "user": helper_id})
                        )
                        .await
                        .0,
                        200
                    ),
                    _ => {}
                }
                p
            }
        };
        let victim = t
            .user(&format!("victim-{role}@example.com"), "Victim", "viewer")
            .await
            .0;
        let made = |path: &'static str, body: Value| {
            let t = &t;
            let admin = admin.clone();
            async move {
                let (s, v) = t.post(path, &admin, body).await;
                assert_eq!(s, 201, "{v}");
                v["id"].as_str().unwrap().to_string()
            }
        };
        let team = made("/api/v1/teams", json!({"name": format!("keep-{role}")})).await;
        let doomed_team = made("/api/v1/teams", json!({"name": format!("doomed-{role}")})).await;
        let service = made("/api/v1/services", json!({"name": format!("keep-{role}")})).await;
        let doomed_service = made(
            "/api/v1/services",
            json!({"name": format!("doomed-{role}")}),
        )
        .await;
        let admin_token_id = made("/api/v1/tokens", json!({"name": format!("probe-{role}")})).await;
        let (_, stream_incident) = t.declare(&admin, "streamed", "SEV4").await;
        let level = json!([{"delay_seconds": 60, "targets": [{"type": "user", "id": helper_id}]}]);
        let policy = made(
            "/api/v1/escalation-policies",
            json!({"name": format!("keep-{role}"), "levels": level}),
        )
        .await;
        let doomed_policy = made(
            "/api/v1/escalation-policies",
            json!({"name": format!("doomed-{role}"), "levels": level}),
        )
        .await;
        let layers = json!([{"name": "daily", "participants": [helper_id], "shift_length": 1,
            "shift_unit": "days", "start": "2025-12-29", "handoff_time": "09:00"}]);
        let schedule = made(
            "/api/v1/schedules",
            json!({"name": format!("keep-{role}"), "time_zone": "UTC", "layers": layers}),
        )
        .await;
        let doomed_schedule = made(
            "/api/v1/schedules",
            json!({"name": format!("doomed-{role}"), "time_zone": "UTC", "layers": layers}),
        )
        .await;
        let biz = made(
            "/api/v1/business-services",
            json!({"name": format!("keep-{role}"), "tier": 1, "services": [service]}),
        )
        .await;
        let doomed_biz = made(
            "/api/v1/business-services",
            json!({"name": format!("doomed-{role}"), "tier": 4}),
        )
        .await;
        let severity = json!({"ack_deadline_seconds": 14400,
            "staffing": {"required": ["responder"], "distinct": false}});
        let cases: Vec<(Method, String, Option<Value>, Need, u16)> = vec![
            (
                Method::GET,
                format!("/api/v1/teams/{team}"),
                None,
                Need::Read,
                200,
            ),
            (
                Method::PATCH,
                format!("/api/v1/teams/{team}"),
                Some(json!({"description": "d"})),
                Need::Admin,
                200,
            ),
            (
                Method::DELETE,
                format!("/api/v1/teams/{doomed_team}"),
                None,
                Need::Admin,
                204,
            ),
            (
                Method::GET,
                format!("/api/v1/services/{service}"),
                None,
                Need::Read,
                200,
            ),
            (
                Method::PATCH,
                format!("/api/v1/services/{service}"),
                Some(json!({"description": "d"})),
                Need::Admin,
                200,
            ),
            (
                Method::DELETE,
                format!("/api/v1/services/{doomed_service}"),
                None,
                Need::Admin,
                204,
            ),
            (
                Method::GET,
                format!("/api/v1/users/{victim}"),
                None,
                Need::Read,
                200,
            ),
            (
                Method::GET,
                format!("/api/v1/tokens/{admin_token_id}"),
                None,
                Need::AdminElseHidden,
                200,
            ),
            (
                Method::DELETE,
                format!("/api/v1/tokens/{admin_token_id}"),
                None,
                Need::AdminElseHidden,
                204,
            ),
            (
                Method::PUT,
                "/api/v1/auth/password".into(),
                Some(json!({"current_password": "not it", "new_password": "whatever it may be"})),
                Need::AnyUser,
                422,
            ),
            (
                Method::GET,
                "/api/v1/openapi.json".into(),
                None,
                Need::Public,
                200,
            ),
            (Method::GET, "/api/v1/stream".into(), None, Need::Read, 200),
            (
                Method::GET,
                format!("{stream_incident}/stream"),
                None,
                Need::Read,
                200,
            ),
            (
                Method::GET,
                "/api/v1/incidents".into(),
                None,
                Need::Read,
                200,
            ),
            (
                Method::POST,
                "/api/v1/incidents".into(),
                Some(json!({"title": "new", "severity": "P2"})),
                Need::Declare,
                201,
            ),
            (Method::GET, new_incident("").await, None, Need::Read, 200),
            (
                Method::PATCH,
                new_incident("").await,
                Some(json!({"title": "renamed"})),
                Need::Respond,
                200,
            ),
            (
                Method::POST,
                format!("{}/acknowledge", new_incident("").await),
                None,
                Need::Respond,
                200,
            ),
            (
                Method::POST,
                format!("{}/resolve", new_incident("").await),
                None,
                Need::Respond,
                200,
            ),
            (
                Method::POST,
                format!("{}/reopen", new_incident("resolved").await),
                None,
                Need::Respond,
                200,
            ),
            (
                Method::POST,
                format!("{}/roles", new_incident("").await),
                Some(json!({"role": "observer", "user": helper_id})),
                Need::Respond,
                200,
            ),
            (
                Method::DELETE,
                format!(
                    "{}/roles/observer/{helper_id}",
                    new_incident("observed").await
                ),
                None,
                Need::Respond,
                200,
            ),
            (
                Method::GET,
                format!("{}/roles", new_incident("").await),
                None,
                Need::Read,
                200,
            ),
            (
                Method::POST,
                format!("{}/notes", new_incident("").await),
                Some(json!({"body": "n"})),
                Need::Note,
                201,
            ),
            (
                Method::GET,
                format!("{}/timeline", new_incident("").await),
                None,
                Need::Read,
                200,
            ),
            (
                Method::POST,
                format!("{}/updates", new_incident("").await),
                Some(json!({"audience": "public", "state": "investigating", "message": "m"})),
                Need::Respond,
                201,
            ),
            (
                Method::GET,
                format!("{}/updates", new_incident("").await),
                None,
                Need::Read,
                200,
            ),
            (Method::GET, "/api/v1/users".into(), None, Need::Read, 200),
            (
                Method::POST,
                "/api/v1/users".into(),
                Some(
                    json!({"email": format!("new-{role}@example.com"), "name": "N", "role": "viewer"}),
                ),
                Need::Admin,
                201,
            ),
            (
                Method::GET,
                "/api/v1/users/me".into(),
                None,
                Need::Read,
                200,
            ),
            (
                Method::PATCH,
                format!("/api/v1/users/{victim}"),
                Some(json!({"name": "Renamed"})),
                Need::Admin,
                200,
            ),
            (
                Method::DELETE,
                format!("/api/v1/users/{victim}"),
                None,
                Need::Admin,
                200,
            ),
            (Method::GET, "/api/v1/teams".into(), None, Need::Read, 200),
            (
                Method::POST,
                "/api/v1/teams".into(),
                Some(json!({"name": format!("team-{role}")})),
                Need::Admin,
                201,
            ),
            (
                Method::GET,
                "/api/v1/services".into(),
                None,
                Need::Read,
                200,
            ),
            (
                Method::POST,
                "/api/v1/services".into(),
                Some(json!({"name": format!("svc-{role}")})),
                Need::Admin,
                201,
            ),
            (
                Method::GET,
                "/api/v1/tokens".into(),
                None,
                Need::AnyUser,
                200,
            ),
            (
                Method::POST,
                "/api/v1/tokens".into(),
                Some(json!({"name": "extra"})),
                Need::AnyUser,
                201,
            ),
            (
                Method::GET,
                "/api/v1/tokens?all=true".into(),
                None,
                Need::Admin,
                200,
            ),
            (
                Method::GET,
                "/api/v1/escalation-policies".into(),
                None,
                Need::Read,
                200,
            ),
            (
                Method::POST,
                "/api/v1/escalation-policies".into(),
                Some(json!({"name": format!("new-{role}"), "levels": level})),
                Need::Admin,
                201,
            ),
            (
                Method::GET,
                format!("/api/v1/escalation-policies/{policy}"),
                None,
                Need::Read,
                200,
            ),
            (
                Method::PUT,
                format!("/api/v1/escalation-policies/{policy}"),
                Some(json!({"name": format!("keep-{role}"), "levels": level, "repeat": 1})),
                Need::Admin,
                200,
            ),
            (
                Method::DELETE,
                format!("/api/v1/escalation-policies/{doomed_policy}"),
                None,
                Need::Admin,
                204,
            ),
            (
                Method::GET,
                "/api/v1/severity-policies".into(),
                None,
                Need::Read,
                200,
            ),
            (
                Method::PUT,
                "/api/v1/severity-policies/SEV4".into(),
                Some(severity.clone()),
                Need::Admin,
                200,
            ),
            (
                Method::POST,
                "/api/v1/users/me/contact-methods".into(),
                Some(json!({"type": "email", "address": "me@example.com"})),
                Need::AnyUser,
                201,
            ),
            (
                Method::GET,
                "/api/v1/users/me/contact-methods".into(),
                None,
                Need::AnyUser,
                200,
            ),
            (
                Method::POST,
                format!("/api/v1/users/{victim}/contact-methods"),
                Some(json!({"type": "sms", "address": "+4915112345678"})),
                Need::Admin,
                201,
            ),
            (
                Method::GET,
                format!("/api/v1/users/{victim}/notification-rules"),
                None,
                Need::Admin,
                200,
            ),
            (
                Method::POST,
                "/api/v1/users/me/notification-rules".into(),
                Some(json!({"contact_method_id": "none-such"})),
                Need::AnyUser,
                422,
            ),
            (
                Method::DELETE,
                "/api/v1/users/me/contact-methods/none-such".into(),
                None,
                Need::AnyUser,
                404,
            ),
            (
                Method::DELETE,
                "/api/v1/users/me/notification-rules/none-such".into(),
                None,
                Need::AnyUser,
                404,
            ),
            (
                Method::POST,
                format!("{}/update-requests", new_incident("").await),
                None,
                Need::Read,
                202,
            ),
            (
                Method::GET,
                format!("{}/notifications", new_incident("").await),
                None,
                Need::Read,
                200,
            ),
            (
                Method::GET,
                "/api/v1/schedules".into(),
                None,
                Need::Read,
                200,
            ),
            (
                Method::POST,
                "/api/v1/schedules".into(),
                Some(
                    json!({"name": format!("new-{role}"), "time_zone": "Europe/London", "layers": layers}),
                ),
                Need::Admin,
                201,
            ),
            (
                Method::GET,
                format!("/api/v1/schedules/{schedule}"),
                None,
                Need::Read,
                200,
            ),
            (
                Method::PATCH,
                format!("/api/v1/schedules/{schedule}"),
                Some(json!({"description": "the rota"})),
                Need::Admin,
                200,
            ),
            (
                Method::PUT,
                format!("/api/v1/schedules/{schedule}/layers"),
                Some(json!({"layers": layers})),
                Need::Admin,
                200,
            ),
            (
                Method::DELETE,
                format!("/api/v1/schedules/{doomed_schedule}"),
                None,
                Need::Admin,
                204,
            ),
            (
                Method::POST,
                format!("/api/v1/schedules/{schedule}/overrides"),
                Some(
                    json!({"start": "2026-01-01T01:00:00Z", "end": "2026-01-01T02:00:00Z",
                    "action": "add", "user": helper_id}),
                ),
                Need::Respond,
                201,
            ),
            (
                Method::DELETE,
                format!("/api/v1/schedules/{schedule}/overrides/none-such"),
                None,
                Need::Respond,
                404,
            ),
            (
                Method::GET,
                format!("/api/v1/schedules/{schedule}/final"),
                None,
                Need::Read,
                200,
            ),
            (
                Method::GET,
                format!("/api/v1/schedules/{schedule}/gaps"),
                None,
                Need::Read,
                200,
            ),
            (
                Method::POST,
                format!("/api/v1/schedules/{schedule}/calendar-feed"),
                None,
                Need::Admin,
                201,
            ),
            (
                Method::POST,
                "/api/v1/users/me/calendar-feed".into(),
                None,
                Need::AnyUser,
                201,
            ),
            (
                Method::POST,
                format!("/api/v1/users/{victim}/calendar-feed"),
                None,
                Need::Admin,
                201,
            ),
            (Method::GET, "/api/v1/oncall".into(), None, Need::Read, 200),
            (
                Method::GET,
                format!("/api/v1/teams/{team}/role-schedules"),
                None,
                Need::Read,
                200,
            ),
            (
                Method::PUT,
                format!("/api/v1/teams/{team}/role-schedules"),
                Some(json!({"coordinator": schedule})),
                Need::Admin,
                200,
            ),
            (
                Method::GET,
                format!("/api/v1/services/{service}/role-schedules"),
                None,
                Need::Read,
                200,
            ),
            (
                Method::PUT,
                format!("/api/v1/services/{service}/role-schedules"),
                Some(json!({})),
                Need::Admin,
                200,
            ),
            (
                Method::GET,
                "/ical/cal_none-such.ics".into(),
                None,
                Need::Public,
                404,
            ),
            (
                Method::POST,
                format!("/api/v1/services/{service}/integration-keys"),
                Some(json!({"name": "prometheus"})),
                Need::Admin,
                201,
            ),
            (
                Method::GET,
                format!("/api/v1/services/{service}/integration-keys"),
                None,
                Need::Admin,
                200,
            ),
            (
                Method::DELETE,
                format!("/api/v1/services/{service}/integration-keys/none-such"),
                None,
                Need::Admin,
                404,
            ),
            (
                Method::GET,
                "/api/v1/business-services".into(),
                None,
                Need::Read,
                200,
            ),
            (
                Method::POST,
                "/api/v1/business-services".into(),
                Some(json!({"name": format!("new-{role}"), "tier": 2})),
                Need::Admin,
                201,
            ),
            (
                Method::GET,
                format!("/api/v1/business-services/{biz}"),
                None,
                Need::Read,
                200,
            ),
            (
                Method::PATCH,
                format!("/api/v1/business-services/{biz}"),
                Some(json!({"customers_served": "everyone"})),
                Need::Admin,
                200,
            ),
            (
                Method::DELETE,
                format!("/api/v1/business-services/{doomed_biz}"),
                None,
                Need::Admin,
                204,
            ),
            (
                Method::POST,
                "/api/v1/reports".into(),
                Some(
                    json!({"reporter": {"name": "Pat", "email": "pat@example.com"},
                    "text": format!("report by {role}"), "business_service": biz}),
                ),
                Need::Declare,
                201,
            ),
            (
                Method::GET,
                format!("{}/reports", new_incident("").await),
                None,
                Need::Read,
                200,
            ),
            // The vendors' routes authenticate by integration key, whoever calls.
            (
                Method::POST,
                "/v2/enqueue".into(),
                Some(
                    json!({"routing_key": "x".repeat(32), "event_action": "trigger",
                    "payload": {"summary": "s", "source": "s", "severity": "info"}}),
                ),
                Need::Public,
                400,
            ),
            (
                Method::POST,
                "/v2/change/enqueue".into(),
                Some(json!({"routing_key": "x".repeat(32), "payload": {"summary": "s"}})),
                Need::Public,
                400,
            ),
            (
                Method::POST,
                "/v2/alerts".into(),
                Some(json!({"message": "m"})),
                Need::Public,
                401,
            ),
            (
                Method::POST,
                "/v2/alerts/a/acknowledge".into(),
                None,
                Need::Public,
                401,
            ),
            (
                Method::GET,
                "/v2/alerts/requests/r".into(),
                None,
                Need::Public,
                401,
            ),
            (
                Method::POST,
                "/hooks/alertmanager/none-such".into(),
                Some(json!({"version": "4", "groupKey": "g", "alerts": []})),
                Need::Public,
                404,
            ),
            (
                Method::POST,
                "/hooks/report/none-such".into(),
                Some(json!({"reporter": {"name": "P"}, "text": "t"})),
                Need::Public,
                404,
            ),
        ];
        per_caller = cases.len();
        for (method, path, body, need, ok) in cases {
            let body = body
                .or_else(|| (method == Method::POST || method == Method::PATCH).then(|| json!({})));
            let (status, resp) = if path.ends_with("/stream") {
                // A live stream never ends: read the status, and the body only on refusal.
                let mut req = t.http.get(format!("{}{path}", t.base));
                if let Some(tok) = token {
                    req = req.bearer_auth(tok);
                }
                let r = req.send().await.unwrap();
                let status = r.status().as_u16();
                let body = if status == 200 {
                    Value::Null
                } else {
                    r.json().await.unwrap()
                };
                (status, body)
            } else {
                t.call(method.clone(), &path, token.as_deref(), body).await
            };
            let (want, code) = match (role.as_str(), token) {
                _ if need == Need::Public => (ok, None),
                (_, None) | ("bad-token", _) => (401, Some("unauthorized")),
                _ if allowed(role, need) => (ok, None),
                _ if need == Need::AdminElseHidden => (404, Some("not_found")),
                _ => (403, Some("forbidden")),
            };
            assert_eq!(status, want, "{role} {method} {path}: {resp}");
            if let Some(code) = code {
                assert_eq!(resp["error"]["code"], code, "{role} {method} {path}");
                assert!(
                    resp["error"]["message"]
                        .as_str()
                        .is_some_and(|m| !m.is_empty())
                );
            }
            checked += 1;
        }
    }
    assert_eq!(per_caller, 91, "every route of the API is in the table");
    assert_eq!(checked, per_caller * tokens.len());
    t.stop().await;
});
