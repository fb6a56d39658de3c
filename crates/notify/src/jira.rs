//! The Jira connector: create an issue, add a comment, apply a transition by name, over
//! Jira's REST API v2 (plain-text bodies) or v3 (Atlassian Document Format), with basic
//! (email + API token) or bearer auth. `Retry-After` on 429/503 is honoured by the
//! caller through [`Outcome::Retry`]. Wire shapes: protocols.md §2.8.

use crate::Outcome;
use crate::http::{classify, exchange, status_error};
use reqwest::Method;
use serde_json::{Value, json};
use triad_domain::Millis;
use triad_domain::adf::rich_text;

/// Where and how to reach one Jira project.
#[derive(Debug, Clone)]
pub struct JiraTarget {
    pub base_url: String,
    pub api_version: i64,
    pub auth_kind: String,
    pub auth_user: Option<String>,
    pub auth_secret: Option<String>,
    pub project_key: String,
    pub issue_type: String,
}

/// What an attempt did: the outcome, and for a created issue its id and key.
#[derive(Debug, Clone)]
pub struct JiraResult {
    pub outcome: Outcome,
    pub issue: Option<(String, String)>,
}

/// Calls one Jira project.
#[derive(Clone)]
pub struct JiraClient {
    http: reqwest::Client,
}

impl JiraClient {
    pub fn new(http: reqwest::Client) -> Self {
        JiraClient { http }
    }

    /// With the client every HTTP adapter uses (rustls, the default timeout, no
    /// redirects). Building it only fails if the TLS backend cannot start; a plain
    /// client is used then, and its requests fail and are retried like any other.
    pub fn with_defaults() -> Self {
        let http = crate::http::client(crate::http::DEFAULT_TIMEOUT)
            .unwrap_or_else(|_| reqwest::Client::new());
        JiraClient { http }
    }

    fn request(&self, t: &JiraTarget, method: Method, path: &str) -> reqwest::RequestBuilder {
        let url = format!(
            "{}/rest/api/{}/{path}",
            t.base_url.trim_end_matches('/'),
            t.api_version
        );
        let r = self
            .http
            .request(method, url)
            .header("Accept", "application/json");
        match t.auth_kind.as_str() {
            "basic" => r.basic_auth(
                t.auth_user.clone().unwrap_or_default(),
                t.auth_secret.clone(),
            ),
            "bearer" => r.bearer_auth(t.auth_secret.clone().unwrap_or_default()),
            _ => r,
        }
    }

    /// `POST /rest/api/N/issue`; on success the new issue's id and key.
    pub async fn create_issue(
        &self,
        t: &JiraTarget,
        summary: &str,
        description: &str,
        labels: &[String],
        now: Millis,
    ) -> JiraResult {
        let summary: String = summary.chars().take(255).collect();
        let body = json!({"fields": {
            "project": {"key": t.project_key},
            "issuetype": {"name": t.issue_type},
            "summary": summary,
            "description": rich_text(t.api_version, description),
            "labels": labels,
        }});
        let sent = exchange(self.request(t, Method::POST, "issue").json(&body)).await;
        let reply = match sent {
            Ok(r) => r,
            Err(outcome) => {
                return JiraResult {
                    outcome,
                    issue: None,
                };
            }
        };
        let outcome = classify(&reply, now);
        if !matches!(outcome, Outcome::Delivered { .. }) {
            return JiraResult {
                outcome,
                issue: None,
            };
        }
        let parsed: Option<(String, String)> = serde_json::from_str::<Value>(&reply.body)
            .ok()
            .and_then(|v| {
                let id = v.get("id")?.as_str()?.to_string();
                let key = v.get("key")?.as_str()?.to_string();
                Some((id, key))
            });
        match parsed {
            Some((id, key)) => JiraResult {
                outcome: Outcome::Delivered {
                    detail: Some(key.clone()),
                },
                issue: Some((id, key)),
            },
            None => JiraResult {
                outcome: Outcome::Rejected {
                    error: format!(
                        "the issue was created but the answer has no id and key: {}",
                        status_error(reply.status, &reply.body)
                    ),
                },
                issue: None,
            },
        }
    }

    /// `POST /rest/api/N/issue/{key}/comment`.
    pub async fn comment(&self, t: &JiraTarget, key: &str, text: &str, now: Millis) -> Outcome {
        let body = json!({"body": rich_text(t.api_version, text)});
        let path = format!("issue/{}/comment", encode(key));
        match exchange(self.request(t, Method::POST, &path).json(&body)).await {
            Ok(reply) => classify(&reply, now),
            Err(outcome) => outcome,
        }
    }

    /// Looks the transition up by its name or its target status's name (case-insensitive;
    /// ids differ per workflow), then applies it. An issue already in that status, with
    /// no such transition left, counts as done.
    pub async fn transition(&self, t: &JiraTarget, key: &str, name: &str, now: Millis) -> Outcome {
        let path = format!("issue/{}/transitions", encode(key));
        let reply = match exchange(self.request(t, Method::GET, &path)).await {
            Ok(r) => r,
            Err(outcome) => return outcome,
        };
        if !reply.status.is_success() {
            return classify(&reply, now);
        }
        let list: Value = serde_json::from_str(&reply.body).unwrap_or(Value::Null);
        let wanted = name.to_lowercase();
        let found = list
            .get("transitions")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .find(|tr| {
                let own = tr
                    .get("name")
                    .and_then(Value::as_str)
                    .map(str::to_lowercase);
                let to = tr
                    .pointer("/to/name")
                    .and_then(Value::as_str)
                    .map(str::to_lowercase);
                own.as_deref() == Some(&wanted) || to.as_deref() == Some(&wanted)
            })
            .and_then(|tr| tr.get("id").and_then(Value::as_str).map(str::to_string));
        let Some(id) = found else {
            return Outcome::Rejected {
                error: format!(
                    "issue {key} offers no transition named {name:?} (or to a status of that name)"
                ),
            };
        };
        let body = json!({"transition": {"id": id}});
        match exchange(self.request(t, Method::POST, &path).json(&body)).await {
            Ok(reply) => classify(&reply, now),
            Err(outcome) => outcome,
        }
    }
}

/// Percent-encodes an issue key for a path segment (keys are `ABC-123`; this is a guard).
fn encode(key: &str) -> String {
    key.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issue_keys_are_encoded_for_a_path() {
        assert_eq!(encode("OPS-1/../x"), "OPS-1%2F..%2Fx");
        assert_eq!(encode("OPS-12"), "OPS-12");
    }
}
