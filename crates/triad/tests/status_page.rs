//! The public status page's Statuspage-compatible JSON API, field for field and enum
//! for enum against `reference/protocols.md` §2.6; its cache; the HTML page and the Atom
//! feed. On SQLite and on PostgreSQL.

mod status_common;

use serde_json::{Value, json};
use status_common::*;
use std::collections::BTreeSet;
use triad_testkit::{TestApp, TestDb, both_backends};

const PAGE_KEYS: &[&str] = &["id", "name", "url", "time_zone", "updated_at"];
const COMPONENT_KEYS: &[&str] = &[
    "id",
    "name",
    "status",
    "created_at",
    "updated_at",
    "position",
    "description",
    "showcase",
    "start_date",
    "group_id",
    "page_id",
    "group",
    "only_show_if_degraded",
];
const INCIDENT_KEYS: &[&str] = &[
    "id",
    "name",
    "status",
    "created_at",
    "updated_at",
    "monitoring_at",
    "resolved_at",
    "impact",
    "shortlink",
    "started_at",
    "page_id",
    "incident_updates",
    "components",
];
const UPDATE_KEYS: &[&str] = &[
    "id",
    "status",
    "body",
    "incident_id",
    "created_at",
    "updated_at",
    "display_at",
    "affected_components",
    "deliver_notifications",
    "custom_tweet",
    "tweet_id",
];
const COMPONENT_STATUSES: &[&str] = &[
    "operational",
    "degraded_performance",
    "partial_outage",
    "major_outage",
    "under_maintenance",
];
const INCIDENT_STATUSES: &[&str] = &[
    "investigating",
    "identified",
    "monitoring",
    "resolved",
    "postmortem",
];
const MAINTENANCE_STATUSES: &[&str] = &["scheduled", "in_progress", "verifying", "completed"];
const INDICATORS: &[&str] = &["none", "minor", "major", "critical", "maintenance"];
const DESCRIPTIONS: &[&str] = &[
    "All Systems Operational",
    "Partially Degraded Service",
    "Minor Service Outage",
    "Partial System Outage",
    "Major Service Outage",
    "Service Under Maintenance",
];

fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object().expect("an object").keys().cloned().collect()
}

fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|s| s.to_string()).collect()
}

/// ISO 8601 with milliseconds and the page's offset: `2026-01-01T10:00:00.000+01:00`.
fn check_time(v: &Value, what: &str) {
    let s = v
        .as_str()
        .unwrap_or_else(|| panic!("{what}: {v} is not a string"));
    let b = s.as_bytes();
    let shape_ok = b.len() == 29
        && s[..23].chars().enumerate().all(|(n, c)| match n {
            4 | 7 => c == '-',
            10 => c == 'T',
            13 | 16 => c == ':',
            19 => c == '.',
            _ => c.is_ascii_digit(),
        })
        && (b[23] == b'+' || b[23] == b'-')
        && b[26] == b':';
    assert!(
        shape_ok,
        "{what}: {s} is not ISO 8601 with milliseconds and an offset"
    );
    assert!(
        s.parse::<jiff::Timestamp>().is_ok(),
        "{what}: {s} does not parse"
    );
}

fn check_opt_time(v: &Value, what: &str) {
    if !v.is_null() {
        check_time(v, what);
    }
}

fn check_page(v: &Value, page_id: &str) {
    assert_eq!(keys(v), set(PAGE_KEYS), "page: {v}");
    assert_eq!(v["id"], page_id);
    assert_eq!(v["name"], "Acme Status");
    assert_eq!(v["url"], "https://status.acme.test");
    assert_eq!(v["time_zone"], "Europe/Berlin");
    check_time(&v["updated_at"], "page.updated_at");
}

