//! JSON-RPC over HTTP to the settlement chain: the handful of standard
//! Ethereum methods Vigil needs, typed, with errors that say what to do.
//! A revert of `eth_call` / `eth_estimateGas` comes back as its revert data
//! (geth's form: error `data` holds the bytes), decoded by [`crate::revert`].

use std::time::Duration;

use alloy_primitives::{Address, Bytes, B256, U256};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::{revert::decode_revert, SettlementError};

/// How long one request may take.
const TIMEOUT: Duration = Duration::from_secs(15);
/// Most blocks asked in one `eth_getLogs` (the devnet's limit is 10,000).
pub const LOG_RANGE: u64 = 5_000;

/// One log as `eth_getLogs` returns it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RpcLog {
    /// Emitting contract.
    pub address: Address,
    /// Topics, the event signature first.
    pub topics: Vec<B256>,
    /// Non-indexed data.
    pub data: Bytes,
    /// Block that holds it.
    #[serde(deserialize_with = "hex_u64")]
    pub block_number: u64,
    /// Position in the block's logs.
    #[serde(deserialize_with = "hex_u64")]
    pub log_index: u64,
    /// The transaction that emitted it.
    pub transaction_hash: B256,
}

/// The receipt fields Vigil reads.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Receipt {
    /// The transaction.
    pub transaction_hash: B256,
    /// Its block.
    #[serde(deserialize_with = "hex_u64")]
    pub block_number: u64,
    /// 1 success, 0 reverted.
    #[serde(deserialize_with = "hex_u64")]
    pub status: u64,
    /// Gas it used.
    #[serde(deserialize_with = "hex_u64")]
    pub gas_used: u64,
    /// The created contract, for a creation.
    #[serde(default)]
    pub contract_address: Option<Address>,
    /// Its logs.
    #[serde(default)]
    pub logs: Vec<RpcLog>,
}

impl Receipt {
    /// Whether the transaction succeeded.
    pub fn succeeded(&self) -> bool {
        self.status == 1
    }
}

/// What `eth_call` / `eth_estimateGas` says about a call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallOutcome<T> {
    /// It returned (or fits in this much gas).
    Ok(T),
    /// It reverted with this data.
    Reverted(Bytes),
}

/// A JSON-RPC endpoint of the settlement chain.
#[derive(Debug, Clone)]
pub struct Client {
    http: reqwest::Client,
    url: String,
}

/// A JSON-RPC error object.
#[derive(Debug, Deserialize)]
struct ErrorObject {
    code: i64,
    message: String,
    #[serde(default)]
    data: Option<Value>,
}

/// Hex revert data in an error object's `data` (a string, or an object
/// with a `data` string as some nodes nest it).
fn revert_data(e: &ErrorObject) -> Option<Bytes> {
    let data = e.data.as_ref()?;
    let hex = data.as_str().or_else(|| data.get("data").and_then(Value::as_str))?;
    hex.parse().ok()
}

/// Deserializes a `0x` quantity into a `u64`.
fn hex_u64<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    let s = String::deserialize(d)?;
    let digits = s.strip_prefix("0x").ok_or_else(|| serde::de::Error::custom(format!("{s:?} is not a 0x quantity")))?;
    u64::from_str_radix(digits, 16).map_err(serde::de::Error::custom)
}

/// A `0x` quantity.
fn quantity(v: &Value) -> Option<U256> {
    v.as_str().and_then(|s| s.strip_prefix("0x")).and_then(|h| U256::from_str_radix(h, 16).ok())
}

impl Client {
    /// An endpoint at `url` (HTTP).
    pub fn new(url: impl Into<String>) -> Self {
        let http = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .connect_timeout(Duration::from_secs(3))
            .build()
            .unwrap_or_default();
        Self { http, url: url.into() }
    }

