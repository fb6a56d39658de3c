//! Tracker sync (Jira): an issue for each incident at or above a tracker's severity, a
//! comment on every linked ticket for each external update, a transition on resolve —
//! as durable jobs the engine runs in order per incident and tracker, retried with
//! backoff (not before `Retry-After`). Inbound webhooks link tickets labelled
//! `triad-<number>` to that incident, which absorbs them like reports, and put their
//! comments and status changes on the timeline; each delivery is applied once.

use crate::{Actor, App, AppError, AppResult, Decision};
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use triad_domain::Millis;
use triad_domain::incident::Incident;
use triad_domain::severity::Severity;
use triad_domain::timeline::EventKind;
use triad_domain::update::StatusUpdate;
use triad_domain::user::Permission;
use triad_domain::validate::{self, Validation};
use triad_store::tracker::{self as store, Job, Link, Tracker};
use triad_store::{incident as incidents, new_id, report as reports, reporter as reporters};

/// Comments Triad writes start with this, so their webhooks are not echoed back.
pub const MARKER: &str = "Update from Triad";

/// How long a node holds a job while it calls the tracker.
pub const LEASE_MS: i64 = 120_000;

/// A tracker as an administrator configures it.
#[derive(Debug, Clone, Default)]
pub struct TrackerInput {
    /// `jira` (default) or `webhook` (a signed JSON event per job, for CRMs and help
    /// desks).
    pub kind: Option<String>,
    pub name: String,
    pub base_url: String,
    pub api_version: Option<i64>,
    pub auth: Option<String>,
    pub user: Option<String>,
    pub token: Option<String>,
    pub project_key: String,
    pub issue_type: Option<String>,
    pub resolve_transition: Option<String>,
    pub min_severity: Option<String>,
    pub inbound_secret: Option<String>,
}

/// What one call to the tracker came to (the engine maps the connector's answer).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobOutcome {
    Done,
    /// Try again, not before `retry_after_ms` when the tracker said so.
    Retry {
        error: String,
        retry_after_ms: Option<i64>,
    },
    /// Retrying cannot help.
    Failed {
        error: String,
    },
}

/// What an inbound delivery did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inbound {
    Applied,
    /// Seen before (same `X-Atlassian-Webhook-Identifier`): nothing done again.
    Duplicate,
    /// Not about a linked ticket or a `triad-<number>` label; nothing to do.
    Ignored,
}

