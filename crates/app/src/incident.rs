//! Incidents: declare, read, list, change, and the lifecycle transitions.

use crate::{Actor, App, AppError, AppResult, service};
use serde_json::json;
use triad_domain::incident::{Incident, Status, Transition};
use triad_domain::severity::Severity;
use triad_domain::timeline::EventKind;
use triad_domain::user::Permission;
use triad_domain::validate::{self, Validation};
use triad_store::incident::{self as incidents, Filter};
use triad_store::new_id;
use triad_store::reporter::Reporter;
use triad_store::role::{self as roles, Holder};

pub const MAX_TITLE: usize = 200;
pub const MAX_DESCRIPTION: usize = 20_000;
pub const DEFAULT_PAGE: u32 = 50;
pub const MAX_PAGE: u32 = 200;

/// What a person declares.
#[derive(Debug, Clone, Default)]
pub struct Declare {
    pub title: String,
    pub severity: String,
    pub description: Option<String>,
    /// A service id or name.
    pub service: Option<String>,
    /// Who reported it; they get a receipt and every reporter update.
    pub reporter: Option<ReporterInput>,
}

/// A reporter: an external contact (name with email and/or webhook), or a user.
#[derive(Debug, Clone, Default)]
pub struct ReporterInput {
    pub name: Option<String>,
    pub email: Option<String>,
    pub webhook: Option<String>,
    /// The webhook's signing secret; generated when absent.
    pub webhook_secret: Option<String>,
    /// A user id or email: the reporter is that user.
    pub user: Option<String>,
}

/// Fields to change; `None` keeps the current value.
#[derive(Debug, Clone, Default)]
pub struct Change {
    pub title: Option<String>,
    pub description: Option<String>,
    pub severity: Option<String>,
}

/// A listing request, as received (validated here so every error names its field).
#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    /// Comma-separated statuses, or `open` for triggered and acknowledged.
    pub status: Option<String>,
    /// Comma-separated severities.
    pub severity: Option<String>,
    pub limit: Option<u32>,
    pub cursor: Option<String>,
    /// `number` (newest first, the default) or `impact` (most severe business impact
    /// first, unassessed last, then newest).
    pub sort: Option<String>,
}

/// One page of a listing; `next_cursor` fetches the following page.
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

/// An incident with its current team.
#[derive(Debug, Clone)]
pub struct IncidentView {
    pub incident: Incident,
    pub roles: Vec<Holder>,
    pub reporters: Vec<Reporter>,
    /// How many support reports the incident absorbed.
    pub reports: i64,
}

