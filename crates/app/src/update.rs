//! Publishing curated status updates to an audience.

use crate::{Actor, App, AppError, AppResult};
use serde_json::json;
use triad_domain::incident::PublicState;
use triad_domain::timeline::EventKind;
use triad_domain::update::{Audience, MAX_MESSAGE, StatusUpdate};
use triad_domain::user::Permission;
use triad_domain::validate::{self, Validation};
use triad_store::{incident as incidents, new_id, status, update as updates};

#[derive(Debug, Clone, Default)]
pub struct Publish {
    pub audience: String,
    pub state: String,
    pub message: String,
    /// For a `public` update: the incident's name on the status page. Without one, the
    /// first public update names it "Service disruption", and later ones keep the name.
    pub public_title: Option<String>,
}

impl App {
    /// Publishes an update. Allowed to responders and admins, and to whoever holds the
    /// incident's coordinator role. The incident's public state follows the update.
    pub async fn publish_update(
        &self,
        actor: &Actor,
        key: &str,
        input: Publish,
    ) -> AppResult<StatusUpdate> {
        actor.require(Permission::Read)?;
        let mut v = Validation::new();
        let audience = v.check("audience", Audience::parse(&input.audience));
        let state = v.check("state", PublicState::parse(&input.state));
        let message = v.check("message", validate::text(&input.message, MAX_MESSAGE));
        let public_title = v
            .check(
                "public_title",
                validate::optional_text(input.public_title.as_deref(), 200),
            )
            .flatten();
        if public_title.is_some() && audience.is_some_and(|a| a != Audience::Public) {
            v.push(
                "public_title",
                "only a public update names the incident on the status page",
            );
        }
        v.finish()?;
        let (Some(audience), Some(state), Some(message)) = (audience, state, message) else {
            return Err(AppError::Internal(
                "validation passed with a missing field".into(),
            ));
        };
        let now = self.now();
        let mut d = self.decide().await?;
        let mut incident = incidents::lock(d.conn(), key)
            .await?
            .ok_or(AppError::NotFound("incident"))?;
        crate::role::require_respond_or_coordinator(d.conn(), actor, &incident.id).await?;
        let mut update = StatusUpdate {
            id: new_id(),
            incident_id: incident.id.clone(),
            audience,
            state,
            message,
            author_id: actor.user_id().map(str::to_string),
            published_at: now,
            due_at: None,
            late_by_ms: None,
        };
        crate::engine::hooks::after_update(&mut d, &mut incident, &mut update, now).await?;
        updates::insert(d.conn(), &update).await?;
        // Every external update reaches every ticket linked to the incident.
        d.track_update(&incident, &update).await?;
        if audience == Audience::Stakeholders {
            d.notify_stakeholder_groups(&incident, &update).await?;
        }
        if audience == Audience::Public {
            // Never the internal title: that is written for responders.
            let name = public_title
                .as_deref()
                .unwrap_or(status::DEFAULT_PUBLIC_NAME);
            status::publish_incident(
                d.conn(),
                &incident.id,
                name,
                public_title.is_some(),
                state,
                now,
            )
            .await?;
            status::touch_page(d.conn(), now).await?;
            let shown = status::public_name(d.conn(), &incident.id)
                .await?
                .unwrap_or_else(|| name.to_string());
            d.notify_subscribers(&incident, &update, &shown).await?;
        }
        if incident.public_state != state {
            incident.public_state = state;
            incident.updated_at = now;
            incidents::save(d.conn(), &incident).await?;
        }
        let body = format!(
            "{} published an update for {} ({}): {}",
            actor.name(),
            audience.as_str(),
            state.as_str(),
            update.message
        );
        let data = json!({
            "update_id": update.id, "audience": audience.as_str(), "state": state.as_str(), "message": update.message,
            "due_at": update.due_at.map(crate::rfc3339), "late_by_ms": update.late_by_ms,
        });
        d.append(self.event(actor, &incident.id, EventKind::UpdatePublished, body, data))
            .await?;
        d.commit().await?;
        if audience == Audience::Public {
            self.status_changed();
        }
        Ok(update)
    }

    /// An incident's updates, newest first.
    pub async fn updates(
        &self,
        actor: &Actor,
        key: &str,
        audience: Option<&str>,
    ) -> AppResult<Vec<StatusUpdate>> {
        actor.require(Permission::Read)?;
        let audience = audience
            .filter(|a| !a.is_empty())
            .map(Audience::parse)
            .transpose()
            .map_err(|e| AppError::field("audience", e.0))?;
        let mut conn = self.store().read().await?;
        let incident = incidents::get(&mut conn, key)
            .await?
            .ok_or(AppError::NotFound("incident"))?;
        Ok(updates::list(&mut conn, &incident.id, audience).await?)
    }
}

/// The most timeline events a draft reads; past that it says the timeline has more.
pub const DRAFT_READ_LIMIT: u32 = 20_000;

impl App {
    /// A draft update for `audience`: what happened on the internal timeline since that
    /// audience's last update (or since the start), for the coordinator to edit. Nothing
    /// is published or stored.
    pub async fn draft_update(
        &self,
        actor: &Actor,
        key: &str,
        audience: &str,
    ) -> AppResult<triad_domain::draft::Draft> {
        actor.require(Permission::Read)?;
        let audience = Audience::parse(audience).map_err(|e| AppError::field("audience", e.0))?;
        let mut conn = self.store().read().await?;
        let incident = incidents::get(&mut conn, key)
            .await?
            .ok_or(AppError::NotFound("incident"))?;
        let last = updates::list(&mut conn, &incident.id, Some(audience))
            .await?
            .into_iter()
            .next();
        // The boundary is the last update's own timeline event: everything committed
        // after it is news, whatever the clocks said.
        let mut after = 0;
        if let Some(u) = &last {
            let published =
                triad_store::timeline::of_kind(&mut conn, &incident.id, EventKind::UpdatePublished)
                    .await?;
            if let Some(e) = published
                .iter()
                .rev()
                .find(|e| e.data.get("update_id").and_then(|v| v.as_str()) == Some(&u.id))
            {
                after = e.seq;
            }
        }
        // The newest events matter most: read at most the limit, from the end.
        let events =
            triad_store::timeline::newest_after(&mut conn, &incident.id, after, DRAFT_READ_LIMIT)
                .await?;
        let more_on_timeline = events.len() >= DRAFT_READ_LIMIT as usize;
        let due = triad_store::obligation::get(&mut conn, &incident.id, audience)
            .await?
            .map(|o| o.due_at);
        let public_name = status::public_name(&mut conn, &incident.id).await?;
        Ok(triad_domain::draft::draft(
            triad_domain::draft::DraftInput {
                incident: &incident,
                audience,
                public_name: public_name.as_deref(),
                since: last.map(|u| u.published_at),
                events: &events,
                more_on_timeline,
                next_due: due,
            },
        ))
    }
}