impl App {
    pub async fn create_tracker(&self, actor: &Actor, input: TrackerInput) -> AppResult<Tracker> {
        actor.require(Permission::Administer)?;
        let mut v = Validation::new();
        let name = v.check("name", validate::text(&input.name, 100));
        let kind = input.kind.as_deref().unwrap_or("jira").to_string();
        if !matches!(kind.as_str(), "jira" | "webhook") {
            v.push("kind", "must be one of: jira, webhook");
        }
        let webhook = kind == "webhook";
        let base_url = input.base_url.trim().trim_end_matches('/').to_string();
        if !(base_url.starts_with("https://") || base_url.starts_with("http://"))
            || base_url.contains(char::is_whitespace)
        {
            v.push(
                "base_url",
                "must be the site's http(s) address, such as https://acme.atlassian.net",
            );
        }
        let api_version = input.api_version.unwrap_or(3);
        if !webhook && !matches!(api_version, 2 | 3) {
            v.push("api_version", "must be 2 or 3");
        }
        let default_auth = if webhook { "none" } else { "basic" };
        let auth = input.auth.as_deref().unwrap_or(default_auth).to_string();
        let token = input.token.clone().filter(|t| !t.trim().is_empty());
        if webhook {
            // The token signs each event (Triad-Signature, as for webhook contact
            // methods; docs/notifications.md).
            if auth != "none" {
                v.push(
                    "auth",
                    "a webhook tracker signs with its token; auth must be none",
                );
            }
            if token.as_deref().is_some_and(|t| t.len() < 16) {
                v.push("token", "a signing secret must be at least 16 characters");
            }
        } else {
            match auth.as_str() {
                "basic" if input.user.as_deref().is_none_or(|u| u.trim().is_empty()) => {
                    v.push("user", "basic auth needs the account's email")
                }
                "basic" | "bearer" if token.is_none() => {
                    v.push("token", "is required for this auth")
                }
                "basic" | "bearer" | "none" => {}
                _ => v.push("auth", "must be one of: basic, bearer, none"),
            }
        }
        let project_key = input.project_key.trim().to_string();
        if (!webhook && project_key.is_empty()) || project_key.len() > 50 {
            v.push("project_key", "must be the project's key, such as OPS");
        }
        let min_severity = match input.min_severity.as_deref() {
            None => Some(Severity::Sev4),
            Some(s) => v.check("min_severity", Severity::parse(s)),
        };
        if input
            .inbound_secret
            .as_deref()
            .is_some_and(|s| s.len() < 16)
        {
            v.push("inbound_secret", "must be at least 16 characters");
        }
        v.finish()?;
        let (Some(name), Some(min_severity)) = (name, min_severity) else {
            return Err(AppError::Internal(
                "validation passed with a missing field".into(),
            ));
        };
        let t = Tracker {
            id: new_id(),
            name,
            kind,
            base_url,
            api_version,
            auth_kind: auth,
            auth_user: input.user.map(|u| u.trim().to_string()),
            auth_secret: token,
            project_key,
            issue_type: input.issue_type.unwrap_or_else(|| "Incident".into()),
            resolve_transition: input.resolve_transition.unwrap_or_else(|| "Done".into()),
            min_severity: min_severity.as_str().into(),
            inbound_secret: input.inbound_secret,
            created_at: self.now(),
        };
        let mut d = self.decide().await?;
        store::insert(d.conn(), &t).await?;
        d.commit().await?;
        Ok(t)
    }

    pub async fn trackers(&self, actor: &Actor) -> AppResult<Vec<Tracker>> {
        actor.require(Permission::Administer)?;
        let mut conn = self.store().read().await?;
        Ok(store::list(&mut conn).await?)
    }

    pub async fn delete_tracker(&self, actor: &Actor, key: &str) -> AppResult<()> {
        actor.require(Permission::Administer)?;
        let mut d = self.decide().await?;
        let t = store::find(d.conn(), key)
            .await?
            .ok_or(AppError::NotFound("tracker"))?;
        store::delete(d.conn(), &t.id).await?;
        d.commit().await
    }

    /// An incident's tickets and the sync jobs about it.
    pub async fn tracker_sync(&self, actor: &Actor, key: &str) -> AppResult<(Vec<Link>, Vec<Job>)> {
        actor.require(Permission::Read)?;
        let mut conn = self.store().read().await?;
        let incident = incidents::get(&mut conn, key)
            .await?
            .ok_or(AppError::NotFound("incident"))?;
        Ok((
            store::links(&mut conn, &incident.id).await?,
            store::jobs(&mut conn, &incident.id).await?,
        ))
    }

    /// An incident's number (for a webhook tracker's ticket name).
    pub async fn incident_number(&self, incident_id: &str) -> AppResult<Option<i64>> {
        let mut conn = self.store().read().await?;
        Ok(incidents::get(&mut conn, incident_id)
            .await?
            .map(|i| i.number))
    }

    /// Jobs due at `now`, oldest first.
    pub async fn due_tracker_jobs(&self, now: Millis, limit: i64) -> AppResult<Vec<Job>> {
        let mut conn = self.store().read().await?;
        Ok(store::due(&mut conn, now, limit).await?)
    }

