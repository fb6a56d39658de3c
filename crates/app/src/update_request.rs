//! "I am not getting updates": a reporter, support agent or stakeholder asks for news.
//! It pages the coordinator, then the communications escalation policy — never the
//! technical responders — and is counted per incident.

use crate::engine::escalate;
use crate::engine::hooks::comms_snapshot;
use crate::{Actor, App, AppError, AppResult};
use serde_json::json;
use triad_domain::escalation::{Level, Target};
use triad_domain::incident::Status;
use triad_domain::role::IncidentRole;
use triad_domain::timeline::EventKind;
use triad_domain::user::Permission;
use triad_domain::validate;
use triad_store::escalation::{self as runs, Purpose};
use triad_store::incident as incidents;

pub const MAX_REQUEST_MESSAGE: usize = 2000;

/// What pressing the button did.
#[derive(Debug, Clone)]
pub struct UpdateRequestOutcome {
    pub incident_id: String,
    /// How many requests the incident has had, this one included.
    pub count: i64,
    /// Whether this request started paging (false: one already runs).
    pub escalation_started: bool,
    /// Who was paged now.
    pub paged: Vec<String>,
}

impl App {
    pub async fn request_update(
        &self,
        actor: &Actor,
        key: &str,
        message: Option<&str>,
    ) -> AppResult<UpdateRequestOutcome> {
        actor.require(Permission::Read)?;
        let message = validate::optional_text(message, MAX_REQUEST_MESSAGE)
            .map_err(|e| AppError::field("message", e.0))?;
        let now = self.now();
        let mut d = self.decide().await?;
        let mut incident = incidents::lock(d.conn(), key)
            .await?
            .ok_or(AppError::NotFound("incident"))?;
        if incident.status == Status::Resolved {
            return Err(AppError::conflict(
                "incident_resolved",
                "the incident is resolved; there is nothing more to update",
            ));
        }
        incident.update_requests += 1;
        incidents::save(d.conn(), &incident).await?;
        let running = runs::runs(d.conn(), &incident.id, true)
            .await?
            .into_iter()
            .any(|r| r.purpose == Purpose::UpdateRequest);
        let body = format!(
            "{} asked for an update (request {}){}",
            actor.name(),
            incident.update_requests,
            message
                .as_deref()
                .map(|m| format!(": {m}"))
                .unwrap_or_default()
        );
        let data = json!({"count": incident.update_requests, "message": message, "already_escalating": running});
        d.append(self.event(actor, &incident.id, EventKind::UpdateRequested, body, data))
            .await?;
        let mut paged = Vec::new();
        if !running {
            // The coordinator first, then the communications escalation policy.
            let mut snapshot = comms_snapshot(&mut d, &incident).await?;
            let coordinator = vec![Target::IncidentRole {
                role: IncidentRole::Coordinator,
            }];
            if snapshot.levels.first().map(|l| &l.targets) != Some(&coordinator) {
                let delay = snapshot
                    .levels
                    .first()
                    .map(|l| l.delay_seconds)
                    .unwrap_or(300);
                snapshot.levels.insert(
                    0,
                    Level {
                        delay_seconds: delay,
                        targets: coordinator,
                    },
                );
            }
            let (_, people) = escalate::start(
                &mut d,
                &incident,
                Purpose::UpdateRequest,
                None,
                snapshot,
                now,
            )
            .await?;
            paged = people.into_iter().map(|u| u.name).collect();
        }
        d.commit().await?;
        Ok(UpdateRequestOutcome {
            incident_id: incident.id,
            count: incident.update_requests,
            escalation_started: !running,
            paged,
        })
    }
}
