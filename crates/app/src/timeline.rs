//! The internal timeline: notes from people, and reading events (also for live streams).

use crate::{Actor, App, AppError, AppResult};
use serde_json::json;
use triad_domain::timeline::{EventKind, TimelineEvent};
use triad_domain::user::Permission;
use triad_domain::validate;
use triad_store::{incident as incidents, timeline};

pub const MAX_NOTE: usize = 20_000;
/// The most events one timeline request returns.
pub const MAX_PAGE: u32 = 1000;

impl App {
    /// Adds a note to the internal timeline.
    pub async fn add_note(&self, actor: &Actor, key: &str, body: &str) -> AppResult<TimelineEvent> {
        actor.require(Permission::Note)?;
        let body = validate::text(body, MAX_NOTE).map_err(|e| AppError::field("body", e.0))?;
        let mut d = self.decide().await?;
        let mut incident = incidents::lock(d.conn(), key)
            .await?
            .ok_or(AppError::NotFound("incident"))?;
        let data = json!({"length": body.chars().count()});
        let event = d
            .append(self.event(actor, &incident.id, EventKind::Note, body, data))
            .await?;
        let now = self.now();
        crate::engine::hooks::after_activity(&mut d, &mut incident, now).await?;
        d.commit().await?;
        Ok(event)
    }

    /// An incident's timeline after sequence number `after` (0 for the start), at most
    /// `limit` events (1..=[`MAX_PAGE`], default [`MAX_PAGE`]).
    pub async fn timeline(
        &self,
        actor: &Actor,
        key: &str,
        after: i64,
        limit: Option<u32>,
    ) -> AppResult<Vec<TimelineEvent>> {
        actor.require(Permission::Read)?;
        let limit = limit.unwrap_or(MAX_PAGE);
        if limit == 0 || limit > MAX_PAGE {
            return Err(AppError::field(
                "limit",
                format!("must be between 1 and {MAX_PAGE}"),
            ));
        }
        let mut conn = self.store().read().await?;
        let incident = incidents::get(&mut conn, key)
            .await?
            .ok_or(AppError::NotFound("incident"))?;
        Ok(timeline::after(&mut conn, Some(&incident.id), after, limit).await?)
    }

    /// Resolves an incident key to its id (for streams that poll by id).
    pub async fn incident_id(&self, actor: &Actor, key: &str) -> AppResult<String> {
        actor.require(Permission::Read)?;
        let mut conn = self.store().read().await?;
        let incident = incidents::get(&mut conn, key)
            .await?
            .ok_or(AppError::NotFound("incident"))?;
        Ok(incident.id)
    }

    /// Committed events after `after`, for one incident (by id) or all; used by live
    /// streams, which checked the caller's access when they opened.
    pub async fn events_after(
        &self,
        incident_id: Option<&str>,
        after: i64,
        limit: u32,
    ) -> AppResult<Vec<TimelineEvent>> {
        let mut conn = self.store().read().await?;
        Ok(timeline::after(&mut conn, incident_id, after, limit).await?)
    }

    /// The newest committed sequence number in the database (all nodes).
    pub async fn latest_seq(&self) -> AppResult<i64> {
        let mut conn = self.store().read().await?;
        Ok(triad_store::counter::current(&mut conn, triad_store::counter::TIMELINE_SEQ).await?)
    }
}