    /// Prepares a job to run: claims it under a lease and says what to call. `None` when
    /// another node has it or it changed since it was read, or when it cannot run (its
    /// issue was never created: it is then settled as dead, on the timeline).
    pub async fn claim_tracker_job(
        &self,
        job: &Job,
    ) -> AppResult<Option<(Tracker, Option<String>, Millis)>> {
        let now = self.now();
        let mut d = self.decide().await?;
        let Some(tracker) = store::find(d.conn(), &job.tracker_id).await? else {
            return Ok(None);
        };
        let issue = match (&job.kind[..], &job.issue_key) {
            ("create", _) => None,
            (_, Some(k)) => Some(k.clone()),
            (_, None) => {
                let created = store::links(d.conn(), &job.incident_id)
                    .await?
                    .into_iter()
                    .find(|l| l.tracker_id == job.tracker_id && l.origin == "created");
                match created {
                    Some(l) => Some(l.issue_key),
                    None => {
                        let error = "the incident's issue was never created";
                        let settled = store::settle(
                            d.conn(),
                            &job.id,
                            None,
                            "dead",
                            job.attempts,
                            now,
                            Some(error),
                            now,
                        )
                        .await?;
                        if settled {
                            dead_event(&mut d, &tracker, job, error).await?;
                        }
                        d.commit().await?;
                        return Ok(None);
                    }
                }
            }
        };
        let Some(lease) = store::claim(d.conn(), job, now, LEASE_MS).await? else {
            return Ok(None);
        };
        d.commit().await?;
        Ok(Some((tracker, issue, lease)))
    }

    /// Records an attempt made under `lease`: done (linking a created issue), retried
    /// (after the delivery backoff, and never before the tracker's `Retry-After`), or
    /// dead after the last attempt or a permanent refusal (on the timeline). Nothing is
    /// recorded if the lease ran out and another node took the job meanwhile.
    pub async fn settle_tracker_job(
        &self,
        job: &Job,
        tracker: &Tracker,
        lease: Millis,
        outcome: &JobOutcome,
        created: Option<(String, String)>,
    ) -> AppResult<()> {
        let now = self.now();
        let cfg = &self.config().delivery;
        let attempts = job.attempts + 1;
        let (status, next, error) = match outcome {
            JobOutcome::Done => ("done", now, None),
            JobOutcome::Retry {
                error,
                retry_after_ms,
            } if attempts < i64::from(cfg.max_attempts) => {
                let asked = retry_after_ms.map(|r| r.clamp(0, MAX_RETRY_AFTER_MS));
                let failures = u32::try_from(attempts).unwrap_or(u32::MAX);
                let wait = crate::delivery::backoff(cfg, failures, asked, &job.id);
                ("pending", now.saturating_add(wait), Some(error.clone()))
            }
            JobOutcome::Retry { error, .. } | JobOutcome::Failed { error } => {
                ("dead", now, Some(error.clone()))
            }
        };
        let mut d = self.decide().await?;
        let mine = store::settle(
            d.conn(),
            &job.id,
            Some(lease),
            status,
            attempts,
            next,
            error.as_deref(),
            now,
        )
        .await?;
        if !mine {
            tracing::warn!(job = %job.id, "a tracker job's lease ran out before its call was recorded; another node has it");
            return Ok(());
        }
        if let Some((id, key)) = created {
            let link = Link {
                tracker_id: tracker.id.clone(),
                incident_id: job.incident_id.clone(),
                issue_key: key.clone(),
                issue_id: Some(id),
                origin: "created".into(),
                created_at: now,
            };
            store::link(d.conn(), &link).await?;
            let body = format!("{} issue {key} opened for this incident", tracker.name);
            let data = json!({"tracker": tracker.name, "issue_key": key});
            d.system_event(&job.incident_id, EventKind::Change, body, data)
                .await?;
        }
        if status == "dead" {
            dead_event(&mut d, tracker, job, error.as_deref().unwrap_or_default()).await?;
        }
        d.commit().await
    }

