//! `triad schedule list|show` and `triad oncall`: on-call schedules from the command line.

use crate::render::{s, table};
use crate::{Client, ClientError, ClientOpts, path_segment};
use clap::Subcommand;
use serde_json::Value;

#[derive(Debug, Subcommand)]
pub enum ScheduleCmd {
    /// List schedules.
    List,
    /// The final schedule (who is on call, stretch by stretch) and its gaps.
    Show {
        /// Schedule id or name.
        id: String,
        /// RFC 3339 start (default now).
        #[arg(long)]
        from: Option<String>,
        /// RFC 3339 end (default 7 days after --from).
        #[arg(long)]
        to: Option<String>,
    },
}

fn names(users: &Value) -> String {
    let list: Vec<String> = users
        .as_array()
        .map(|a| a.iter().map(|u| s(&u["name"])).collect())
        .unwrap_or_default();
    if list.is_empty() {
        "nobody".into()
    } else {
        list.join(", ")
    }
}

fn finish(opts: &ClientOpts, v: &Value, human: String) -> String {
    if opts.json {
        serde_json::to_string_pretty(v).unwrap_or_default()
    } else {
        human
    }
}

/// Runs one schedule command; returns what to print.
pub async fn run_schedule(opts: &ClientOpts, cmd: ScheduleCmd) -> Result<String, ClientError> {
    let c = Client::new(opts)?;
    match cmd {
        ScheduleCmd::List => {
            let v = c.get("/api/v1/schedules", &[]).await?;
            let rows = v
                .as_array()
                .map(|a| {
                    a.iter()
                        .map(|x| {
                            let layers = x["versions"]
                                .as_array()
                                .and_then(|vs| vs.last())
                                .and_then(|l| l["layers"].as_array())
                                .map_or(0, Vec::len);
                            vec![
                                s(&x["name"]),
                                s(&x["time_zone"]),
                                layers.to_string(),
                                s(&x["id"]),
                            ]
                        })
                        .collect()
                })
                .unwrap_or_default();
            Ok(finish(
                opts,
                &v,
                table(&["NAME", "TIME ZONE", "LAYERS", "ID"], rows),
            ))
        }
        ScheduleCmd::Show { id, from, to } => {
            let mut q = Vec::new();
            q.extend(from.map(|f| ("from", f)));
            q.extend(to.map(|t| ("to", t)));
            let path = format!("/api/v1/schedules/{}/final", path_segment(&id));
            let v = c.get(&path, &q).await?;
            let rows = v["segments"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .map(|g| vec![s(&g["start"]), s(&g["end"]), names(&g["users"])])
                        .collect()
                })
                .unwrap_or_default();
            let mut out = format!(
                "{} ({}) from {} to {}\n\n{}",
                s(&v["name"]),
                s(&v["time_zone"]),
                s(&v["from"]),
                s(&v["to"]),
                table(&["START", "END", "ON CALL"], rows)
            );
            let gaps: Vec<Vec<String>> = v["gaps"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .map(|g| vec![s(&g["start"]), s(&g["end"])])
                        .collect()
                })
                .unwrap_or_default();
            if gaps.is_empty() {
                out.push_str("\n\nNo gaps: somebody is on call throughout.");
            } else {
                out.push_str(&format!(
                    "\n\nGAPS (nobody on call):\n{}",
                    table(&["START", "END"], gaps)
                ));
            }
            Ok(finish(opts, &v, out))
        }
    }
}

/// `triad oncall [--at TIME]`: who is on call in every schedule and role schedule.
pub async fn run_oncall(opts: &ClientOpts, at: Option<String>) -> Result<String, ClientError> {
    let c = Client::new(opts)?;
    let q: Vec<(&str, String)> = at.map(|a| ("at", a)).into_iter().collect();
    let v = c.get("/api/v1/oncall", &q).await?;
    let rows = v["schedules"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|x| vec![s(&x["schedule_name"]), names(&x["users"]), s(&x["until"])])
                .collect()
        })
        .unwrap_or_default();
    let mut out = format!(
        "On call at {}\n\n{}",
        s(&v["at"]),
        table(&["SCHEDULE", "ON CALL", "UNTIL"], rows)
    );
    let roles: Vec<Vec<String>> = v["roles"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|r| {
                    vec![
                        format!("{} {}", s(&r["scope"]), s(&r["scope_id"])),
                        s(&r["role"]),
                        s(&r["schedule_name"]),
                        names(&r["users"]),
                    ]
                })
                .collect()
        })
        .unwrap_or_default();
    if !roles.is_empty() {
        out.push_str(&format!(
            "\n\nROLE SCHEDULES\n{}",
            table(&["FOR", "ROLE", "SCHEDULE", "WOULD FILL IT"], roles)
        ));
    }
    Ok(finish(opts, &v, out))
}
