//! Message templates: per audience (stakeholders, reporters, public) and stage
//! (received, acknowledged, update, resolved), a subject and a body in MiniJinja that
//! replace Triad's built-in words. A template is checked when it is saved, by rendering
//! it against a sample; a stage without one keeps the built-in words.
//!
//! Variables: `incident` (`number`, `title`, `severity`, `status`, `public_state`,
//! `public_name`), `update` (`state`, `message`, `published_at`) when there is one,
//! `next_update_due` (RFC 3339 or none), `page` (`name`, `url`), `audience`, `stage`,
//! `data` (the notice's details), and `default_subject` / `default_text` (the built-in
//! words, to wrap rather than replace).

use crate::outbox::Notice;
use crate::{Actor, App, AppError, AppResult, Decision};
use minijinja::{Environment, UndefinedBehavior};
use serde_json::{Value, json};
use triad_domain::update::Audience;
use triad_domain::user::Permission;
use triad_store::template::{self as store, Template};

/// The stages a template can be written for.
pub const STAGES: [&str; 4] = ["received", "acknowledged", "update", "resolved"];

/// The longest template source accepted, in characters.
pub const MAX_SOURCE: usize = 20_000;

/// Renders `subject` and `body` with `ctx`; an undefined variable is an error.
pub fn render(subject: &str, body: &str, ctx: &Value) -> Result<(String, String), String> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    let one = |src: &str, what: &str| env.render_str(src, ctx).map_err(|e| format!("{what}: {e}"));
    let subject = one(subject, "subject")?;
    let body = one(body, "body")?;
    let subject = subject
        .lines()
        .next()
        .unwrap_or_default()
        .trim()
        .to_string();
    Ok((subject, body))
}

/// The context a template sees, for a notice.
fn context(d: &DecisionCtx<'_>, audience: Audience, stage: &str) -> Value {
    json!({
        "incident": d.incident,
        "update": d.update,
        "next_update_due": d.next_update_due,
        "page": d.page,
        "audience": audience.as_str(),
        "stage": stage,
        "data": d.data,
        "default_subject": d.default_subject,
        "default_text": d.default_text,
    })
}

/// What a template is rendered with.
struct DecisionCtx<'a> {
    incident: Value,
    update: Value,
    next_update_due: Value,
    page: Value,
    data: &'a Value,
    default_subject: &'a str,
    default_text: &'a str,
}

/// A sample to check templates against when they are saved.
fn sample(audience: Audience, stage: &str) -> Value {
    // The details notices of that audience carry (those of any stage: a template that
    // uses one a stage lacks falls back to the built-in words at send time).
    let data = match audience {
        Audience::Stakeholders => json!({"update_id": "u1", "business_service": "Checkout",
            "tier": 1, "impact": "partial_outage", "group": "execs"}),
        Audience::Reporters => json!({"update_id": "u1", "state": "identified",
            "next_update_due_at": "2026-01-01T10:30:00Z", "ack_due_at": "2026-01-01T09:15:00Z",
            "acknowledged_by": "Rita", "resolved_by": "Rita", "minutes": 42, "paged": ["Rita"],
            "status": "acknowledged", "responders": ["Rita"]}),
        Audience::Public => json!({"update_id": "u1"}),
    };
    let c = DecisionCtx {
        incident: json!({"number": 42, "title": "Checkout failing", "severity": "SEV2",
            "status": "acknowledged", "public_state": "identified", "public_name": "Payment failures"}),
        update: json!({"state": "identified", "message": "We found the cause.", "published_at": "2026-01-01T10:00:00Z"}),
        next_update_due: json!("2026-01-01T10:30:00Z"),
        page: json!({"name": "Acme Status", "url": "https://status.example.com"}),
        data: &data,
        default_subject: "Update on #42 Checkout failing: identified",
        default_text: "We found the cause.",
    };
    context(&c, audience, stage)
}

impl App {
    /// Every saved template.
    pub async fn templates(&self, actor: &Actor) -> AppResult<Vec<Template>> {
        actor.require(Permission::Read)?;
        let mut conn = self.store().read().await?;
        Ok(store::list(&mut conn).await?)
    }

    /// Saves the template of an audience and stage (administrators), after rendering it
    /// against a sample: a syntax error or an unknown variable is a 422 naming the field.
    pub async fn put_template(
        &self,
        actor: &Actor,
        audience: &str,
        stage: &str,
        subject: &str,
        body: &str,
    ) -> AppResult<Template> {
        actor.require(Permission::Administer)?;
        let audience = Audience::parse(audience).map_err(|e| AppError::field("audience", e.0))?;
        if !STAGES.contains(&stage) {
            return Err(AppError::field(
                "stage",
                format!("must be one of: {}", STAGES.join(", ")),
            ));
        }
        for (field, src) in [("subject", subject), ("body", body)] {
            if src.trim().is_empty() || src.chars().count() > MAX_SOURCE {
                return Err(AppError::field(
                    field,
                    format!("must be 1 to {MAX_SOURCE} characters"),
                ));
            }
        }
        if let Err(e) = render(subject, body, &sample(audience, stage)) {
            let (field, reason) = e.split_once(": ").unwrap_or(("body", e.as_str()));
            return Err(AppError::field(field, reason.to_string()));
        }
        let t = Template {
            audience: audience.as_str().into(),
            stage: stage.into(),
            subject: subject.into(),
            body: body.into(),
            updated_at: self.now(),
            updated_by: actor.user_id().map(str::to_string),
        };
        let mut d = self.decide().await?;
        store::put(d.conn(), &t).await?;
        d.commit().await?;
        Ok(t)
    }

