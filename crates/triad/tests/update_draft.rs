//! `GET /incidents/{id}/updates/draft?audience=`: what happened on the internal timeline
//! since that audience's last update, deterministic, for the coordinator to edit.
//! SQLite and PostgreSQL.

use serde_json::json;
use triad_testkit::{TestApp, TestDb, both_backends};

both_backends!(
    a_draft_lists_what_happened_since_the_audience_was_told,
    |db: TestDb| async move {
        let t = TestApp::spawn(db).await;
        let admin = t.admin_token.clone();
        let (_, path) = t.declare(&admin, "Checkout failing", "SEV2").await;
        t.clock.advance_secs(120);
        assert_eq!(
            t.post(&format!("{path}/acknowledge"), &admin, json!({}))
                .await
                .0,
            200
        );
        t.clock.advance_secs(60);
        assert_eq!(
            t.post(
                &format!("{path}/notes"),
                &admin,
                json!({"body": "payments API returns 502"})
            )
            .await
            .0,
            201
        );
        t.clock.advance_secs(60);
        let (s, _) = t
        .post(&format!("{path}/updates"), &admin,
              json!({"audience": "stakeholders", "state": "identified", "message": "Told the execs"}))
        .await;
        assert_eq!(s, 201);
        t.clock.advance_secs(60);
        assert_eq!(
            t.post(
                &format!("{path}/notes"),
                &admin,
                json!({"body": "rollback started"})
            )
            .await
            .0,
            201
        );

        let draft = |audience: &'static str| {
            let t = &t;
            let path = path.clone();
            async move {
                t.get(
                    &format!("{path}/updates/draft?audience={audience}"),
                    &t.admin_token,
                )
                .await
            }
        };
        // Stakeholders were told at 00:04: only the note after that.
        let (s, d) = draft("stakeholders").await;
        assert_eq!(s, 200, "{d}");
        let msg = d["message"].as_str().unwrap();
        assert!(
            msg.starts_with(
                "[SEV2] Checkout failing — identified\n\nSince our last update at 00:04 UTC:\n"
            ),
            "{msg}"
        );
        assert!(msg.contains("- 00:05 Note: rollback started"), "{msg}");
        assert!(
            !msg.contains("payments API") && !msg.contains("Told the execs"),
            "{msg}"
        );
        assert_eq!(d["audience"], "stakeholders");
        assert_eq!(d["state"], "identified");
        assert_eq!(d["events"].as_array().unwrap().len(), 1);
        // The public has never been told: a draft from the start, in words for customers.
        let (_, p) = draft("public").await;
        let msg = p["message"].as_str().unwrap();
        assert_eq!(
            msg,
            "Service disruption — identified\n\n\
             Since the incident began at 00:00 UTC:\n\
             - 00:02 The team acknowledged the problem and is working on it.\n\
             \nNext update by 00:17 UTC.\n",
            "the public draft never carries the title, notes, names or other audiences' words"
        );
        // Reporters have never been told either: everything from the start that matters
        // outside the team, including what the stakeholders were told, but not the paging.
        let (_, r) = draft("reporters").await;
        let msg = r["message"].as_str().unwrap();
        assert!(
            msg.starts_with(
                "[SEV2] Checkout failing — identified\n\nSince the incident began at 00:00 UTC:"
            ),
            "{msg}"
        );
        for needle in [
            "acknowledged",
            "Note: payments API returns 502",
            "Told the execs",
            "Note: rollback started",
        ] {
            assert!(msg.contains(needle), "{needle} in {msg}");
        }
        assert!(!msg.to_lowercase().contains("paged"), "{msg}");
        // Deterministic, and nothing was stored.
        assert_eq!(draft("public").await.1, p);
        let (_, updates) = t
            .get(&format!("{path}/updates?audience=public"), &admin)
            .await;
        assert_eq!(updates, json!([]));
        // Refusals.
        let (s, v) = t
            .get(&format!("{path}/updates/draft?audience=press"), &admin)
            .await;
        assert_eq!(
            (s, v["error"]["fields"][0]["field"].clone()),
            (422, json!("audience"))
        );
        let (s, _) = t.get(&format!("{path}/updates/draft"), &admin).await;
        assert!(s == 400 || s == 422, "audience is required: {s}");
        let (s, _) = t
            .get(
                "/api/v1/incidents/999/updates/draft?audience=public",
                &admin,
            )
            .await;
        assert_eq!(s, 404);
        let (_, viewer) = t.user("v@example.com", "V", "viewer").await;
        assert_eq!(
            t.get(&format!("{path}/updates/draft?audience=public"), &viewer)
                .await
                .0,
            200
        );
        t.stop().await;
    }
);