    /// Applies one inbound Jira webhook delivery to `tracker` (id or name).
    pub async fn tracker_webhook(
        &self,
        tracker: &str,
        identifier: Option<&str>,
        signature: Option<&str>,
        body: &[u8],
    ) -> AppResult<Inbound> {
        // Look up and verify on a read connection: an unsigned caller never gets to
        // hold the write lock. Only the id names a tracker here (a name is guessable).
        let t = {
            let mut conn = self.store().read().await?;
            store::get(&mut conn, tracker)
                .await?
                .ok_or(AppError::NotFound("tracker"))?
        };
        if let Some(secret) = &t.inbound_secret {
            let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes())
                .map_err(|e| AppError::Internal(e.to_string()))?;
            mac.update(body);
            let given = signature
                .and_then(|s| s.trim().strip_prefix("sha256="))
                .and_then(|h| hex::decode(h).ok());
            if given.is_none_or(|g| mac.verify_slice(&g).is_err()) {
                return Err(AppError::Unauthenticated(
                    "X-Hub-Signature is missing or does not match this tracker's secret",
                ));
            }
        }
        let doc: Value = serde_json::from_slice(body)
            .map_err(|e| AppError::field("body", format!("is not JSON: {e}")))?;
        let event = doc
            .get("webhookEvent")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let Some(issue_key) = doc
            .pointer("/issue/key")
            .and_then(Value::as_str)
            .map(str::to_string)
        else {
            return Err(AppError::field("issue.key", "is required"));
        };
        // The identifier is the same across retries; without one, the body stands in.
        let id = match identifier.map(str::trim).filter(|i| !i.is_empty()) {
            Some(i) => i.to_string(),
            None => crate::secret::token_hash(&String::from_utf8_lossy(body)),
        };
        let now = self.now();
        let mut d = self.decide().await?;
        if !store::first_delivery(d.conn(), &t.id, &id, now).await? {
            return Ok(Inbound::Duplicate);
        }
        let actor = Actor::Integration(format!("{} ({issue_key})", t.name));
        let incident = match store::link_of(d.conn(), &t.id, &issue_key).await? {
            Some(l) => incidents::lock(d.conn(), &l.incident_id).await?,
            None => match labelled(&doc) {
                Some(number) => {
                    let found = incidents::lock(d.conn(), &number.to_string()).await?;
                    if let Some(i) = &found {
                        // Triad's own issue (labelled `triad` too) can announce
                        // itself before the create call's answer is recorded.
                        let marked = doc
                            .pointer("/issue/fields/labels")
                            .and_then(Value::as_array)
                            .is_some_and(|l| l.iter().any(|x| x == "triad"));
                        let creating = store::jobs(d.conn(), &i.id).await?.iter().any(|j| {
                            j.tracker_id == t.id && j.kind == "create" && j.status == "pending"
                        });
                        let ours = marked && creating;
                        if ours {
                            d.commit().await?;
                            return Ok(Inbound::Ignored);
                        }
                        self.absorb_ticket(&mut d, &actor, &t, i, &issue_key, &doc, now)
                            .await?;
                    }
                    found
                }
                None => None,
            },
        };
        let Some(incident) = incident else {
            d.commit().await?;
            return Ok(Inbound::Ignored);
        };
        match event.as_str() {
            "comment_created" | "comment_updated" => {
                let text = triad_domain::adf::plain_text(
                    doc.pointer("/comment/body").unwrap_or(&Value::Null),
                );
                if !text.trim_start().starts_with(MARKER) && !text.trim().is_empty() {
                    let author = doc
                        .pointer("/comment/author/displayName")
                        .and_then(Value::as_str)
                        .unwrap_or("someone");
                    let body = format!("{issue_key}: {author} commented: {}", text.trim());
                    let data = json!({"tracker": t.name, "issue_key": issue_key, "event": event});
                    d.append(self.event(&actor, &incident.id, EventKind::Note, body, data))
                        .await?;
                }
            }
            "jira:issue_updated" => {
                let moved = doc
                    .pointer("/changelog/items")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .find(|i| i.get("field").and_then(Value::as_str) == Some("status"));
                if let Some(item) = moved {
                    let from = item
                        .get("fromString")
                        .and_then(Value::as_str)
                        .unwrap_or("?");
                    let to = item.get("toString").and_then(Value::as_str).unwrap_or("?");
                    let body = format!("{issue_key} moved from {from} to {to}");
                    let data =
                        json!({"tracker": t.name, "issue_key": issue_key, "from": from, "to": to});
                    d.append(self.event(&actor, &incident.id, EventKind::Note, body, data))
                        .await?;
                }
            }
            _ => {}
        }
        d.commit().await?;
        Ok(Inbound::Applied)
    }

    /// Links a ticket to an incident and files it as a report (its reporter is the
    /// ticket's; the ticket itself gets every later external update as a comment).
    #[allow(clippy::too_many_arguments)]
    async fn absorb_ticket(
        &self,
        d: &mut Decision<'_>,
        actor: &Actor,
        t: &Tracker,
        incident: &Incident,
        issue_key: &str,
        doc: &Value,
        now: Millis,
    ) -> AppResult<()> {
        let link = Link {
            tracker_id: t.id.clone(),
            incident_id: incident.id.clone(),
            issue_key: issue_key.to_string(),
            issue_id: doc
                .pointer("/issue/id")
                .and_then(Value::as_str)
                .map(str::to_string),
            origin: "inbound".into(),
            created_at: now,
        };
        if !store::link(d.conn(), &link).await? {
            return Ok(());
        }
        let who = doc
            .pointer("/issue/fields/reporter/displayName")
            .or_else(|| doc.pointer("/user/displayName"))
            .and_then(Value::as_str)
            .unwrap_or("Jira")
            .to_string();
        let reporter = triad_store::reporter::Reporter {
            id: new_id(),
            incident_id: incident.id.clone(),
            name: who.clone(),
            email: None,
            webhook: None,
            webhook_secret: None,
            user_id: None,
            created_at: now,
        };
        reporters::insert(d.conn(), &reporter).await?;
        let summary = doc
            .pointer("/issue/fields/summary")
            .and_then(Value::as_str)
            .unwrap_or(issue_key)
            .to_string();
        let report = triad_store::report::Report {
            id: new_id(),
            incident_id: incident.id.clone(),
            reporter_id: reporter.id.clone(),
            text: summary.chars().take(2_000).collect(),
            external_ref: Some(issue_key.to_string()),
            service_id: None,
            business_service_id: None,
            matched_by: "named".into(),
            created_by: None,
            created_at: now,
        };
        reports::insert(d.conn(), &report).await?;
        let count = reports::count_for_incident(d.conn(), &incident.id).await?;
        let body = format!(
            "Report from {who} linked from {} ticket {issue_key} ({count} in all): {summary}",
            t.name
        );
        let data = json!({"report_id": report.id, "reporter_id": reporter.id, "matched_by": "named",
            "external_ref": issue_key, "reports": count});
        d.append(self.event(actor, &incident.id, EventKind::ReportReceived, body, data))
            .await?;
        Ok(())
    }
}