fn check_component(c: &Value, page_id: &str) {
    let mut want = set(COMPONENT_KEYS);
    if c["group"] == true {
        want.insert("components".into());
        assert!(c["components"].is_array());
    }
    assert_eq!(keys(c), want, "component: {c}");
    assert!(
        COMPONENT_STATUSES.contains(&c["status"].as_str().unwrap()),
        "{c}"
    );
    check_time(&c["created_at"], "component.created_at");
    check_time(&c["updated_at"], "component.updated_at");
    assert!(c["position"].is_i64());
    assert!(c["description"].is_null() || c["description"].is_string());
    assert!(c["showcase"].is_boolean() && c["group"].is_boolean());
    assert!(c["only_show_if_degraded"].is_boolean());
    assert!(c["group_id"].is_null() || c["group_id"].is_string());
    assert!(c["start_date"].is_null() || c["start_date"].as_str().unwrap().len() == 10);
    assert_eq!(c["page_id"], page_id);
}

fn check_incident(i: &Value, page_id: &str, maintenance: bool) {
    let mut want = set(INCIDENT_KEYS);
    if maintenance {
        want.insert("scheduled_for".into());
        want.insert("scheduled_until".into());
        check_time(&i["scheduled_for"], "scheduled_for");
        check_time(&i["scheduled_until"], "scheduled_until");
        assert!(
            MAINTENANCE_STATUSES.contains(&i["status"].as_str().unwrap()),
            "{i}"
        );
        assert_eq!(i["impact"], "maintenance");
    } else {
        assert!(
            INCIDENT_STATUSES.contains(&i["status"].as_str().unwrap()),
            "{i}"
        );
        assert!(["none", "minor", "major", "critical"].contains(&i["impact"].as_str().unwrap()));
    }
    assert_eq!(keys(i), want, "incident: {i}");
    for f in ["created_at", "updated_at", "started_at"] {
        check_time(&i[f], f);
    }
    check_opt_time(&i["monitoring_at"], "monitoring_at");
    check_opt_time(&i["resolved_at"], "resolved_at");
    assert_eq!(i["page_id"], page_id);
    assert!(
        i["shortlink"]
            .as_str()
            .unwrap()
            .starts_with("https://status.acme.test/")
    );
    let updates = i["incident_updates"].as_array().unwrap();
    assert!(!updates.is_empty());
    let mut last: Option<String> = None;
    for u in updates {
        assert_eq!(keys(u), set(UPDATE_KEYS), "update: {u}");
        assert_eq!(u["incident_id"], i["id"]);
        assert!(u["body"].is_string() && u["id"].is_string());
        for f in ["created_at", "updated_at", "display_at"] {
            check_time(&u[f], f);
        }
        assert!(u["affected_components"].is_null());
        assert_eq!(u["deliver_notifications"], true);
        assert!(u["custom_tweet"].is_null() && u["tweet_id"].is_null());
        let at: jiff::Timestamp = u["display_at"].as_str().unwrap().parse().unwrap();
        if let Some(prev) = &last {
            let prev: jiff::Timestamp = prev.parse().unwrap();
            assert!(at <= prev, "incident_updates are newest first");
        }
        last = Some(u["display_at"].as_str().unwrap().to_string());
        let allowed = if maintenance {
            MAINTENANCE_STATUSES
        } else {
            INCIDENT_STATUSES
        };
        assert!(allowed.contains(&u["status"].as_str().unwrap()));
    }
    for c in i["components"].as_array().unwrap() {
        check_component(c, page_id);
    }
}

fn ids(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|x| x["id"].as_str().unwrap().to_string())
        .collect()
}

fn status_of(components: &Value, id: &str) -> String {
    components
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("component {id}"))["status"]
        .as_str()
        .unwrap()
        .to_string()
}