    /// Its URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// One call: its result, or the error object.
    async fn raw(&self, method: &'static str, params: Value) -> Result<Result<Value, ErrorObject>, SettlementError> {
        let unreachable = |reason: String| SettlementError::Unreachable { url: self.url.clone(), reason };
        let body = json!({ "jsonrpc": "2.0", "id": 1, "method": method, "params": params });
        let answer = self.http.post(&self.url).json(&body).send().await.map_err(|e| unreachable(e.to_string()))?;
        let status = answer.status();
        let text = answer.text().await.map_err(|e| unreachable(e.to_string()))?;
        let mut v: Value = serde_json::from_str(&text)
            .map_err(|_| unreachable(format!("HTTP {status} with a body that is not JSON-RPC")))?;
        if let Some(e) = v.get_mut("error") {
            let e: ErrorObject = serde_json::from_value(e.take())
                .map_err(|_| unreachable(format!("{method}: an error that is not a JSON-RPC error object")))?;
            return Ok(Err(e));
        }
        match v.get_mut("result") {
            Some(r) => Ok(Ok(r.take())),
            None => Err(unreachable(format!("{method}: an answer with neither result nor error"))),
        }
    }

    /// A call that must succeed.
    pub async fn request(&self, method: &'static str, params: Value) -> Result<Value, SettlementError> {
        self.raw(method, params).await?.map_err(|e| SettlementError::Rpc {
            url: self.url.clone(),
            method,
            code: e.code,
            message: e.message,
        })
    }

    fn bad(&self, method: &'static str, expected: &'static str, answer: &Value) -> SettlementError {
        let mut answer = answer.to_string();
        answer.truncate(200);
        SettlementError::BadAnswer { url: self.url.clone(), method, expected, answer }
    }

    async fn quantity(&self, method: &'static str, params: Value) -> Result<U256, SettlementError> {
        let v = self.request(method, params).await?;
        quantity(&v).ok_or_else(|| self.bad(method, "a quantity", &v))
    }

    async fn u64_quantity(&self, method: &'static str, params: Value) -> Result<u64, SettlementError> {
        let q = self.quantity(method, params).await?;
        u64::try_from(q).map_err(|_| self.bad(method, "a 64-bit quantity", &json!(q.to_string())))
    }

    /// `eth_chainId`.
    pub async fn chain_id(&self) -> Result<u64, SettlementError> {
        self.u64_quantity("eth_chainId", json!([])).await
    }

    /// Fails unless the endpoint serves chain `expected`.
    pub async fn expect_chain(&self, expected: u64) -> Result<(), SettlementError> {
        let got = self.chain_id().await?;
        if got != expected {
            return Err(SettlementError::WrongChain { url: self.url.clone(), expected, got });
        }
        Ok(())
    }

    /// `eth_blockNumber`.
    pub async fn block_number(&self) -> Result<u64, SettlementError> {
        self.u64_quantity("eth_blockNumber", json!([])).await
    }

    /// `eth_getTransactionCount(who, "pending")`: the next nonce to use.
    pub async fn next_nonce(&self, who: Address) -> Result<u64, SettlementError> {
        self.u64_quantity("eth_getTransactionCount", json!([who, "pending"])).await
    }

    /// `eth_getBalance(who, "latest")`.
    pub async fn balance(&self, who: Address) -> Result<U256, SettlementError> {
        self.quantity("eth_getBalance", json!([who, "latest"])).await
    }

    /// `eth_getCode(at, "latest")`.
    pub async fn code(&self, at: Address) -> Result<Bytes, SettlementError> {
        let v = self.request("eth_getCode", json!([at, "latest"])).await?;
        v.as_str().and_then(|s| s.parse().ok()).ok_or_else(|| self.bad("eth_getCode", "hex bytes", &v))
    }

    /// `eth_gasPrice` (legacy price: base fee plus a tip).
    pub async fn gas_price(&self) -> Result<u128, SettlementError> {
        let q = self.quantity("eth_gasPrice", json!([])).await?;
        u128::try_from(q).map_err(|_| self.bad("eth_gasPrice", "a 128-bit quantity", &json!(q.to_string())))
    }