    /// Removes a template; the built-in words apply again.
    pub async fn delete_template(
        &self,
        actor: &Actor,
        audience: &str,
        stage: &str,
    ) -> AppResult<()> {
        actor.require(Permission::Administer)?;
        let mut d = self.decide().await?;
        store::delete(d.conn(), audience, stage).await?;
        d.commit().await
    }
}

impl Decision<'_> {
    /// [`Decision::notify_reporters`] through the reporters' template for `stage`, if an
    /// administrator saved one (rendered once, in UTC); else the built-in words.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn notify_reporters_as(
        &mut self,
        stage: &str,
        update: Option<&triad_domain::update::StatusUpdate>,
        next_update_due: Option<triad_domain::Millis>,
        reporters: &[triad_store::reporter::Reporter],
        n: &Notice<'_>,
        text: impl Fn(Option<&str>) -> String,
    ) -> AppResult<usize> {
        if reporters.is_empty() || store::get(self.conn(), "reporters", stage).await?.is_none() {
            return self.notify_reporters(reporters, n, text).await;
        }
        let (subject, body) = self
            .templated(
                Audience::Reporters,
                stage,
                n,
                update,
                next_update_due,
                &text(None),
            )
            .await?;
        let mine = Notice {
            subject,
            ..n.clone()
        };
        self.notify_reporters(reporters, &mine, |_| body.clone())
            .await
    }

    /// The subject and text to send for `n` to `audience` at `stage`: the saved
    /// template's rendering, or the built-in `(n.subject, default_text)`. A template that
    /// fails on real data (it passed the sample) falls back to the built-in words, with
    /// a warning: the message is never lost to a template.
    pub(crate) async fn templated(
        &mut self,
        audience: Audience,
        stage: &str,
        n: &Notice<'_>,
        update: Option<&triad_domain::update::StatusUpdate>,
        next_update_due: Option<triad_domain::Millis>,
        default_text: &str,
    ) -> AppResult<(String, String)> {
        let fallback = (n.subject.clone(), default_text.to_string());
        let Some(t) = store::get(self.conn(), audience.as_str(), stage).await? else {
            return Ok(fallback);
        };
        let page = triad_store::status::page(self.conn()).await?;
        let incident = match n.incident {
            Some(i) => {
                let public_name = triad_store::status::public_name(self.conn(), &i.id).await?;
                json!({"number": i.number, "title": i.title, "severity": i.severity.as_str(),
                    "status": i.status.as_str(), "public_state": i.public_state.as_str(),
                    "public_name": public_name})
            }
            None => Value::Null,
        };
        let c = DecisionCtx {
            incident,
            update: update.map_or(Value::Null, |u| {
                json!({"state": u.state.as_str(), "message": u.message,
                    "published_at": crate::rfc3339(u.published_at)})
            }),
            next_update_due: next_update_due.map_or(Value::Null, |t| json!(crate::rfc3339(t))),
            page: page.map_or(Value::Null, |p| json!({"name": p.name, "url": p.url})),
            data: &n.data,
            default_subject: &n.subject,
            default_text,
        };
        let ctx = context(&c, audience, stage);
        match render(&t.subject, &t.body, &ctx) {
            Ok(out) => Ok(out),
            Err(e) => {
                tracing::warn!(audience = audience.as_str(), stage, error = %e, "a message template failed; the built-in words were sent");
                Ok(fallback)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_render_and_refuse_unknown_variables() {
        let ctx = sample(Audience::Reporters, "update");
        let (s, b) = render(
            "[{{ incident.severity }}] {{ incident.public_name }}\nignored second line",
            "{{ update.message }} Next: {{ next_update_due }}. {{ default_text }}",
            &ctx,
        )
        .unwrap();
        assert_eq!(s, "[SEV2] Payment failures");
        assert_eq!(
            b,
            "We found the cause. Next: 2026-01-01T10:30:00Z. We found the cause."
        );
        let e = render("ok", "{{ incident.tittle }}", &ctx).unwrap_err();
        assert!(e.starts_with("body: "), "{e}");
        assert!(
            render("{% if %}", "x", &ctx)
                .unwrap_err()
                .starts_with("subject: ")
        );
    }
}