impl App {
    pub async fn declare(&self, actor: &Actor, input: Declare) -> AppResult<IncidentView> {
        actor.require(Permission::Declare)?;
        let mut v = Validation::new();
        let title = v.check("title", validate::text(&input.title, MAX_TITLE));
        let severity = v.check("severity", Severity::parse(&input.severity));
        let description = v
            .check(
                "description",
                validate::optional_text(input.description.as_deref(), MAX_DESCRIPTION),
            )
            .flatten();
        let mut d = self.decide().await?;
        let service = match input
            .service
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            Some(key) => match service::find(d.conn(), key).await? {
                Some(s) => Some(s),
                None => {
                    v.push("service", "no such service");
                    None
                }
            },
            None => None,
        };
        let reporter = match &input.reporter {
            Some(r) => self.check_reporter(d.conn(), &mut v, r).await?,
            None => None,
        };
        v.finish()?;
        let (Some(title), Some(severity)) = (title, severity) else {
            return Err(AppError::Internal(
                "validation passed with a missing field".into(),
            ));
        };
        let reporters: Vec<Reporter> = reporter.into_iter().collect();
        let (incident, reporters) = crate::lifecycle::open_incident(
            &mut d,
            actor,
            crate::lifecycle::NewIncident {
                title,
                description,
                severity,
                service_id: service.map(|s| s.id),
            },
            reporters,
        )
        .await?;
        d.commit().await?;
        Ok(IncidentView {
            incident,
            roles: Vec::new(),
            reporters,
            reports: 0,
        })
    }

    /// An incident by number or id, with its active roles.
    pub async fn incident(&self, actor: &Actor, key: &str) -> AppResult<IncidentView> {
        actor.require(Permission::Read)?;
        let mut conn = self.store().read().await?;
        let incident = incidents::get(&mut conn, key)
            .await?
            .ok_or(AppError::NotFound("incident"))?;
        let roles = roles::list(&mut conn, &incident.id, true).await?;
        let reporters = triad_store::reporter::list(&mut conn, &incident.id).await?;
        let reports = triad_store::report::count_for_incident(&mut conn, &incident.id).await?;
        Ok(IncidentView {
            incident,
            roles,
            reporters,
            reports,
        })
    }

    /// Incidents, newest first, filtered, a page at a time.
    pub async fn incidents(&self, actor: &Actor, q: ListQuery) -> AppResult<Page<Incident>> {
        actor.require(Permission::Read)?;
        let mut v = Validation::new();
        let mut statuses = Vec::new();
        for s in split_list(q.status.as_deref()) {
            let named = if s.eq_ignore_ascii_case("open") {
                vec![Status::Triggered, Status::Acknowledged]
            } else {
                v.check("status", Status::parse(s)).into_iter().collect()
            };
            for s in named {
                if !statuses.contains(&s) {
                    statuses.push(s);
                }
            }
        }
        let severities: Vec<Severity> = split_list(q.severity.as_deref())
            .filter_map(|s| v.check("severity", Severity::parse(s)))
            .collect();
        let mut severities = severities;
        severities.sort_unstable();
        severities.dedup();
        let limit = q.limit.unwrap_or(DEFAULT_PAGE);
        if limit == 0 || limit > MAX_PAGE {
            v.push("limit", format!("must be between 1 and {MAX_PAGE}"));
        }
        let by_impact = match q.sort.as_deref().map(str::trim) {
            None | Some("") | Some("number") => false,
            Some("impact") => true,
            Some(_) => {
                v.push("sort", "must be one of: number, impact");
                false
            }
        };
        let (before_rank, before_number) = match q.cursor.as_deref().filter(|c| !c.is_empty()) {
            Some(c) => match v.check("cursor", decode_cursor(c, by_impact)) {
                Some((r, n)) => (r, Some(n)),
                None => (None, None),
            },
            None => (None, None),
        };
        v.finish()?;
        let mut conn = self.store().read().await?;
        let mut items = incidents::list(
            &mut conn,
            &Filter {
                statuses,
                severities,
                before_number,
                limit: limit + 1,
                by_impact,
                before_rank,
            },
        )
        .await?;
        let next_cursor = if items.len() > limit as usize {
            items.truncate(limit as usize);
            match items.last() {
                Some(last) if by_impact => {
                    let ids = [last.id.clone()];
                    let worst = triad_store::impact::worst_of(&mut conn, &ids).await?;
                    let rank = incidents::impact_rank(worst.get(&last.id).copied());
                    Some(format!("i{rank}.{}", last.number))
                }
                Some(last) => Some(encode_cursor(last.number)),
                None => None,
            }
        } else {
            None
        };
        Ok(Page { items, next_cursor })
    }

    /// Changes title, description or severity; each change is on the timeline.
    pub async fn change_incident(
        &self,
        actor: &Actor,
        key: &str,
        change: Change,
    ) -> AppResult<IncidentView> {
        actor.require(Permission::Respond)?;
        let mut v = Validation::new();
        let title = change
            .title
            .as_deref()
            .and_then(|t| v.check("title", validate::text(t, MAX_TITLE)));
        let description = change.description.as_deref().map(|d| {
            v.check(
                "description",
                validate::optional_text(Some(d), MAX_DESCRIPTION),
            )
            .flatten()
        });
        let severity = change
            .severity
            .as_deref()
            .and_then(|s| v.check("severity", Severity::parse(s)));
        v.finish()?;
        let mut d = self.decide().await?;
        let mut incident = incidents::lock(d.conn(), key)
            .await?
            .ok_or(AppError::NotFound("incident"))?;
        let mut changed = serde_json::Map::new();
        let mut words = Vec::new();
        if let Some(t) = title.filter(|t| *t != incident.title) {
            changed.insert("title".into(), json!({"from": incident.title, "to": t}));
            words.push(format!("title to {t:?}"));
            incident.title = t;
        }
        if let Some(desc) = description.filter(|d| *d != incident.description) {
            changed.insert(
                "description".into(),
                json!({"from": incident.description, "to": desc}),
            );
            words.push("the description".to_string());
            incident.description = desc;
        }
        if let Some(s) = severity.filter(|s| *s != incident.severity) {
            changed.insert(
                "severity".into(),
                json!({"from": incident.severity.as_str(), "to": s.as_str()}),
            );
            words.push(format!("severity from {} to {s}", incident.severity));
            incident.severity = s;
            if incident.status == Status::Triggered {
                let due = self
                    .severity_policy_in(d.conn(), s)
                    .await?
                    .ack_due(incident.created_at);
                incident.ack_due_at = Some(due);
                triad_store::timer::schedule(
                    d.conn(),
                    crate::engine::TIMER_ACK_DUE,
                    &incident.id,
                    due,
                )
                .await?;
                d.wake_engine();
            }
        }
        if !changed.is_empty() {
            incident.updated_at = self.now();
            incidents::save(d.conn(), &incident).await?;
            let body = format!("{} changed {}", actor.name(), words.join(", "));
            let event = self.event(
                actor,
                &incident.id,
                EventKind::IncidentChanged,
                body,
                changed.into(),
            );
            d.append(event).await?;
        }
        let roles = roles::list(d.conn(), &incident.id, true).await?;
        let reporters = triad_store::reporter::list(d.conn(), &incident.id).await?;
        let reports = triad_store::report::count_for_incident(d.conn(), &incident.id).await?;
        d.commit().await?;
        // A severity change moves what an unassessed public incident shows.
        self.status_changed();
        Ok(IncidentView {
            incident,
            roles,
            reporters,
            reports,
        })
    }

    /// Acknowledge, resolve or reopen. The acknowledger becomes a responder.
    pub async fn transition(
        &self,
        actor: &Actor,
        key: &str,
        transition: Transition,
    ) -> AppResult<IncidentView> {
        actor.require(Permission::Respond)?;
        let now = self.now();
        let mut d = self.decide().await?;
        let mut incident = incidents::lock(d.conn(), key)
            .await?
            .ok_or(AppError::NotFound("incident"))?;
        crate::lifecycle::apply_transition(&mut d, actor, &mut incident, transition, now).await?;
        let roles = roles::list(d.conn(), &incident.id, true).await?;
        let reporters = triad_store::reporter::list(d.conn(), &incident.id).await?;
        let reports = triad_store::report::count_for_incident(d.conn(), &incident.id).await?;
        d.commit().await?;
        Ok(IncidentView {
            incident,
            roles,
            reporters,
            reports,
        })
    }

    /// Counts of incidents per status (for `/metrics`).
    pub async fn incident_counts(&self) -> AppResult<Vec<(Status, i64)>> {
        let mut conn = self.store().read().await?;
        Ok(incidents::count_by_status(&mut conn).await?)
    }
}