/// The longest `Retry-After` honoured (a day): a larger value is taken as a day.
pub const MAX_RETRY_AFTER_MS: i64 = 86_400_000;

/// Puts a job that gave up on the incident's timeline.
async fn dead_event(
    d: &mut Decision<'_>,
    tracker: &Tracker,
    job: &Job,
    error: &str,
) -> AppResult<()> {
    let body = format!(
        "{}: could not {} ({}): {error}",
        tracker.name,
        job.kind,
        job.issue_key.as_deref().unwrap_or("the incident's issue"),
    );
    let data = json!({"tracker": tracker.name, "job_id": job.id, "kind": job.kind});
    d.system_event(&job.incident_id, EventKind::NotificationDead, body, data)
        .await?;
    Ok(())
}

/// The incident number a ticket names with a `triad-<number>` label.
fn labelled(doc: &Value) -> Option<i64> {
    doc.pointer("/issue/fields/labels")?
        .as_array()?
        .iter()
        .filter_map(Value::as_str)
        .find_map(|l| l.strip_prefix("triad-")?.parse::<i64>().ok())
}

impl Decision<'_> {
    /// An issue for a new incident at every tracker whose severity threshold it meets.
    pub(crate) async fn track_opened(&mut self, incident: &Incident) -> AppResult<()> {
        let trackers = store::list(self.conn()).await?;
        for t in trackers {
            let min = Severity::parse(&t.min_severity).unwrap_or(Severity::Sev4);
            if incident.severity > min {
                continue;
            }
            let body = json!({
                "summary": format!("[{}] #{} {}", incident.severity.as_str(), incident.number, incident.title),
                "description": format!(
                    "{}\n\nIncident #{} ({}), declared {}. Triad adds a comment for every external update and resolves this issue with the incident.",
                    incident.description.as_deref().unwrap_or(&incident.title),
                    incident.number,
                    incident.severity.as_str(),
                    crate::rfc3339(incident.created_at),
                ),
                "labels": ["triad", format!("triad-{}", incident.number)],
            });
            self.add_job(
                &t,
                incident,
                "create",
                None,
                body.to_string(),
                format!("create:{}:{}", t.id, incident.id),
            )
            .await?;
        }
        Ok(())
    }

    /// A comment for an external update on every ticket linked to the incident (and on
    /// the issue being created for it), once each.
    pub(crate) async fn track_update(
        &mut self,
        incident: &Incident,
        update: &StatusUpdate,
    ) -> AppResult<()> {
        let text = format!(
            "{MARKER} ({}, {}): {}",
            update.audience.as_str(),
            update.state.as_str(),
            update.message
        );
        for (tracker, issue) in self.ticket_targets(incident).await? {
            let key = format!(
                "comment:{}:{}:{}",
                tracker.id,
                update.id,
                issue.as_deref().unwrap_or("created")
            );
            self.add_job(&tracker, incident, "comment", issue, text.clone(), key)
                .await?;
        }
        Ok(())
    }

    /// The transition on resolve, on the issue Triad created for the incident.
    pub(crate) async fn track_resolved(&mut self, incident: &Incident) -> AppResult<()> {
        let targets = self.ticket_targets(incident).await?;
        for (tracker, issue) in targets.into_iter().filter(|(_, i)| i.is_none()) {
            let key = format!(
                "transition:{}:{}:{}",
                tracker.id,
                incident.id,
                incident.resolved_at.unwrap_or_default()
            );
            let name = tracker.resolve_transition.clone();
            self.add_job(&tracker, incident, "transition", issue, name, key)
                .await?;
        }
        Ok(())
    }

    /// `(tracker, Some(key))` for each inbound ticket, `(tracker, None)` for the issue
    /// Triad creates (or created) for the incident.
    async fn ticket_targets(
        &mut self,
        incident: &Incident,
    ) -> AppResult<Vec<(Tracker, Option<String>)>> {
        let trackers = store::list(self.conn()).await?;
        if trackers.is_empty() {
            return Ok(Vec::new());
        }
        let links = store::links(self.conn(), &incident.id).await?;
        let jobs = store::jobs(self.conn(), &incident.id).await?;
        let mut out = Vec::new();
        for t in trackers {
            if jobs
                .iter()
                .any(|j| j.tracker_id == t.id && j.kind == "create")
            {
                out.push((t.clone(), None));
            }
            for l in links
                .iter()
                .filter(|l| l.tracker_id == t.id && l.origin == "inbound")
            {
                out.push((t.clone(), Some(l.issue_key.clone())));
            }
        }
        Ok(out)
    }

    async fn add_job(
        &mut self,
        t: &Tracker,
        incident: &Incident,
        kind: &str,
        issue_key: Option<String>,
        body: String,
        key: String,
    ) -> AppResult<()> {
        let now = self.app.now();
        let job = Job {
            id: new_id(),
            seq: 0,
            idempotency_key: key,
            tracker_id: t.id.clone(),
            incident_id: incident.id.clone(),
            kind: kind.into(),
            issue_key,
            body,
            status: "pending".into(),
            attempts: 0,
            next_attempt_at: now,
            last_error: None,
            created_at: now,
            done_at: None,
        };
        if store::enqueue(self.conn(), &job).await? {
            self.wake_engine();
        }
        Ok(())
    }
}
