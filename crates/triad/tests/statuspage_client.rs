//! The real npm `statuspage.io` client (3.3.8, installed by `.ci/run`) reads Triad's
//! status page: summary, status, components, all and unresolved incidents, and
//! upcoming maintenances (the client's `getActive` and `getAll` also call
//! `upcoming.json`). What it gets must equal what Triad serves. SQLite and PostgreSQL.

mod status_common;

use serde_json::Value;
use status_common::*;
use triad_testkit::{TestApp, TestDb, both_backends, run_node};

const SCRIPT: &str = r#"
const { Statuspage } = require('statuspage.io');
const [base] = process.argv.slice(1);
const sp = new Statuspage('triadpage01');
sp.setApiUrl(base);
(async () => {
  const out = {
    summary: await sp.api.getSummary(),
    status: await sp.api.getStatus(),
    components: await sp.api.getComponents(),
    incidents: await sp.api.incidents.getAll(),
    unresolved: await sp.api.incidents.getUnresolved(),
    upcoming: await sp.api.scheduledMaintenances.getUpcoming(),
    active: await sp.api.scheduledMaintenances.getActive(),
  };
  process.stdout.write(JSON.stringify(out));
})().catch(e => { console.error(e && e.stack || e); process.exit(1); });
"#;

both_backends!(the_npm_client_reads_the_page, |db: TestDb| async move {
    let t = TestApp::spawn(db).await;
    let p = setup(&t).await;
    let base = format!("{}/status", t.base);
    let out = tokio::task::spawn_blocking(move || run_node("statuspage.io", SCRIPT, &[&base]))
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "node failed: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let got: Value = serde_json::from_slice(&out.stdout).expect("the client printed JSON");
    let api = "/status/api/v2";
    for (key, path) in [
        ("summary", "summary.json"),
        ("status", "status.json"),
        ("components", "components.json"),
        ("incidents", "incidents.json"),
        ("unresolved", "incidents/unresolved.json"),
        ("upcoming", "scheduled-maintenances/upcoming.json"),
        ("active", "scheduled-maintenances/upcoming.json"),
    ] {
        let served = public(&t, &format!("{api}/{path}")).await;
        assert_eq!(got[key], served, "{key}: the client read what Triad serves");
    }
    // And what it read is the page: the open incident, its status, the components.
    assert_eq!(
        got["summary"]["incidents"][0]["id"],
        p.open_incident.as_str()
    );
    assert_eq!(got["summary"]["incidents"][0]["name"], "Payment failures");
    assert_eq!(got["status"]["status"]["indicator"], "major");
    assert_eq!(got["components"]["components"].as_array().unwrap().len(), 4);
    assert_eq!(got["incidents"]["incidents"].as_array().unwrap().len(), 2);
    assert_eq!(got["unresolved"]["incidents"].as_array().unwrap().len(), 1);
    assert_eq!(
        got["upcoming"]["scheduled_maintenances"][0]["id"],
        p.upcoming.as_str()
    );
    t.stop().await;
});
