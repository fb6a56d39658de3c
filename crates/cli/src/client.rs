//! A small JSON client for the API that turns every failure into a clear message.

use crate::ClientOpts;
use serde_json::Value;
use std::fmt;
use std::time::Duration;

pub struct Client {
    http: reqwest::Client,
    base: String,
    token: Option<String>,
}

/// Why a command failed, in words for the person at the terminal.
#[derive(Debug)]
pub enum ClientError {
    /// The server could not be reached.
    Unreachable(String),
    /// The API refused: HTTP status, stable code, message, field reasons.
    Api {
        status: u16,
        code: String,
        message: String,
        fields: Vec<(String, String)>,
    },
    /// Anything else (bad configuration, unreadable answer).
    Other(String),
}

impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClientError::Unreachable(m) => write!(f, "{m}"),
            ClientError::Api {
                status,
                code,
                message,
                fields,
            } => {
                write!(f, "{message} ({code}, HTTP {status})")?;
                for (field, reason) in fields {
                    write!(f, "\n  {field}: {reason}")?;
                }
                if *status == 401 {
                    write!(
                        f,
                        "\n  hint: set TRIAD_TOKEN, or sign in with `triad login --email ...`"
                    )?;
                }
                Ok(())
            }
            ClientError::Other(m) => write!(f, "{m}"),
        }
    }
}

impl std::error::Error for ClientError {}

impl Client {
    pub fn new(opts: &ClientOpts) -> Result<Client, ClientError> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(30))
            .user_agent(concat!("triad-cli/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ClientError::Other(format!("cannot set up HTTP: {e}")))?;
        let base = opts.server.trim_end_matches('/').to_string();
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(ClientError::Other(format!(
                "--server must be an http:// or https:// URL, not {base:?}"
            )));
        }
        Ok(Client {
            http,
            base,
            token: opts.token.clone(),
        })
    }

    pub async fn get(&self, path: &str, query: &[(&str, String)]) -> Result<Value, ClientError> {
        self.send(self.http.get(self.url(path)).query(query)).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> Result<Value, ClientError> {
        self.send(self.http.post(self.url(path)).json(body)).await
    }

    pub async fn put(&self, path: &str, body: &Value) -> Result<Value, ClientError> {
        self.send(self.http.put(self.url(path)).json(body)).await
    }

    pub async fn delete(&self, path: &str, query: &[(&str, String)]) -> Result<Value, ClientError> {
        self.send(self.http.delete(self.url(path)).query(query))
            .await
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    async fn send(&self, mut req: reqwest::RequestBuilder) -> Result<Value, ClientError> {
        if let Some(t) = &self.token {
            req = req.bearer_auth(t);
        }
        let resp = req.send().await.map_err(|e| {
            ClientError::Unreachable(format!("cannot reach Triad at {}: {e}", self.base))
        })?;
        let status = resp.status().as_u16();
        let text = resp
            .text()
            .await
            .map_err(|e| ClientError::Other(format!("the answer could not be read: {e}")))?;
        let value: Value = if text.trim().is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).map_err(|_| {
                ClientError::Other(format!(
                    "the server answered HTTP {status} with something that is not JSON"
                ))
            })?
        };
        if (200..300).contains(&status) {
            return Ok(value);
        }
        let e = &value["error"];
        let fields = e["fields"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|f| {
                        let s = |k: &str| f[k].as_str().unwrap_or_default().to_string();
                        (s("field"), s("reason"))
                    })
                    .collect()
            })
            .unwrap_or_default();
        Err(ClientError::Api {
            status,
            code: e["code"].as_str().unwrap_or("unknown").to_string(),
            message: e["message"]
                .as_str()
                .unwrap_or("the server refused the request")
                .to_string(),
            fields,
        })
    }
}