    /// `eth_maxPriorityFeePerGas`, or 1 gwei where the node has no such
    /// method.
    pub async fn max_priority_fee(&self) -> Result<u128, SettlementError> {
        match self.raw("eth_maxPriorityFeePerGas", json!([])).await? {
            Ok(v) => quantity(&v)
                .and_then(|q| u128::try_from(q).ok())
                .ok_or_else(|| self.bad("eth_maxPriorityFeePerGas", "a quantity", &v)),
            Err(_) => Ok(1_000_000_000),
        }
    }

    /// `eth_call` at the latest block: the return data, or the revert data.
    pub async fn call(
        &self,
        from: Option<Address>,
        to: Address,
        value: U256,
        data: &[u8],
    ) -> Result<CallOutcome<Bytes>, SettlementError> {
        let mut tx = json!({ "to": to, "value": value, "data": Bytes::copy_from_slice(data) });
        if let Some(from) = from {
            tx["from"] = json!(from);
        }
        match self.raw("eth_call", json!([tx, "latest"])).await? {
            Ok(v) => {
                let out =
                    v.as_str().and_then(|s| s.parse().ok()).ok_or_else(|| self.bad("eth_call", "hex bytes", &v))?;
                Ok(CallOutcome::Ok(out))
            }
            Err(e) => match revert_data(&e) {
                Some(data) => Ok(CallOutcome::Reverted(data)),
                None if e.message.contains("revert") => Ok(CallOutcome::Reverted(Bytes::new())),
                None => Err(SettlementError::Rpc {
                    url: self.url.clone(),
                    method: "eth_call",
                    code: e.code,
                    message: e.message,
                }),
            },
        }
    }

    /// `eth_estimateGas` of a transaction: the gas, or the revert data.
    pub async fn estimate_gas(
        &self,
        from: Address,
        to: Option<Address>,
        value: U256,
        data: &[u8],
    ) -> Result<CallOutcome<u64>, SettlementError> {
        let mut tx = json!({ "from": from, "value": value, "data": Bytes::copy_from_slice(data) });
        if let Some(to) = to {
            tx["to"] = json!(to);
        }
        match self.raw("eth_estimateGas", json!([tx])).await? {
            Ok(v) => {
                let gas = quantity(&v)
                    .and_then(|q| u64::try_from(q).ok())
                    .ok_or_else(|| self.bad("eth_estimateGas", "a quantity", &v))?;
                Ok(CallOutcome::Ok(gas))
            }
            Err(e) => match revert_data(&e) {
                Some(data) => Ok(CallOutcome::Reverted(data)),
                None if e.message.contains("revert") => Ok(CallOutcome::Reverted(Bytes::new())),
                None => Err(SettlementError::Rpc {
                    url: self.url.clone(),
                    method: "eth_estimateGas",
                    code: e.code,
                    message: e.message,
                }),
            },
        }
    }

    /// `eth_sendRawTransaction`: the hash the node answered.
    pub async fn send_raw(&self, raw: &[u8]) -> Result<B256, SettlementError> {
        let v = self.request("eth_sendRawTransaction", json!([Bytes::copy_from_slice(raw)])).await?;
        v.as_str().and_then(|s| s.parse().ok()).ok_or_else(|| self.bad("eth_sendRawTransaction", "a hash", &v))
    }

    /// `eth_getTransactionReceipt`: `None` while it is not in a block.
    pub async fn receipt(&self, hash: B256) -> Result<Option<Receipt>, SettlementError> {
        let v = self.request("eth_getTransactionReceipt", json!([hash])).await?;
        if v.is_null() {
            return Ok(None);
        }
        serde_json::from_value(v.clone()).map(Some).map_err(|_| self.bad("eth_getTransactionReceipt", "a receipt", &v))
    }

