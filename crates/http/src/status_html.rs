//! The status page for people: HTML with components, 90-day uptime bars, current
//! incidents, maintenances and history; one page per public incident; an Atom feed.
//! Plain server-rendered HTML with inline CSS: no script, no build step.

use crate::status_page::stamp;
use std::fmt::Write;
use triad_app::status::{ComponentView, IncidentView, Snapshot};
use triad_domain::Millis;
use triad_domain::status::{ComponentStatus, MaintenanceStatus, uptime, uptime_percent};

/// Days of history in the uptime bars.
pub const BAR_DAYS: i64 = 90;

/// Escapes text for HTML and XML, dropping characters XML 1.0 does not allow (control
/// characters other than tab and newlines, and U+FFFE/U+FFFF), which an alert's summary
/// may carry.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '\t' | '\n' | '\r' => out.push(ch),
            c if c.is_control() || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn zone(s: &Snapshot) -> jiff::tz::TimeZone {
    jiff::tz::TimeZone::get(&s.page.time_zone).unwrap_or(jiff::tz::TimeZone::UTC)
}

/// A time for people: `2026-01-01 09:00 CET`.
fn human(zone: &jiff::tz::TimeZone, ms: Millis) -> String {
    match jiff::Timestamp::from_millisecond(ms) {
        Ok(t) => t
            .to_zoned(zone.clone())
            .strftime("%Y-%m-%d %H:%M %Z")
            .to_string(),
        Err(_) => ms.to_string(),
    }
}

