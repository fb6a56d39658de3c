//! `triad service ...` and `triad business-service ...`: services, their integration
//! keys, and business services from the command line.

use crate::render::{s, table};
use crate::{Client, ClientError, ClientOpts, path_segment};
use clap::Subcommand;
use serde_json::{Value, json};

#[derive(Debug, Subcommand)]
pub enum ServiceCmd {
    /// List services.
    List,
    /// Create a service.
    Create {
        #[arg(long)]
        name: String,
        /// Owning team id.
        #[arg(long)]
        team: Option<String>,
        /// Escalation policy id or name.
        #[arg(long)]
        escalation_policy: Option<String>,
        /// SEV1..SEV4 for incidents opened by alerts that carry none.
        #[arg(long)]
        default_severity: Option<String>,
    },
    /// Create an integration key (routing key / GenieKey / webhook key); printed once.
    Key {
        /// Service id or name.
        service: String,
        /// A label, e.g. `prometheus`.
        #[arg(long)]
        name: Option<String>,
        /// Events per minute accepted with the key (default 6000).
        #[arg(long)]
        rate_limit: Option<i64>,
    },
    /// List a service's integration keys (without the keys themselves).
    Keys { service: String },
    /// Revoke an integration key.
    Revoke { service: String, key_id: String },
}

#[derive(Debug, Subcommand)]
pub enum BusinessCmd {
    /// List business services.
    List,
    /// Create a business service.
    Create {
        #[arg(long)]
        name: String,
        /// 1 (most critical) to 4.
        #[arg(long)]
        tier: i64,
        #[arg(long)]
        customers_served: Option<String>,
        /// A service (id or name) it depends on; repeat for several.
        #[arg(long = "service")]
        services: Vec<String>,
    },
}

fn out(opts: &ClientOpts, v: &Value, human: String) -> String {
    if opts.json {
        serde_json::to_string_pretty(v).unwrap_or_default()
    } else {
        human
    }
}

fn rows(v: &Value, cells: impl Fn(&Value) -> Vec<String>) -> Vec<Vec<String>> {
    v.as_array()
        .map(|a| a.iter().map(cells).collect())
        .unwrap_or_default()
}

/// Runs one service command; returns what to print.
pub async fn run_service(opts: &ClientOpts, cmd: ServiceCmd) -> Result<String, ClientError> {
    let c = Client::new(opts)?;
    let keys = |svc: &str| format!("/api/v1/services/{}/integration-keys", path_segment(svc));
    match cmd {
        ServiceCmd::List => {
            let v = c.get("/api/v1/services", &[]).await?;
            let r = rows(&v, |x| {
                vec![
                    s(&x["name"]),
                    s(&x["default_severity"]),
                    s(&x["escalation_policy_id"]),
                    s(&x["id"]),
                ]
            });
            Ok(out(
                opts,
                &v,
                table(&["NAME", "DEFAULT SEV", "POLICY", "ID"], r),
            ))
        }
        ServiceCmd::Create {
            name,
            team,
            escalation_policy,
            default_severity,
        } => {
            let body = json!({"name": name, "team": team, "escalation_policy": escalation_policy,
                "default_severity": default_severity});
            let v = c.post("/api/v1/services", &body).await?;
            let human = format!("Created service {} ({})", s(&v["name"]), s(&v["id"]));
            Ok(out(opts, &v, human))
        }
        ServiceCmd::Key {
            service,
            name,
            rate_limit,
        } => {
            let body = json!({"name": name, "rate_limit_per_minute": rate_limit});
            let v = c.post(&keys(&service), &body).await?;
            let human = format!(
                "Integration key {} for {service} (shown once; use it as the PagerDuty routing \
                 key, the Opsgenie GenieKey, or in /hooks/alertmanager/KEY):\n{}",
                s(&v["id"]),
                s(&v["key"])
            );
            Ok(out(opts, &v, human))
        }
        ServiceCmd::Keys { service } => {
            let v = c.get(&keys(&service), &[]).await?;
            let r = rows(&v, |k| {
                vec![
                    s(&k["id"]),
                    s(&k["name"]),
                    format!("{}…", s(&k["key_prefix"])),
                    s(&k["rate_limit_per_minute"]),
                    s(&k["revoked_at"]),
                ]
            });
            Ok(out(
                opts,
                &v,
                table(&["ID", "NAME", "KEY", "PER MINUTE", "REVOKED"], r),
            ))
        }
        ServiceCmd::Revoke { service, key_id } => {
            let path = format!("{}/{}", keys(&service), path_segment(&key_id));
            c.delete(&path, &[]).await?;
            Ok(format!("Revoked key {key_id} of {service}."))
        }
    }
}

/// Runs one business-service command; returns what to print.
pub async fn run_business(opts: &ClientOpts, cmd: BusinessCmd) -> Result<String, ClientError> {
    let c = Client::new(opts)?;
    match cmd {
        BusinessCmd::List => {
            let v = c.get("/api/v1/business-services", &[]).await?;
            let r = rows(&v, |b| {
                let deps = b["services"].as_array().map_or(0, Vec::len);
                vec![
                    s(&b["name"]),
                    s(&b["tier"]),
                    s(&b["customers_served"]),
                    deps.to_string(),
                ]
            });
            Ok(out(
                opts,
                &v,
                table(&["NAME", "TIER", "CUSTOMERS", "SERVICES"], r),
            ))
        }
        BusinessCmd::Create {
            name,
            tier,
            customers_served,
            services,
        } => {
            let body = json!({"name": name, "tier": tier, "customers_served": customers_served,
                "services": services});
            let v = c.post("/api/v1/business-services", &body).await?;
            let human = format!(
                "Created business service {} (tier {}, {})",
                s(&v["name"]),
                s(&v["tier"]),
                s(&v["id"])
            );
            Ok(out(opts, &v, human))
        }
    }
}
