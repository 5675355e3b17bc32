//! JSON-RPC over HTTP to another endpoint: the upstream node, or an
//! inspector the gate relays transactions to.

use std::time::Duration;

use alloy_primitives::{Address, U256};
use axum::body::Bytes;
use serde::Deserialize;
use serde_json::{json, Value};
use vigil_sim::plausible::ChainFacts;

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
    /// the answers in the order of `params`.
    pub async fn call_many(
        &self,
        method: &str,
        params: Vec<Value>,
    ) -> Result<Vec<Result<Value, ErrorObject>>, UpstreamError> {
        self.call_batch(params.into_iter().map(|p| (method, p)).collect()).await
    }

    /// Makes `calls` in one JSON-RPC batch request: the answers in the
    /// order of `calls`. An answer missing from the batch's response is an
    /// internal error object; a whole batch refused (too large, batches not
    /// served) gives every call its error.
    pub async fn call_batch(
        &self,
        calls: Vec<(&str, Value)>,
    ) -> Result<Vec<Result<Value, ErrorObject>>, UpstreamError> {
        let n = calls.len();
        let body: Vec<Value> = calls
            .into_iter()
            .enumerate()
            .map(|(id, (method, params))| json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params }))
            .collect();
        let bytes = self.send_raw(Bytes::from(Value::Array(body).to_string())).await?;
        let not_json_rpc = || UpstreamError::NotJsonRpc { url: self.url.clone(), status: 200 };
        let answers = match serde_json::from_slice::<Value>(&bytes) {
            Ok(Value::Array(answers)) => answers,
            Ok(single) => match decode_answer(single) {
                Some(Err(e)) => return Ok(vec![Err(e); n]),
                _ => return Err(not_json_rpc()),
            },
            Err(_) => return Err(not_json_rpc()),
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

    /// What a plausibility check needs of the chain upstream, at its
    /// latest block, in one request: `sender`'s next nonce and balance, and
    /// the block's gas limit. `Err` says why it could not be read.
    pub async fn chain_facts(&self, sender: Address) -> Result<ChainFacts, String> {
        let answers = self
            .call_batch(vec![
                ("eth_getTransactionCount", json!([sender, "latest"])),
                ("eth_getBalance", json!([sender, "latest"])),
                ("eth_getBlockByNumber", json!(["latest", false])),
            ])
            .await
            .map_err(|e| e.to_string())?;
        let [nonce, balance, block] = <[_; 3]>::try_from(answers).map_err(|_| "an incomplete answer".to_string())?;
        let answered =
            |a: Result<Value, ErrorObject>, what: &str| a.map_err(|e| format!("{what}: {} ({})", e.message, e.code));
        let nonce = answered(nonce, "eth_getTransactionCount")?;
        let balance = answered(balance, "eth_getBalance")?;
        let block = answered(block, "eth_getBlockByNumber")?;
        Ok(ChainFacts {
            next_nonce: parse_quantity(&nonce).ok_or_else(|| format!("nonce {nonce} is not a quantity"))?,
            balance: balance
                .as_str()
                .and_then(|b| b.parse::<U256>().ok())
                .ok_or_else(|| format!("balance {balance} is not a quantity"))?,
            block_gas_limit: parse_quantity(&block["gasLimit"])
                .ok_or_else(|| format!("the latest block's gasLimit {} is not a quantity", block["gasLimit"]))?,
        })
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