/// The boundaries of the last [`BAR_DAYS`] days in the page's zone, oldest first,
/// ending with the start of tomorrow.
fn day_boundaries(zone: &jiff::tz::TimeZone, now: Millis) -> Vec<Millis> {
    let Ok(t) = jiff::Timestamp::from_millisecond(now) else {
        return Vec::new();
    };
    let Ok(today) = t.to_zoned(zone.clone()).start_of_day() else {
        return Vec::new();
    };
    let mut days = Vec::with_capacity(BAR_DAYS as usize + 1);
    for back in (-1..BAR_DAYS).rev() {
        let day = today
            .date()
            .checked_sub(jiff::Span::new().days(back))
            .ok()
            .and_then(|d| d.to_zoned(zone.clone()).ok());
        if let Some(d) = day {
            days.push(d.timestamp().as_millisecond());
        }
    }
    days
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:52rem;margin:2rem auto;padding:0 1rem;color:#1f2933}\
h1{font-size:1.6rem}h2{font-size:1.2rem;margin-top:2rem}\
.banner{padding:1rem;border-radius:6px;color:#fff;font-weight:600}\
.none{background:#2f855a}.minor{background:#d69e2e}.major{background:#dd6b20}.critical{background:#c53030}.maintenance{background:#2b6cb0}\
.c{border-bottom:1px solid #e4e7eb;padding:.75rem 0}.c .s{float:right}\
.operational{color:#2f855a}.degraded_performance{color:#b7791f}.partial_outage{color:#dd6b20}.major_outage{color:#c53030}.under_maintenance{color:#2b6cb0}\
.bar{display:flex;gap:1px;margin-top:.4rem}.bar i{flex:1;height:1.6rem;border-radius:2px;background:#2f855a}\
.bar i.degraded_performance{background:#d69e2e}.bar i.partial_outage{background:#dd6b20}.bar i.major_outage{background:#c53030}\
.bar i.under_maintenance{background:#2b6cb0}.bar i.nodata{background:#cbd2d9}\
.u{font-size:.8rem;color:#616e7c}.inc{border-left:4px solid #cbd2d9;padding:.25rem 1rem;margin:1rem 0}\
.inc h3{margin:.25rem 0}.upd{margin:.5rem 0}.upd b{text-transform:capitalize}";

fn head(out: &mut String, title: &str, s: &Snapshot) {
    let _ = write!(
        out,
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <title>{}</title><link rel=\"alternate\" type=\"application/atom+xml\" href=\"{}/history.atom\">\
         <style>{STYLE}</style></head><body>",
        esc(title),
        esc(&s.page.url)
    );
}

fn bar(out: &mut String, s: &Snapshot, v: &ComponentView, members: &[&ComponentView]) {
    let z = zone(s);
    let days = day_boundaries(&z, s.now);
    if days.len() < 2 {
        return;
    }
    let mut spans: Vec<(Millis, Millis, ComponentStatus)> = v.spans.clone();
    for m in members {
        spans.extend_from_slice(&m.spans);
    }
    let start = v
        .component
        .start_date
        .as_deref()
        .and_then(|d| d.parse::<jiff::civil::Date>().ok())
        .and_then(|d| d.to_zoned(z.clone()).ok())
        .map(|d| d.timestamp().as_millisecond())
        .unwrap_or(Millis::MIN);
    let bars = uptime(&days, &spans);
    out.push_str("<div class=\"bar\">");
    for d in &bars {
        let class = if d.start < start {
            "nodata"
        } else {
            d.worst.as_str()
        };
        let minutes = d.outage_ms / 60_000;
        let _ = write!(
            out,
            "<i class=\"{class}\" title=\"{}: {}{}\"></i>",
            human(&z, d.start).split(' ').next().unwrap_or_default(),
            d.worst.label(),
            if minutes > 0 {
                format!(", {minutes} min down")
            } else {
                String::new()
            }
        );
    }
    let from = days[0].max(start);
    let counted: Vec<_> = bars.iter().filter(|d| d.start >= from).copied().collect();
    let until = s.now.min(*days.last().unwrap_or(&s.now));
    let pct = uptime_percent(&counted, until - from);
    let _ = write!(
        out,
        "</div><div class=\"u\">{BAR_DAYS} days ago · {pct:.2}% uptime · today</div>"
    );
}

fn incident_block(out: &mut String, s: &Snapshot, iv: &IncidentView, link: bool) {
    let z = zone(s);
    let i = &iv.incident;
    let title = if link {
        format!(
            "<a href=\"{}/incidents/{}\">{}</a>",
            esc(&s.page.url),
            esc(&i.id),
            esc(&i.name)
        )
    } else {
        esc(&i.name)
    };
    let _ = write!(out, "<div class=\"inc\"><h3>{title}</h3>");
    let names: Vec<String> = iv
        .components
        .iter()
        .map(|&n| esc(&s.components[n].component.name))
        .collect();
    if !names.is_empty() {
        let _ = write!(out, "<div class=\"u\">Affects: {}</div>", names.join(", "));
    }
    for u in &i.updates {
        let _ = write!(
            out,
            "<div class=\"upd\"><b>{}</b> — {} <div class=\"u\">{}</div></div>",
            u.state.as_str(),
            esc(&u.message),
            human(&z, u.published_at)
        );
    }
    out.push_str("</div>");
}

/// `GET /status`.
pub fn page(s: &Snapshot) -> String {
    let z = zone(s);
    let mut out = String::with_capacity(16 * 1024);
    head(&mut out, &s.page.name, s);
    let _ = write!(
        out,
        "<h1>{}</h1><div class=\"banner {}\">{}</div>",
        esc(&s.page.name),
        s.status.indicator,
        s.status.description
    );
    let open: Vec<&IncidentView> = s
        .incidents
        .iter()
        .filter(|i| i.resolved_at.is_none())
        .collect();
    if !open.is_empty() {
        out.push_str("<h2>Current incidents</h2>");
        for iv in open {
            incident_block(&mut out, s, iv, true);
        }
    }
    let now_or_next: Vec<_> = s
        .maintenances
        .iter()
        .filter(|m| m.status != MaintenanceStatus::Completed)
        .collect();
    if !now_or_next.is_empty() {
        out.push_str("<h2>Scheduled maintenance</h2>");
        for m in now_or_next.iter().rev() {
            let mm = &m.maintenance;
            let names: Vec<String> = m
                .components
                .iter()
                .map(|&n| esc(&s.components[n].component.name))
                .collect();
            let _ = write!(
                out,
                "<div class=\"inc\"><h3>{}</h3><div class=\"u\">{} — {}{}{}</div><p>{}</p></div>",
                esc(&mm.name),
                human(&z, mm.scheduled_for),
                human(&z, mm.scheduled_until),
                if m.status == MaintenanceStatus::InProgress {
                    " · in progress"
                } else {
                    ""
                },
                if names.is_empty() {
                    String::new()
                } else {
                    format!(" · {}", names.join(", "))
                },
                esc(&mm.body)
            );
        }
    }
    out.push_str("<h2>Components</h2>");
    for v in s
        .components
        .iter()
        .filter(|v| v.component.group_id.is_none())
    {
        let members: Vec<&ComponentView> = s
            .components
            .iter()
            .filter(|m| m.component.group_id.as_deref() == Some(&v.component.id))
            .collect();
        if v.component.only_show_if_degraded && v.status == ComponentStatus::Operational {
            continue;
        }
        let _ = write!(
            out,
            "<div class=\"c\"><span class=\"s {}\">{}</span><b>{}</b>",
            v.status.as_str(),
            v.status.label(),
            esc(&v.component.name)
        );
        if let Some(d) = &v.component.description {
            let _ = write!(out, "<div class=\"u\">{}</div>", esc(d));
        }
        if v.component.showcase {
            bar(&mut out, s, v, &members);
        }
        for m in members {
            if m.component.only_show_if_degraded && m.status == ComponentStatus::Operational {
                continue;
            }
            let _ = write!(
                out,
                "<div class=\"u\">· {} — <span class=\"{}\">{}</span></div>",
                esc(&m.component.name),
                m.status.as_str(),
                m.status.label()
            );
        }
        out.push_str("</div>");
    }
    let past: Vec<&IncidentView> = s
        .incidents
        .iter()
        .filter(|i| i.resolved_at.is_some())
        .collect();
    out.push_str("<h2>Past incidents</h2>");
    if past.is_empty() {
        out.push_str("<p class=\"u\">No incidents reported.</p>");
    }
    for iv in past.into_iter().take(20) {
        incident_block(&mut out, s, iv, true);
    }
    let _ = write!(
        out,
        "<h2>Get updates by email</h2><form method=\"post\" action=\"{0}/subscriptions\">\
         <input type=\"email\" name=\"email\" required placeholder=\"you@example.com\"> \
         <button type=\"submit\">Subscribe</button></form>",
        esc(&s.page.url)
    );
    let _ = write!(
        out,
        "<p class=\"u\"><a href=\"{0}/history.atom\">Atom feed</a> · <a href=\"{0}/api/v2/summary.json\">JSON API</a> · updated {1}</p></body></html>",
        esc(&s.page.url),
        human(&z, s.page.updated_at)
    );
    out
}

/// A short page answering a subscription, confirmation or unsubscribe link.
pub fn message_page(page: &str, title: &str, text: &str) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <title>{} — {}</title><style>{STYLE}</style></head><body><h1>{}</h1><p>{}</p>\
         <p class=\"u\">{}</p></body></html>",
        esc(title),
        esc(page),
        esc(title),
        esc(text),
        esc(page)
    )
}

/// The confirmation page: a button that POSTs the token back.
pub fn confirm_form(page: &str, token: &str) -> String {
    let token: String = token
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(100)
        .collect();
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <title>Confirm — {0}</title><style>{STYLE}</style></head><body><h1>Confirm your subscription</h1>\
         <p>Receive updates from {0} by email?</p>\
         <form method=\"post\" action=\"confirm?token={token}\"><button type=\"submit\">Confirm</button></form>\
         </body></html>",
        esc(page)
    )
}

/// `GET /status/incidents/{id}`; `None` if no public incident has that id.
pub fn incident_page(s: &Snapshot, id: &str) -> Option<String> {
    let iv = s.incidents.iter().find(|i| i.incident.id == id)?;
    let mut out = String::with_capacity(4 * 1024);
    head(
        &mut out,
        &format!("{} — {}", iv.incident.name, s.page.name),
        s,
    );
    let _ = write!(
        out,
        "<p><a href=\"{}\">{}</a></p><div class=\"banner {}\">{}</div>",
        esc(&s.page.url),
        esc(&s.page.name),
        if iv.resolved_at.is_some() {
            "none"
        } else {
            iv.impact.as_str()
        },
        esc(iv.incident.state.as_str())
    );
    incident_block(&mut out, s, iv, false);
    out.push_str("</body></html>");
    Some(out)
}

/// The Atom ids' prefix (RFC 4151 tag URIs), followed by the page id.
const TAG: &str = "tag:triad.local,2026:status/";

/// `GET /status/history.atom`: one entry per public incident, latest first.
pub fn atom(s: &Snapshot) -> String {
    let utc = jiff::tz::TimeZone::UTC;
    let mut out = String::with_capacity(8 * 1024);
    let _ = write!(
        out,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\">\
         <id>{TAG}{}</id><title>{} status history</title><updated>{}</updated>\
         <author><name>{}</name></author>\
         <link rel=\"alternate\" type=\"text/html\" href=\"{}\"/><link rel=\"self\" href=\"{}/history.atom\"/>",
        esc(&s.page.page_id),
        esc(&s.page.name),
        stamp(&utc, s.page.updated_at),
        esc(&s.page.name),
        esc(&s.page.url),
        esc(&s.page.url)
    );
    for iv in s.incidents.iter().take(50) {
        let i = &iv.incident;
        let mut content = String::new();
        for u in &i.updates {
            let _ = write!(
                content,
                "<p><small>{}</small><br><strong>{}</strong> — {}</p>",
                stamp(&utc, u.published_at),
                u.state.as_str(),
                esc(&u.message)
            );
        }
        let _ = write!(
            out,
            "<entry><id>{TAG}{}/incident/{}</id><published>{}</published><updated>{}</updated>\
             <link rel=\"alternate\" type=\"text/html\" href=\"{}/incidents/{}\"/><title>{}</title>\
             <content type=\"html\">{}</content></entry>",
            esc(&s.page.page_id),
            esc(&i.id),
            stamp(&utc, i.created_at),
            stamp(&utc, i.updated_at),
            esc(&s.page.url),
            esc(&i.id),
            esc(&i.name),
            esc(&content)
        );
    }
    out.push_str("</feed>\n");
    out
}