both_backends!(every_endpoint_field_for_field, |db: TestDb| async move {
    let t = TestApp::spawn(db).await;
    let p = setup(&t).await;
    let base = "/status/api/v2";
    let summary = public(&t, &format!("{base}/summary.json")).await;
    let page_id = summary["page"]["id"].as_str().unwrap().to_string();
    assert!(
        page_id.len() == 12
            && page_id
                .chars()
                .all(|c| c.is_ascii_digit() || c.is_ascii_lowercase()),
        "page id {page_id}"
    );

    // summary.json
    assert_eq!(
        keys(&summary),
        set(&[
            "page",
            "components",
            "incidents",
            "scheduled_maintenances",
            "status"
        ])
    );
    check_page(&summary["page"], &page_id);
    let status = &summary["status"];
    assert_eq!(keys(status), set(&["indicator", "description"]));
    assert!(INDICATORS.contains(&status["indicator"].as_str().unwrap()));
    assert!(DESCRIPTIONS.contains(&status["description"].as_str().unwrap()));
    assert_eq!(status["indicator"], "major");
    assert_eq!(status["description"], "Partial System Outage");
    for c in summary["components"].as_array().unwrap() {
        check_component(c, &page_id);
    }
    let comps = &summary["components"];
    assert_eq!(
        ids(comps),
        vec![
            p.group.clone(),
            p.checkout.clone(),
            p.search.clone(),
            p.worker.clone()
        ]
    );
    assert_eq!(status_of(comps, &p.checkout), "partial_outage");
    // Degraded by the incident beats under maintenance.
    assert_eq!(status_of(comps, &p.search), "degraded_performance");
    assert_eq!(status_of(comps, &p.group), "partial_outage");
    assert_eq!(status_of(comps, &p.worker), "operational");
    let group = &comps[0];
    assert_eq!(group["group"], true);
    assert_eq!(group["components"], json!([p.checkout, p.search]));
    let checkout = &comps[1];
    assert_eq!(checkout["group_id"], p.group.as_str());
    assert_eq!(checkout["description"], "Paying for orders");
    assert_eq!(checkout["start_date"], "2025-06-01");
    assert_eq!(comps[3]["only_show_if_degraded"], true);
    assert_eq!(ids(&summary["incidents"]), vec![p.open_incident.clone()]);
    assert_eq!(
        ids(&summary["scheduled_maintenances"]),
        vec![p.upcoming.clone(), p.active.clone()]
    );
    for i in summary["incidents"].as_array().unwrap() {
        check_incident(i, &page_id, false);
    }
    for m in summary["scheduled_maintenances"].as_array().unwrap() {
        check_incident(m, &page_id, true);
    }
    let open = &summary["incidents"][0];
    assert_eq!(open["name"], "Payment failures");
    assert_eq!(open["status"], "identified");
    assert_eq!(open["impact"], "major");
    assert!(open["resolved_at"].is_null() && open["monitoring_at"].is_null());
    assert_eq!(
        open["shortlink"],
        format!("https://status.acme.test/incidents/{}", p.open_incident)
    );
    let bodies: Vec<&str> = open["incident_updates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["body"].as_str().unwrap())
        .collect();
    assert_eq!(bodies, ["We found the cause.", "Some payments fail."]);
    assert_eq!(
        ids(&open["components"]),
        vec![p.group.clone(), p.checkout.clone(), p.search.clone()]
    );

    // status.json
    let doc = public(&t, &format!("{base}/status.json")).await;
    assert_eq!(keys(&doc), set(&["page", "status"]));
    check_page(&doc["page"], &page_id);
    assert_eq!(doc["status"], summary["status"]);

    // components.json
    let doc = public(&t, &format!("{base}/components.json")).await;
    assert_eq!(keys(&doc), set(&["page", "components"]));
    check_page(&doc["page"], &page_id);
    assert_eq!(doc["components"], summary["components"]);

    // incidents.json: resolved ones too, latest first.
    let doc = public(&t, &format!("{base}/incidents.json")).await;
    assert_eq!(keys(&doc), set(&["page", "incidents"]));
    check_page(&doc["page"], &page_id);
    assert_eq!(
        ids(&doc["incidents"]),
        vec![p.open_incident.clone(), p.resolved_incident.clone()]
    );
    for i in doc["incidents"].as_array().unwrap() {
        check_incident(i, &page_id, false);
    }
    let old = &doc["incidents"][1];
    assert_eq!(old["name"], "Delayed jobs");
    assert_eq!(old["status"], "resolved");
    assert_eq!(old["impact"], "minor", "an unassessed SEV3 counts as minor");
    check_time(&old["monitoring_at"], "monitoring_at");
    check_time(&old["resolved_at"], "resolved_at");
    assert_eq!(old["incident_updates"].as_array().unwrap().len(), 3);

    // incidents/unresolved.json
    let doc = public(&t, &format!("{base}/incidents/unresolved.json")).await;
    assert_eq!(keys(&doc), set(&["page", "incidents"]));
    assert_eq!(doc["incidents"], summary["incidents"]);

    // The three maintenance lists.
    let all = public(&t, &format!("{base}/scheduled-maintenances.json")).await;
    assert_eq!(keys(&all), set(&["page", "scheduled_maintenances"]));
    check_page(&all["page"], &page_id);
    assert_eq!(
        ids(&all["scheduled_maintenances"]),
        vec![p.upcoming.clone(), p.active.clone(), p.done.clone()]
    );
    let statuses: Vec<&str> = all["scheduled_maintenances"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            check_incident(m, &page_id, true);
            m["status"].as_str().unwrap()
        })
        .collect();
    assert_eq!(statuses, ["scheduled", "in_progress", "completed"]);
    let upcoming = public(&t, &format!("{base}/scheduled-maintenances/upcoming.json")).await;
    assert_eq!(keys(&upcoming), set(&["page", "scheduled_maintenances"]));
    assert_eq!(
        ids(&upcoming["scheduled_maintenances"]),
        vec![p.upcoming.clone()]
    );
    // A maintenance on a group lists the group.
    assert_eq!(
        ids(&upcoming["scheduled_maintenances"][0]["components"]),
        vec![p.group.clone()]
    );
    let active = public(&t, &format!("{base}/scheduled-maintenances/active.json")).await;
    assert_eq!(
        ids(&active["scheduled_maintenances"]),
        vec![p.active.clone()]
    );
    let done = &all["scheduled_maintenances"][2];
    check_time(&done["resolved_at"], "maintenance resolved_at");
    let updates: Vec<&str> = done["incident_updates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["status"].as_str().unwrap())
        .collect();
    assert_eq!(updates, ["completed", "in_progress", "scheduled"]);

    // Nothing internal leaks: not the internal title, not the stakeholder update.
    for path in [
        "summary.json",
        "incidents.json",
        "scheduled-maintenances.json",
    ] {
        let text = t
            .http
            .get(format!("{}{base}/{path}", t.base))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            !text.contains("PRIMARY-DB") && !text.contains("INTERNAL") && !text.contains("kafka"),
            "{path}"
        );
    }
    t.stop().await;
});