fn split_list(input: Option<&str>) -> impl Iterator<Item = &str> {
    input
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

impl App {
    /// Validates a reporter; the returned row still needs its incident id and time.
    pub(crate) async fn check_reporter(
        &self,
        conn: &mut triad_store::Conn,
        v: &mut Validation,
        r: &ReporterInput,
    ) -> AppResult<Option<Reporter>> {
        let mut out = Reporter {
            id: new_id(),
            incident_id: String::new(),
            name: String::new(),
            email: None,
            webhook: None,
            webhook_secret: None,
            user_id: None,
            created_at: 0,
        };
        if let Some(key) = r.user.as_deref().map(str::trim).filter(|k| !k.is_empty()) {
            match self.find_user(conn, key).await? {
                Some(u) if u.deactivated_at.is_none() => {
                    out.name = u.name;
                    out.user_id = Some(u.id);
                }
                _ => v.push("reporter.user", "no such active user"),
            }
        }
        if let Some(n) = &r.name {
            out.name = v
                .check("reporter.name", validate::text(n, 200))
                .unwrap_or_default();
        } else if out.user_id.is_none() {
            v.push("reporter.name", "is required");
        }
        if let Some(e) = r.email.as_deref().filter(|e| !e.trim().is_empty()) {
            out.email = v
                .check("reporter.email", validate::Email::parse(e))
                .map(|e| e.as_str().to_string());
        }
        if let Some(w) = r.webhook.as_deref().filter(|w| !w.trim().is_empty()) {
            out.webhook = v.check("reporter.webhook", crate::contact::check_url(w));
            out.webhook_secret = match r.webhook_secret.as_deref().map(str::trim) {
                Some(s) if s.len() < 16 || s.len() > 200 => {
                    v.push(
                        "reporter.webhook_secret",
                        "must be between 16 and 200 characters",
                    );
                    None
                }
                Some(s) => Some(s.to_string()),
                None => Some(crate::contact::new_webhook_secret()),
            };
        } else if r.webhook_secret.is_some() {
            v.push("reporter.webhook_secret", "needs reporter.webhook");
        }
        if out.user_id.is_none() && r.email.is_none() && r.webhook.is_none() {
            v.push(
                "reporter",
                "needs an email, a webhook or a user to be kept informed",
            );
        }
        Ok(Some(out))
    }
}

/// Cursors are opaque to clients; today they carry the last number seen.
fn encode_cursor(number: i64) -> String {
    format!("n{number}")
}

/// `n42` (by number) or `i3.42` (by impact: rank 3, then number 42); the cursor must
/// match the listing's sort.
fn decode_cursor(
    cursor: &str,
    by_impact: bool,
) -> Result<(Option<i64>, i64), validate::FieldReason> {
    let bad = || validate::FieldReason("is not a cursor this server issued for this sort".into());
    let number = |n: &str| n.parse::<i64>().ok().filter(|n| *n > 0);
    if by_impact {
        let (rank, n) = cursor
            .strip_prefix('i')
            .and_then(|c| c.split_once('.'))
            .ok_or_else(bad)?;
        let rank = rank.parse::<i64>().ok().filter(|r| (0..=4).contains(r));
        match (rank, number(n)) {
            (Some(r), Some(n)) => Ok((Some(r), n)),
            _ => Err(bad()),
        }
    } else {
        cursor
            .strip_prefix('n')
            .and_then(number)
            .map(|n| (None, n))
            .ok_or_else(bad)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip() {
        assert_eq!(
            decode_cursor(&encode_cursor(42), false).unwrap(),
            (None, 42)
        );
        assert_eq!(decode_cursor("i3.42", true).unwrap(), (Some(3), 42));
        assert!(decode_cursor("n42", true).is_err());
        assert!(decode_cursor("i3.42", false).is_err());
        assert!(decode_cursor("i9.42", true).is_err());
        for bad in ["", "42", "n", "n-1", "nx", "n0"] {
            assert!(decode_cursor(bad, false).is_err(), "{bad}");
        }
    }
}
