//! `triad incident ...`, `triad schedule ...`, `triad oncall` and `triad login`: the
//! command-line client over the REST API.

mod client;
mod render;
mod schedule;
mod service;

pub use client::{Client, ClientError};
pub use schedule::{ScheduleCmd, run_oncall, run_schedule};
pub use service::{BusinessCmd, ServiceCmd, run_business, run_service};

use clap::{Args, Subcommand};
use serde_json::{Value, json};

/// Where the server is and who we are.
#[derive(Debug, Clone, Args)]
pub struct ClientOpts {
    /// The Triad server's base URL.
    #[arg(
        long,
        env = "TRIAD_SERVER",
        default_value = "http://127.0.0.1:8080",
        global = true
    )]
    pub server: String,
    /// An API token (create one with `triad token create` or `triad login`).
    #[arg(long, env = "TRIAD_TOKEN", hide_env_values = true, global = true)]
    pub token: Option<String>,
    /// Print the API's JSON instead of tables.
    #[arg(long, global = true)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum IncidentCmd {
    /// List incidents, newest first.
    List {
        /// Comma-separated statuses, or `open`.
        #[arg(long)]
        status: Option<String>,
        /// Comma-separated severities.
        #[arg(long)]
        severity: Option<String>,
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
    /// Show one incident with its team and timeline.
    Show { id: String },
    /// Declare a new incident.
    Declare {
        #[arg(long)]
        title: String,
        /// SEV1..SEV4 (or P1..P4).
        #[arg(long)]
        severity: String,
        #[arg(long)]
        description: Option<String>,
        /// Service id or name.
        #[arg(long)]
        service: Option<String>,
    },
    /// Acknowledge: you take it and become a responder.
    Ack { id: String },
    /// Resolve.
    Resolve { id: String },
    /// Reopen a resolved incident.
    Reopen { id: String },
    /// Add a note to the internal timeline.
    Note {
        id: String,
        /// The note; several words are joined with spaces.
        #[arg(required = true, num_args = 1..)]
        body: Vec<String>,
    },
    /// Publish a status update to an audience.
    Update {
        id: String,
        /// stakeholders, reporters or public.
        #[arg(long)]
        audience: String,
        /// investigating, identified, monitoring or resolved.
        #[arg(long)]
        state: String,
        #[arg(long)]
        message: String,
    },
    /// Assign (or hand over) a role, or release it with --release.
    Role {
        id: String,
        /// responder, observer or coordinator.
        role: String,
        /// User email or id.
        user: String,
        /// Handover or release note.
        #[arg(long)]
        note: Option<String>,
        /// Release the role instead of assigning it.
        #[arg(long)]
        release: bool,
    },
    /// Print the internal timeline.
    Timeline { id: String },
}