both_backends!(
    the_cache_follows_publishing_and_the_clock,
    |db: TestDb| async move {
        let t = TestApp::spawn(db).await;
        let p = setup(&t).await;
        let summary = "/status/api/v2/summary.json";
        let before = public(&t, summary).await;
        assert_eq!(
            before["incidents"][0]["incident_updates"]
                .as_array()
                .unwrap()
                .len(),
            2
        );
        // Same instant: publishing alone must show.
        publish(
            &t,
            &p.incident_path,
            "monitoring",
            "Payments recover.",
            None,
        )
        .await;
        let after = public(&t, summary).await;
        let open = &after["incidents"][0];
        assert_eq!(open["status"], "monitoring");
        assert_eq!(open["incident_updates"][0]["body"], "Payments recover.");
        check_time(&open["monitoring_at"], "monitoring_at");
        // Impact moves component statuses at once too.
        let (s, _) = put(
            &t,
            &format!("{}/impact", p.incident_path),
            json!({"business_services": [{"id": "Checkout", "impact": "major_outage"}]}),
        )
        .await;
        assert_eq!(s, 200);
        let after = public(&t, summary).await;
        assert_eq!(status_of(&after["components"], &p.checkout), "major_outage");
        // Search lost its impact; its maintenance is still in progress.
        assert_eq!(
            status_of(&after["components"], &p.search),
            "under_maintenance"
        );
        assert_eq!(after["status"]["indicator"], "critical");
        assert_eq!(after["status"]["description"], "Major Service Outage");
        // The maintenance ends by the clock alone: no write, and the page follows.
        t.clock.advance_secs(3601);
        let later = public(&t, summary).await;
        assert_eq!(status_of(&later["components"], &p.search), "operational");
        assert_eq!(
            ids(&later["scheduled_maintenances"]),
            vec![p.upcoming.clone()]
        );
        // Resolving publicly empties the unresolved list; the page is green again.
        publish(&t, &p.incident_path, "resolved", "All good.", None).await;
        let last = public(&t, summary).await;
        assert_eq!(last["incidents"], json!([]));
        assert_eq!(
            last["status"],
            json!({"indicator": "none", "description": "All Systems Operational"})
        );
        assert!(
            last["components"]
                .as_array()
                .unwrap()
                .iter()
                .all(|c| c["status"] == "operational")
        );
        t.stop().await;
    }
);

