//! Escalation policies (create, read, change, delete) and severity policies (the
//! configuration file's, overridden per severity through the API).

use crate::team::taken;
use crate::{Actor, App, AppError, AppResult};
use triad_domain::escalation::{self, EscalationPolicy, Level, Target};
use triad_domain::policy::{Cadence, SeverityPolicy};
use triad_domain::role::{IncidentRole, Staffing};
use triad_domain::severity::Severity;
use triad_domain::update::Audience;
use triad_domain::user::Permission;
use triad_domain::validate::{self, Validation};
use triad_store::{Conn, escalation as policies, new_id, severity_policy, user as users};

/// An escalation policy as submitted (create, or replace on `PUT`).
#[derive(Debug, Clone, Default)]
pub struct PolicyInput {
    pub name: String,
    pub description: Option<String>,
    pub levels: Vec<Level>,
    pub repeat: u32,
    pub fallback: Option<Target>,
}

/// A severity policy as submitted to `PUT /severity-policies/{severity}`.
#[derive(Debug, Clone)]
pub struct SeverityInput {
    pub ack_deadline_seconds: u32,
    pub staffing: Staffing,
    pub cadence: std::collections::BTreeMap<Audience, Cadence>,
    pub reminder_lead_seconds: Option<u32>,
    pub escalation_policy: Option<String>,
    pub comms_escalation_policy: Option<String>,
}

/// Longest ack deadline and cadence accepted: one week.
const MAX_SECONDS: u32 = 7 * 86_400;

impl App {
    pub async fn create_escalation_policy(
        &self,
        actor: &Actor,
        input: PolicyInput,
    ) -> AppResult<EscalationPolicy> {
        actor.require(Permission::Administer)?;
        let now = self.now();
        let mut d = self.decide().await?;
        let (name, description) = check_policy(d.conn(), &input).await?;
        let p = EscalationPolicy {
            id: new_id(),
            name,
            description,
            levels: input.levels,
            repeat: input.repeat,
            fallback: input.fallback,
            created_at: now,
            updated_at: now,
        };
        policies::insert(d.conn(), &p)
            .await
            .map_err(|e| taken(e, &p.name))?;
        d.commit().await?;
        Ok(p)
    }

    /// Replaces a policy. Running escalations keep the snapshot they started with.
    pub async fn replace_escalation_policy(
        &self,
        actor: &Actor,
        key: &str,
        input: PolicyInput,
    ) -> AppResult<EscalationPolicy> {
        actor.require(Permission::Administer)?;
        let mut d = self.decide().await?;
        let mut p = policies::find(d.conn(), key)
            .await?
            .ok_or(AppError::NotFound("escalation policy"))?;
        let (name, description) = check_policy(d.conn(), &input).await?;
        p.name = name;
        p.description = description;
        p.levels = input.levels;
        p.repeat = input.repeat;
        p.fallback = input.fallback;
        p.updated_at = self.now();
        policies::update(d.conn(), &p)
            .await
            .map_err(|e| taken(e, &p.name))?;
        d.commit().await?;
        Ok(p)
    }

    pub async fn escalation_policies(&self, actor: &Actor) -> AppResult<Vec<EscalationPolicy>> {
        actor.require(Permission::Read)?;
        let mut conn = self.store().read().await?;
        Ok(policies::list(&mut conn).await?)
    }

    pub async fn escalation_policy(&self, actor: &Actor, key: &str) -> AppResult<EscalationPolicy> {
        actor.require(Permission::Read)?;
        let mut conn = self.store().read().await?;
        policies::find(&mut conn, key)
            .await?
            .ok_or(AppError::NotFound("escalation policy"))
    }

    /// Deletes a policy; refused (409 `in_use`) while a service or severity names it.
    pub async fn delete_escalation_policy(&self, actor: &Actor, key: &str) -> AppResult<()> {
        actor.require(Permission::Administer)?;
        let mut d = self.decide().await?;
        let p = policies::find(d.conn(), key)
            .await?
            .ok_or(AppError::NotFound("escalation policy"))?;
        policies::delete(d.conn(), &p.id).await?;
        d.commit().await
    }

    /// Every severity's policy as it applies now.
    pub async fn severity_policies(
        &self,
        actor: &Actor,
    ) -> AppResult<Vec<(Severity, SeverityPolicy)>> {
        actor.require(Permission::Read)?;
        let mut conn = self.store().read().await?;
        let mut out = Vec::new();
        for s in Severity::ALL {
            out.push((s, self.severity_policy_in(&mut conn, s).await?));
        }
        Ok(out)
    }