pub(crate) fn path_segment(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Runs one incident command; returns what to print.
pub async fn run_incident(opts: &ClientOpts, cmd: IncidentCmd) -> Result<String, ClientError> {
    let c = Client::new(opts)?;
    let inc = |id: &str| format!("/api/v1/incidents/{}", path_segment(id));
    let (value, kind): (Value, render::Kind) = match cmd {
        IncidentCmd::List {
            status,
            severity,
            limit,
        } => {
            let mut q = vec![("limit", limit.to_string())];
            q.extend(status.map(|s| ("status", s)));
            q.extend(severity.map(|s| ("severity", s)));
            (c.get("/api/v1/incidents", &q).await?, render::Kind::List)
        }
        IncidentCmd::Show { id } => {
            let mut incident = c.get(&inc(&id), &[]).await?;
            incident["timeline"] = whole_timeline(&c, &inc(&id)).await?;
            (incident, render::Kind::Incident)
        }
        IncidentCmd::Declare {
            title,
            severity,
            description,
            service,
        } => {
            let body = json!({"title": title, "severity": severity, "description": description, "service": service});
            (
                c.post("/api/v1/incidents", &body).await?,
                render::Kind::Incident,
            )
        }
        IncidentCmd::Ack { id } => (
            c.post(&format!("{}/acknowledge", inc(&id)), &json!({}))
                .await?,
            render::Kind::Incident,
        ),
        IncidentCmd::Resolve { id } => (
            c.post(&format!("{}/resolve", inc(&id)), &json!({})).await?,
            render::Kind::Incident,
        ),
        IncidentCmd::Reopen { id } => (
            c.post(&format!("{}/reopen", inc(&id)), &json!({})).await?,
            render::Kind::Incident,
        ),
        IncidentCmd::Note { id, body } => {
            let body = json!({"body": body.join(" ")});
            (
                c.post(&format!("{}/notes", inc(&id)), &body).await?,
                render::Kind::Event,
            )
        }
        IncidentCmd::Update {
            id,
            audience,
            state,
            message,
        } => {
            let body = json!({"audience": audience, "state": state, "message": message});
            (
                c.post(&format!("{}/updates", inc(&id)), &body).await?,
                render::Kind::Update,
            )
        }
        IncidentCmd::Role {
            id,
            role,
            user,
            note,
            release,
        } => {
            let v = if release {
                let path = format!(
                    "{}/roles/{}/{}",
                    inc(&id),
                    path_segment(&role),
                    path_segment(&user)
                );
                let q: Vec<(&str, String)> = note.map(|n| ("note", n)).into_iter().collect();
                c.delete(&path, &q).await?
            } else {
                let body = json!({"role": role, "user": user, "note": note});
                c.post(&format!("{}/roles", inc(&id)), &body).await?
            };
            (v, render::Kind::Roles)
        }
        IncidentCmd::Timeline { id } => {
            (whole_timeline(&c, &inc(&id)).await?, render::Kind::Timeline)
        }
    };
    Ok(if opts.json {
        serde_json::to_string_pretty(&value).unwrap_or_default()
    } else {
        render::human(&value, kind)
    })
}

/// Every event of an incident's timeline, fetched a page at a time.
async fn whole_timeline(c: &Client, incident_path: &str) -> Result<Value, ClientError> {
    const PAGE: usize = 1000;
    let mut all = Vec::new();
    let mut after = 0;
    loop {
        let query = [("after", after.to_string()), ("limit", PAGE.to_string())];
        let page = c.get(&format!("{incident_path}/timeline"), &query).await?;
        let events = page.as_array().cloned().unwrap_or_default();
        let n = events.len();
        if let Some(last) = events.last().and_then(|e| e["seq"].as_i64()) {
            after = last;
        }
        all.extend(events);
        if n < PAGE {
            return Ok(Value::Array(all));
        }
    }
}

/// Changes the signed-in user's password (needed after a one-time password).
pub async fn change_password(
    opts: &ClientOpts,
    current: &str,
    new: &str,
) -> Result<String, ClientError> {
    let c = Client::new(opts)?;
    c.put(
        "/api/v1/auth/password",
        &json!({"current_password": current, "new_password": new}),
    )
    .await?;
    Ok("Password changed.".to_string())
}

/// Signs in with email and password; returns the new token (the last line printed).
pub async fn login(opts: &ClientOpts, email: &str, password: &str) -> Result<String, ClientError> {
    let c = Client::new(opts)?;
    let v = c
        .post(
            "/api/v1/auth/login",
            &json!({"email": email, "password": password}),
        )
        .await?;
    let token = v["token"].as_str().unwrap_or_default().to_string();
    if opts.json {
        return Ok(serde_json::to_string_pretty(&v).unwrap_or_default());
    }
    let mut out = format!(
        "Signed in as {}.",
        v["user"]["email"].as_str().unwrap_or_default()
    );
    if v["must_change_password"].as_bool() == Some(true) {
        out.push_str("\nThis is a one-time password: choose your own with `triad password` before anything else.");
    }
    out.push_str("\nexport TRIAD_TOKEN=... with this token:\n");
    out.push_str(&token);
    Ok(out)
}
