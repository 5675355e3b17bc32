//! JSON-RPC over HTTP to another endpoint: the upstream node, or an
//! inspector the gate relays transactions to.

use std::time::Duration;

use axum::body::Bytes;
use serde::Deserialize;
use serde_json::{json, Value};

/// How long one call may take.
const TIMEOUT: Duration = Duration::from_secs(10);

/// A JSON-RPC endpoint.
#[derive(Debug, Clone)]
pub struct Upstream {
    client: reqwest::Client,
    url: String,
}

/// The endpoint could not be asked (nothing about the request itself).
#[derive(Debug, thiserror::Error)]
pub enum UpstreamError {
    /// Connection refused, reset, timed out.
    #[error("cannot reach {url}: {reason}")]
    Unreachable {
        /// Endpoint.
        url: String,
        /// What the HTTP client said.
        reason: String,
    },
    /// It answered something that is not JSON-RPC.
    #[error("{url} answered HTTP {status} with a body that is not JSON-RPC")]
    NotJsonRpc {
        /// Endpoint.
        url: String,
        /// HTTP status.
        status: u16,
    },
}

/// A JSON-RPC error object from the endpoint.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ErrorObject {
    /// Its code.
    pub code: i64,
    /// Its message.
    pub message: String,
    /// Extra data, if any.
    #[serde(default)]
    pub data: Option<Value>,
}

impl Upstream {
    /// An endpoint at `url` (plain HTTP).
    pub fn new(url: impl Into<String>) -> Self {
        let client = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .connect_timeout(Duration::from_secs(2))
            .build()
            .unwrap_or_default();
        Self { client, url: url.into() }
    }

    /// Its URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    fn unreachable(&self, e: reqwest::Error) -> UpstreamError {
        UpstreamError::Unreachable { url: self.url.clone(), reason: e.to_string() }
    }

    /// Posts `body` as it is and returns the answer as it is, once checked to
    /// be JSON.
    pub async fn send_raw(&self, body: Bytes) -> Result<Bytes, UpstreamError> {
        let response = self
            .client
            .post(&self.url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body)
            .send()
            .await
            .map_err(|e| self.unreachable(e))?;
        let status = response.status().as_u16();
        let bytes = response.bytes().await.map_err(|e| self.unreachable(e))?;
        if serde_json::from_slice::<serde::de::IgnoredAny>(&bytes).is_err() {
            return Err(UpstreamError::NotJsonRpc { url: self.url.clone(), status });
        }
        Ok(bytes)
    }

    /// Calls `method`: the result, or the endpoint's error object.
    pub async fn call(&self, method: &str, params: Value) -> Result<Result<Value, ErrorObject>, UpstreamError> {
        let body = json!({ "jsonrpc": "2.0", "id": 1, "method": method, "params": params });
        let bytes = self.send_raw(Bytes::from(body.to_string())).await?;
        let answer: Value = serde_json::from_slice(&bytes).unwrap_or_default();
        decode_answer(answer).ok_or_else(|| UpstreamError::NotJsonRpc { url: self.url.clone(), status: 200 })
    }
}

impl Upstream {
    /// Calls `method` once per params, all in one JSON-RPC batch request:
    /// the answers in the order of `params`. An answer missing from the
    /// batch's response, or not JSON-RPC, is an internal error object.
    pub async fn call_many(
        &self,
        method: &str,
        params: Vec<Value>,
    ) -> Result<Vec<Result<Value, ErrorObject>>, UpstreamError> {
        let n = params.len();
        let body: Vec<Value> = params
            .into_iter()
            .enumerate()
            .map(|(id, p)| json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": p }))
            .collect();
        let bytes = self.send_raw(Bytes::from(Value::Array(body).to_string())).await?;
        let answers = match serde_json::from_slice::<Value>(&bytes) {
            Ok(Value::Array(answers)) => answers,
            // A single error object: the whole batch refused (too large,
            // batches not served).
            Ok(single) => match decode_answer(single) {
                Some(Err(e)) => return Ok(vec![Err(e); n]),
                _ => return Err(UpstreamError::NotJsonRpc { url: self.url.clone(), status: 200 }),
            },
            Err(_) => return Err(UpstreamError::NotJsonRpc { url: self.url.clone(), status: 200 }),
        };
        let missing = || ErrorObject {
            code: i64::from(vigil_types::rpc::INTERNAL_ERROR),
            message: "no answer in the batch response".into(),
            data: None,
        };
        let mut out: Vec<Result<Value, ErrorObject>> = (0..n).map(|_| Err(missing())).collect();
        for mut answer in answers {
            let id = answer.get_mut("id").and_then(|v| v.as_u64()).and_then(|i| usize::try_from(i).ok());
            if let (Some(slot), Some(decoded)) = (id.and_then(|i| out.get_mut(i)), decode_answer(answer)) {
                *slot = decoded;
            }
        }
        Ok(out)
    }
}

/// Splits a JSON-RPC response into its result or error object; `None` when
/// it is neither.
pub fn decode_answer(mut answer: Value) -> Option<Result<Value, ErrorObject>> {
    if let Some(error) = answer.get_mut("error").map(Value::take) {
        return serde_json::from_value(error).ok().map(Err);
    }
    answer.get_mut("result").map(|result| Ok(result.take()))
}

/// Parses a JSON-RPC quantity (`"0x1a"`).
pub fn parse_quantity(v: &Value) -> Option<u64> {
    let s = v.as_str()?.strip_prefix("0x")?;
    u64::from_str_radix(s, 16).ok()
}