    /// Polls the receipt of `hash` every `poll` until it appears or
    /// `within` has passed.
    pub async fn wait_receipt(&self, hash: B256, within: Duration, poll: Duration) -> Result<Receipt, SettlementError> {
        let start = std::time::Instant::now();
        loop {
            if let Some(r) = self.receipt(hash).await? {
                return Ok(r);
            }
            if start.elapsed() >= within {
                let waited_ms = u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX);
                return Err(SettlementError::NoReceipt { hash, waited_ms });
            }
            tokio::time::sleep(poll).await;
        }
    }

    /// `eth_getLogs` of `address` with first topic `topic0` (and the second
    /// `topic1` when given) in blocks `from..=to`; in chain order.
    pub async fn logs(
        &self,
        address: Address,
        topic0: B256,
        topic1: Option<B256>,
        from: u64,
        to: u64,
    ) -> Result<Vec<RpcLog>, SettlementError> {
        self.logs_topics(address, &[Some(topic0), topic1], from, to).await
    }

    /// `eth_getLogs` of `address` whose topics match `topics` (`None`
    /// matches anything) in blocks `from..=to`, split into ranges of at
    /// most [`LOG_RANGE`] blocks; in chain order.
    pub async fn logs_topics(
        &self,
        address: Address,
        topics: &[Option<B256>],
        from: u64,
        to: u64,
    ) -> Result<Vec<RpcLog>, SettlementError> {
        let mut topics: Vec<Value> = topics.iter().map(|t| t.map_or(Value::Null, |t| json!(t))).collect();
        while topics.last() == Some(&Value::Null) {
            topics.pop();
        }
        let mut out = Vec::new();
        let mut start = from;
        while start <= to {
            let end = to.min(start.saturating_add(LOG_RANGE - 1));
            let filter = json!({
                "address": address,
                "topics": topics,
                "fromBlock": format!("0x{start:x}"),
                "toBlock": format!("0x{end:x}"),
            });
            let v = self.request("eth_getLogs", json!([filter])).await?;
            let logs: Vec<RpcLog> =
                serde_json::from_value(v.clone()).map_err(|_| self.bad("eth_getLogs", "a list of logs", &v))?;
            out.extend(logs);
            if end == u64::MAX {
                break;
            }
            start = end + 1;
        }
        out.sort_by_key(|l| (l.block_number, l.log_index));
        Ok(out)
    }

    /// Calls a view function of a contract and decodes its return value; a
    /// revert is [`SettlementError::Reverted`] with the decoded reason.
    pub async fn view<C: alloy_sol_types::SolCall>(&self, to: Address, call: &C) -> Result<C::Return, SettlementError> {
        let what = || format!("{} at {to}", C::SIGNATURE);
        match self.call(None, to, U256::ZERO, &call.abi_encode()).await? {
            CallOutcome::Ok(out) => {
                if out.is_empty() {
                    return Err(SettlementError::Decode {
                        what: what(),
                        reason: "no return data: there is no contract at that address".into(),
                    });
                }
                C::abi_decode_returns(&out).map_err(|e| SettlementError::Decode { what: what(), reason: e.to_string() })
            }
            CallOutcome::Reverted(data) => {
                Err(SettlementError::Reverted { what: what(), reason: decode_revert(&data) })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_revert_data_in_both_forms() {
        let flat = ErrorObject { code: 3, message: "execution reverted".into(), data: Some(json!("0x12345678")) };
        assert_eq!(revert_data(&flat), Some(Bytes::from(vec![0x12, 0x34, 0x56, 0x78])));
        let nested = ErrorObject { code: -32000, message: "x".into(), data: Some(json!({ "data": "0xab" })) };
        assert_eq!(revert_data(&nested), Some(Bytes::from(vec![0xab])));
        assert_eq!(revert_data(&ErrorObject { code: 1, message: "x".into(), data: None }), None);
    }

    #[tokio::test]
    async fn an_unreachable_endpoint_is_named() {
        // Port 9 (discard) on localhost: nothing listens there in the tests.
        let err = Client::new("http://127.0.0.1:9").chain_id().await.unwrap_err();
        let text = err.to_string();
        assert!(text.starts_with("cannot reach the settlement chain at http://127.0.0.1:9"), "{text}");
    }
}
