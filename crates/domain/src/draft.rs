//! A draft status update from the internal timeline: what happened since an audience
//! was last told, one line per event that matters to people outside the team, for the
//! coordinator to edit before publishing. Pure and deterministic: the same timeline gives
//! the same draft.

use crate::Millis;
use crate::incident::{Incident, PublicState, Status};
use crate::timeline::{EventKind, TimelineEvent};
use crate::update::Audience;

/// At most this many lines are listed; the rest are counted.
pub const MAX_LINES: usize = 40;

/// A draft and what it was made from.
#[derive(Debug, Clone, PartialEq)]
pub struct Draft {
    pub audience: Audience,
    /// The suggested state: `resolved` once the incident is, else its public state.
    pub state: PublicState,
    pub message: String,
    /// The sequence numbers of the events summarized (also those past [`MAX_LINES`]).
    pub used: Vec<i64>,
}

/// Whether an event of this kind belongs in an external update. Paging, reminders,
/// delivery failures and staffing gaps are the team's business; alerts are summed up.
fn relevant(kind: EventKind) -> bool {
    matches!(
        kind,
        EventKind::IncidentDeclared
            | EventKind::IncidentChanged
            | EventKind::Acknowledged
            | EventKind::Resolved
            | EventKind::Reopened
            | EventKind::RoleAssigned
            | EventKind::RoleHandedOver
            | EventKind::Note
            | EventKind::UpdatePublished
            | EventKind::Change
            | EventKind::ReportReceived
            | EventKind::ImpactChanged
    )
}

/// `14:05 UTC`, for the headline times.
fn hhmm(ms: Millis) -> String {
    format!("{} UTC", hm(ms))
}

/// `14:05` (UTC), for the lines under a headline that names the zone.
fn hm(ms: Millis) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .map(|t| t.strftime("%H:%M").to_string())
        .unwrap_or_default()
}

/// Sums up a run of alert events in one line.
fn flush_alerts(alerts: &mut Vec<&TimelineEvent>, lines: &mut Vec<String>, used: &mut Vec<i64>) {
    if let (Some(first), Some(last)) = (alerts.first(), alerts.last()) {
        let n = alerts.len();
        let what = if n == 1 {
            "1 alert event".to_string()
        } else {
            format!("{n} alert events")
        };
        lines.push(format!(
            "- {}–{} {what} from monitoring (latest: {})",
            hm(first.at),
            hm(last.at),
            last.body
        ));
        used.extend(alerts.iter().map(|e| e.seq));
        alerts.clear();
    }
}

/// What a draft is made from.
#[derive(Debug, Clone, Copy)]
pub struct DraftInput<'a> {
    pub incident: &'a Incident,
    pub audience: Audience,
    /// The incident's name on the status page, if it is public.
    pub public_name: Option<&'a str>,
    /// When the audience's last update was published; `None` if it never had one.
    pub since: Option<Millis>,
    /// The events after that update, oldest first.
    pub events: &'a [TimelineEvent],
    /// Whether the timeline holds more events than `events` (reading stopped).
    pub more_on_timeline: bool,
    pub next_due: Option<Millis>,
}

/// The line a public draft says for an event: only what customers may read (no
/// names, notes or internal detail); `None` for events it leaves out.
fn public_line(e: &TimelineEvent) -> Option<String> {
    let text = match e.kind {
        EventKind::Acknowledged => "The team acknowledged the problem and is working on it.",
        EventKind::Reopened => "The problem came back; the team is working on it again.",
        EventKind::Resolved => "The problem was resolved.",
        EventKind::ImpactChanged => "The team assessed the impact on our services.",
        _ => return None,
    };
    Some(format!("- {} {text}", hm(e.at)))
}