both_backends!(
    another_nodes_change_shows_within_the_max_age,
    |db: TestDb| async move {
        let t = TestApp::spawn(db).await;
        let p = setup(&t).await;
        let summary = "/status/api/v2/summary.json";
        assert_eq!(
            public(&t, summary).await["incidents"][0]["status"],
            "identified"
        );
        // A second node on the same database publishes; this node's cache does not know.
        let store = triad_store::Store::connect(&t.db.url).await.unwrap();
        let other = triad_app::App::new(
            store,
            std::sync::Arc::new(t.clock.clone()),
            triad_app::AppConfig::default(),
        )
        .await
        .unwrap();
        other
            .publish_update(
                &triad_app::Actor::System,
                &p.open_incident,
                triad_app::update::Publish {
                    audience: "public".into(),
                    state: "monitoring".into(),
                    message: "From the other node.".into(),
                    public_title: None,
                },
            )
            .await
            .unwrap();
        assert_eq!(
            public(&t, summary).await["incidents"][0]["status"],
            "identified",
            "cached"
        );
        t.clock.advance_secs(5);
        assert_eq!(
            public(&t, summary).await["incidents"][0]["status"],
            "monitoring"
        );
        t.stop().await;
    }
);

both_backends!(
    html_page_incident_page_and_atom_feed,
    |db: TestDb| async move {
        let t = TestApp::spawn(db).await;
        let p = setup(&t).await;
        let get = |path: String| {
            let t = &t;
            async move {
                let r = t
                    .http
                    .get(format!("{}{path}", t.base))
                    .send()
                    .await
                    .unwrap();
                let status = r.status().as_u16();
                let ct = r
                    .headers()
                    .get("content-type")
                    .map(|v| v.to_str().unwrap().to_string());
                (status, ct.unwrap_or_default(), r.text().await.unwrap())
            }
        };
        let (s, ct, html) = get("/status".into()).await;
        assert_eq!(s, 200);
        assert!(ct.starts_with("text/html"));
        for needle in [
            "Acme Status",
            "Partial System Outage",
            "Payment failures",
            "We found the cause.",
            "Storefront",
            "Checkout",
            "Search reindex",
            "Network work",
            "Delayed jobs",
            "% uptime",
        ] {
            assert!(html.contains(needle), "the page shows {needle}");
        }
        assert!(!html.contains("PRIMARY-DB") && !html.contains("INTERNAL"));
        // "Background jobs" is operational and only shown when degraded.
        assert!(!html.contains("Background jobs"));
        assert_eq!(
            html.matches("<i class=").count(),
            90,
            "one bar of 90 days (the group's)"
        );
        let (s, _, one) = get(format!("/status/incidents/{}", p.open_incident)).await;
        assert_eq!(s, 200);
        assert!(one.contains("Payment failures") && one.contains("Some payments fail."));
        let (s, _, _) = get(format!("/status/incidents/{}", "nope")).await;
        assert_eq!(s, 404);
        let (s, ct, atom) = get("/status/history.atom".into()).await;
        assert_eq!(s, 200);
        assert!(ct.starts_with("application/atom+xml"));
        assert!(
            atom.starts_with("<?xml")
                && atom.contains("<feed xmlns=\"http://www.w3.org/2005/Atom\">")
        );
        assert_eq!(atom.matches("<entry>").count(), 2);
        assert!(atom.contains("Payment failures") && !atom.contains("PRIMARY-DB"));
        assert!(atom.contains("<author><name>Acme Status</name></author>"));
        // The feed is well-formed XML: Python's parser reads every entry.
        let out = triad_testkit::run_python(
            "xml",
            "import sys, xml.etree.ElementTree as ET\nroot = ET.fromstring(sys.argv[1])\nns = {'a': 'http://www.w3.org/2005/Atom'}\nprint(len(root.findall('a:entry', ns)))",
            &[&atom],
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "2");
        t.stop().await;
    }
);