    /// Replaces one severity's policy. Running incidents pick it up at their next
    /// decision (acknowledgement, update); deadlines already set stay as they are.
    pub async fn put_severity_policy(
        &self,
        actor: &Actor,
        severity: &str,
        input: SeverityInput,
    ) -> AppResult<SeverityPolicy> {
        actor.require(Permission::Administer)?;
        let severity = Severity::parse(severity).map_err(|e| AppError::field("severity", e.0))?;
        let mut v = Validation::new();
        if input.ack_deadline_seconds == 0 || input.ack_deadline_seconds > MAX_SECONDS {
            v.push(
                "ack_deadline_seconds",
                format!("must be between 1 and {MAX_SECONDS}"),
            );
        }
        if !input.staffing.required.contains(&IncidentRole::Responder) {
            v.push("staffing.required", "must include responder");
        }
        for (a, c) in &input.cadence {
            for (field, value) in [
                ("first_after_ack_seconds", c.first_after_ack_seconds),
                ("every_seconds", c.every_seconds),
            ] {
                if !(60..=MAX_SECONDS).contains(&value) {
                    v.push(
                        &format!("cadence.{}.{field}", a.as_str()),
                        format!("must be between 60 and {MAX_SECONDS}"),
                    );
                }
            }
        }
        let lead = input
            .reminder_lead_seconds
            .unwrap_or(triad_domain::policy::DEFAULT_REMINDER_LEAD_SECONDS);
        if lead > MAX_SECONDS {
            v.push(
                "reminder_lead_seconds",
                format!("must be at most {MAX_SECONDS}"),
            );
        }
        let mut d = self.decide().await?;
        let escalation_policy = policy_id(
            d.conn(),
            &mut v,
            "escalation_policy",
            input.escalation_policy.as_deref(),
        )
        .await?;
        let comms_escalation_policy = policy_id(
            d.conn(),
            &mut v,
            "comms_escalation_policy",
            input.comms_escalation_policy.as_deref(),
        )
        .await?;
        v.finish()?;
        let mut staffing = input.staffing;
        staffing.required.sort_unstable();
        staffing.required.dedup();
        let policy = SeverityPolicy {
            ack_deadline_seconds: input.ack_deadline_seconds,
            staffing,
            cadence: input.cadence,
            reminder_lead_seconds: lead,
            escalation_policy,
            comms_escalation_policy,
        };
        severity_policy::put(d.conn(), severity, &policy, actor.user_id(), self.now()).await?;
        d.commit().await?;
        Ok(policy)
    }

    /// The policy a severity runs by: the one set through the API, else the
    /// configuration file's.
    pub(crate) async fn severity_policy_in(
        &self,
        conn: &mut Conn,
        severity: Severity,
    ) -> AppResult<SeverityPolicy> {
        Ok(match severity_policy::get(conn, severity).await? {
            Some(p) => p,
            None => self.config().policies.get(severity).clone(),
        })
    }
}

/// The id of the escalation policy named by `key` (id or name), or a field error.
pub(crate) async fn policy_id(
    conn: &mut Conn,
    v: &mut Validation,
    field: &str,
    key: Option<&str>,
) -> AppResult<Option<String>> {
    match key.map(str::trim).filter(|k| !k.is_empty()) {
        None => Ok(None),
        Some(k) => match policies::find(conn, k).await? {
            Some(p) => Ok(Some(p.id)),
            None => {
                v.push(field, "no such escalation policy");
                Ok(None)
            }
        },
    }
}

/// Validates a submitted policy; returns its cleaned name and description.
async fn check_policy(conn: &mut Conn, input: &PolicyInput) -> AppResult<(String, Option<String>)> {
    let mut v = Validation::new();
    let name = v.check("name", validate::text(&input.name, 100));
    let description = v
        .check(
            "description",
            validate::optional_text(input.description.as_deref(), 2000),
        )
        .flatten();
    escalation::validate_shape(
        &mut v,
        &input.levels,
        input.repeat,
        input.fallback.as_ref(),
        true,
    );
    let mut named: Vec<(String, Target)> = Vec::new();
    for (i, l) in input.levels.iter().enumerate() {
        for (j, t) in l.targets.iter().enumerate() {
            named.push((format!("levels[{i}].targets[{j}]"), t.clone()));
        }
    }
    if let Some(t) = &input.fallback {
        named.push(("fallback".into(), t.clone()));
    }
    for (field, target) in named {
        match target {
            Target::User { id } => match users::get(conn, &id).await? {
                Some(u) if u.deactivated_at.is_none() => {}
                Some(_) => v.push(&field, "this user is deactivated"),
                None => v.push(&field, "no such user"),
            },
            Target::Schedule { id } => match triad_store::schedule::find(conn, &id).await? {
                Some(s) if s.id == id => {}
                Some(s) => v.push(&field, format!("name the schedule by its id ({})", s.id)),
                None => v.push(&field, "no such schedule"),
            },
            Target::IncidentRole { .. } => {}
        }
    }
    v.finish()?;
    let name = name.ok_or_else(|| AppError::Internal("validated name missing".into()))?;
    Ok((name, description))
}