/// Builds the draft for an audience from the events since its last update. For the
/// public the headline is the public name (never the internal title) and the lines are
/// generic; the other audiences get the events' own lines.
pub fn draft(input: DraftInput<'_>) -> Draft {
    let DraftInput {
        incident,
        audience,
        public_name,
        since,
        events,
        more_on_timeline,
        next_due,
    } = input;
    let public = audience == Audience::Public;
    let mut lines: Vec<String> = Vec::new();
    let mut used = Vec::new();
    let mut alerts: Vec<&TimelineEvent> = Vec::new();
    for e in events {
        if public {
            if let Some(line) = public_line(e) {
                lines.push(line);
                used.push(e.seq);
            }
            continue;
        }
        if e.kind == EventKind::Alert {
            alerts.push(e);
            continue;
        }
        if !relevant(e.kind) {
            continue;
        }
        // Updates to this same audience are the boundary, not news.
        if e.kind == EventKind::UpdatePublished
            && e.data.get("audience").and_then(|a| a.as_str()) == Some(audience.as_str())
        {
            continue;
        }
        flush_alerts(&mut alerts, &mut lines, &mut used);
        let body = e.body.trim();
        let line = match e.kind {
            EventKind::Note => format!("- {} Note: {body}", hm(e.at)),
            _ => format!("- {} {body}", hm(e.at)),
        };
        lines.push(line);
        used.push(e.seq);
    }
    flush_alerts(&mut alerts, &mut lines, &mut used);
    // The newest lines matter most: the oldest ones give way.
    let earlier = lines.len().saturating_sub(MAX_LINES);
    if earlier > 0 || more_on_timeline {
        lines.drain(..earlier);
        lines.insert(
            0,
            "- … earlier events left out (see the timeline)".to_string(),
        );
    }
    let state = if incident.status == Status::Resolved {
        PublicState::Resolved
    } else {
        incident.public_state
    };
    let mut message = if public {
        format!(
            "{} — {}\n\n",
            public_name.unwrap_or("Service disruption"),
            state.as_str()
        )
    } else {
        format!(
            "[{}] {} — {}\n\n",
            incident.severity.as_str(),
            incident.title,
            state.as_str()
        )
    };
    match since {
        Some(t) => message.push_str(&format!("Since our last update at {}:\n", hhmm(t))),
        None => message.push_str(&format!(
            "Since the incident began at {}:\n",
            hhmm(incident.created_at)
        )),
    }
    if lines.is_empty() {
        message.push_str("- Nothing new on the timeline; the team is still working on it.\n");
    } else {
        message.push_str(&lines.join("\n"));
        message.push('\n');
    }
    if state != PublicState::Resolved
        && let Some(due) = next_due
    {
        message.push_str(&format!("\nNext update by {}.\n", hhmm(due)));
    }
    Draft {
        audience,
        state,
        message,
        used,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::severity::Severity;

    fn incident() -> Incident {
        Incident {
            id: "i".into(),
            number: 1,
            title: "Checkout failing".into(),
            description: None,
            severity: Severity::Sev2,
            status: Status::Acknowledged,
            public_state: PublicState::Identified,
            service_id: None,
            created_by: None,
            created_at: 0,
            updated_at: 0,
            ack_due_at: None,
            acknowledged_at: None,
            acknowledged_by: None,
            resolved_at: None,
            resolved_by: None,
            communication_gap_at: None,
            understaffed_since: None,
            update_requests: 0,
        }
    }

    fn ev(
        seq: i64,
        min: i64,
        kind: EventKind,
        body: &str,
        data: serde_json::Value,
    ) -> TimelineEvent {
        TimelineEvent {
            seq,
            id: seq.to_string(),
            incident_id: "i".into(),
            at: min * 60_000,
            actor_id: None,
            actor_name: None,
            kind,
            body: body.into(),
            data,
        }
    }

    #[test]
    fn lines_skip_noise_collapse_alerts_and_are_deterministic() {
        let null = serde_json::Value::Null;
        let events = vec![
            ev(1, 1, EventKind::Alert, "Disk 91% on db-1", null.clone()),
            ev(2, 2, EventKind::Alert, "Disk 95% on db-1", null.clone()),
            ev(3, 3, EventKind::Paged, "Paged Rita", null.clone()),
            ev(
                4,
                4,
                EventKind::Acknowledged,
                "Rita acknowledged",
                null.clone(),
            ),
            ev(5, 5, EventKind::Note, "consumer lag 40 min", null.clone()),
            ev(
                6,
                6,
                EventKind::UpdatePublished,
                "told public",
                serde_json::json!({"audience": "public"}),
            ),
            ev(
                7,
                7,
                EventKind::UpdatePublished,
                "told stakeholders",
                serde_json::json!({"audience": "stakeholders"}),
            ),
            ev(8, 8, EventKind::UpdateReminder, "reminder", null.clone()),
        ];
        let inc = incident();
        let input = DraftInput {
            incident: &inc,
            audience: Audience::Stakeholders,
            public_name: None,
            since: Some(0),
            events: &events,
            more_on_timeline: false,
            next_due: Some(30 * 60_000),
        };
        let d = draft(input);
        assert_eq!(
            d.message,
            "[SEV2] Checkout failing — identified\n\n\
             Since our last update at 00:00 UTC:\n\
             - 00:01–00:02 2 alert events from monitoring (latest: Disk 95% on db-1)\n\
             - 00:04 Rita acknowledged\n\
             - 00:05 Note: consumer lag 40 min\n\
             - 00:06 told public\n\
             \nNext update by 00:30 UTC.\n"
        );
        assert_eq!(d.used, vec![1, 2, 4, 5, 6]);
        assert_eq!(d, draft(input));
        // The public draft: the public name, generic lines, no notes or names.
        let p = draft(DraftInput {
            audience: Audience::Public,
            public_name: Some("Payment failures"),
            ..input
        });
        assert_eq!(
            p.message,
            "Payment failures — identified\n\n\
             Since our last update at 00:00 UTC:\n\
             - 00:04 The team acknowledged the problem and is working on it.\n\
             \nNext update by 00:30 UTC.\n"
        );
    }

    #[test]
    fn nothing_new_and_long_timelines_say_so() {
        let inc = incident();
        let base = DraftInput {
            incident: &inc,
            audience: Audience::Stakeholders,
            public_name: None,
            since: None,
            events: &[],
            more_on_timeline: false,
            next_due: None,
        };
        let d = draft(base);
        assert!(d.message.contains("Since the incident began at 00:00 UTC"));
        assert!(d.message.contains("Nothing new"));
        let many: Vec<_> = (0..50)
            .map(|n| {
                ev(
                    n,
                    n,
                    EventKind::Note,
                    &format!("n{n}"),
                    serde_json::Value::Null,
                )
            })
            .collect();
        let d = draft(DraftInput {
            events: &many,
            ..base
        });
        assert_eq!(d.message.matches("Note: ").count(), MAX_LINES);
        assert!(d.message.contains("earlier events left out"));
        assert!(
            d.message.contains("Note: n49") && !d.message.contains("Note: n9\n"),
            "the newest stay"
        );
        let d = draft(DraftInput {
            events: &many[..2],
            more_on_timeline: true,
            ..base
        });
        assert!(d.message.contains("earlier events left out"));
        let mut resolved = incident();
        resolved.status = Status::Resolved;
        let d = draft(DraftInput {
            incident: &resolved,
            next_due: Some(1),
            ..base
        });
        assert_eq!(d.state, PublicState::Resolved);
        assert!(!d.message.contains("Next update"));
    }
}
