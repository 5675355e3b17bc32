//! The devnet's JSON-RPC: the Ethereum methods wallets, libraries and
//! explorers call, over HTTP and WebSocket on one port, plus Vigil's
//! (`vigil_submitCertificate`, `vigil_getTxStatus`, …). Reference:
//! docs/rpc.md.

use std::{net::SocketAddr, sync::Arc};

use alloy_consensus::Transaction as _;
use alloy_primitives::{Address, Bytes, TxKind, B256, U256, U64};
use alloy_rpc_types_eth::{
    Block, BlockId, BlockNumberOrTag, BlockTransactions, FeeHistory, Filter, FilterBlockOption, Header as RpcHeader,
    Log, Transaction as RpcTransaction, TransactionReceipt, TransactionRequest,
};
use jsonrpsee::{
    server::{PendingSubscriptionSink, RpcModule, ServerConfig, ServerHandle},
    types::{ErrorObjectOwned, Params},
};
use serde_json::{json, Value};
use vigil_sim::{revm::context::TxEnv, ExecResult, StateView};
use vigil_types::{rpc as codes, tx::Transaction, Attestation, BatchPush};

use crate::{
    chain::{effective_gas_price, StoredBlock, StoredReceipt, StoredTx},
    node::{AdmissionMode, Devnet, DevnetError, TxStatus},
    store::{cf, decode_json},
};

/// Largest request body accepted (a raw transaction is at most 128 KiB).
pub const MAX_REQUEST_BYTES: u32 = 5 * 1024 * 1024;
/// Most blocks one `eth_getLogs` may scan.
pub const MAX_LOG_BLOCK_RANGE: u64 = 10_000;
/// Most logs one `eth_getLogs` returns.
pub const MAX_LOGS: usize = 20_000;
/// Tip suggested by `eth_maxPriorityFeePerGas` (1 gwei).
pub const SUGGESTED_TIP: u128 = 1_000_000_000;
/// What `web3_clientVersion` answers.
pub const CLIENT_VERSION: &str = concat!("vigil-devnet/v", env!("CARGO_PKG_VERSION"));

type RpcResult<T> = Result<T, ErrorObjectOwned>;

fn err(code: i32, message: impl Into<String>) -> ErrorObjectOwned {
    ErrorObjectOwned::owned(code, message.into(), None::<()>)
}

fn invalid_params(message: impl std::fmt::Display) -> ErrorObjectOwned {
    err(codes::INVALID_PARAMS, format!("invalid params: {message}"))
}

fn internal(e: impl std::fmt::Display) -> ErrorObjectOwned {
    err(codes::INTERNAL_ERROR, e.to_string())
}

impl From<DevnetError> for ErrorObjectOwned {
    fn from(e: DevnetError) -> Self {
        let code = match &e {
            DevnetError::Decode(_) | DevnetError::WrongChain(_) | DevnetError::Invalid(_) => codes::TX_REJECTED,
            DevnetError::Pool(crate::pool::PoolError::Full(_) | crate::pool::PoolError::SenderFull { .. }) => {
                codes::LIMIT_EXCEEDED
            }
            DevnetError::Pool(_) => codes::TX_REJECTED,
            DevnetError::Certificate(_) => codes::INVALID_CERTIFICATE,
            DevnetError::Release(_) => codes::UNAUTHORIZED,
            DevnetError::Store(_) | DevnetError::Chain(_) => codes::INTERNAL_ERROR,
        };
        err(code, e.to_string())
    }
}

/// Starts the JSON-RPC server (HTTP and WebSocket on `addr`).
pub async fn serve(devnet: Arc<Devnet>, addr: SocketAddr) -> std::io::Result<(SocketAddr, ServerHandle)> {
    let config = ServerConfig::builder()
        .max_request_body_size(MAX_REQUEST_BYTES)
        .max_response_body_size(64 * 1024 * 1024)
        .max_connections(1_000)
        .max_subscriptions_per_connection(1_024)
        .set_id_provider(HexIds)
        .build();
    let server = jsonrpsee::server::Server::builder().set_config(config).build(addr).await?;
    let local = server.local_addr()?;
    let module = module(devnet).map_err(std::io::Error::other)?;
    Ok((local, server.start(module)))
}

/// Subscription ids as Ethereum nodes spell them: `0x` and 32 hex digits
/// (jsonrpsee's default is a JSON number, which Ethereum clients do not
/// expect).
#[derive(Debug)]
struct HexIds;

impl jsonrpsee::core::traits::IdProvider for HexIds {
    fn next_id(&self) -> jsonrpsee::types::SubscriptionId<'static> {
        jsonrpsee::types::SubscriptionId::Str(format!("0x{:032x}", rand::random::<u128>()).into())
    }
}

/// The RPC methods.
pub fn module(devnet: Arc<Devnet>) -> Result<RpcModule<Devnet>, jsonrpsee::core::RegisterMethodError> {
    let mut m = RpcModule::from_arc(devnet);
    m.register_method("eth_chainId", |_, d, _| -> RpcResult<U64> { Ok(U64::from(d.chain_id())) })?;
    m.register_method("net_version", |_, d, _| -> RpcResult<String> { Ok(d.chain_id().to_string()) })?;
    m.register_method("web3_clientVersion", |_, _, _| -> RpcResult<&str> { Ok(CLIENT_VERSION) })?;
    m.register_method("eth_syncing", |_, _, _| -> RpcResult<bool> { Ok(false) })?;
    m.register_method("eth_accounts", |_, _, _| -> RpcResult<Vec<Address>> { Ok(vec![]) })?;
    m.register_method("eth_blockNumber", |_, d, _| -> RpcResult<U64> {
        Ok(U64::from(d.chain().head().header.number))
    })?;
    m.register_method("eth_gasPrice", |_, d, _| -> RpcResult<U256> {
        Ok(U256::from(u128::from(d.chain().next_base_fee()) + SUGGESTED_TIP))
    })?;
    m.register_method("eth_maxPriorityFeePerGas", |_, _, _| -> RpcResult<U256> { Ok(U256::from(SUGGESTED_TIP)) })?;
    m.register_method("eth_getBlockByNumber", |p, d, _| -> RpcResult<Option<Block>> {
        let (tag, full): (BlockNumberOrTag, bool) = p.parse()?;
        let Some(number) = resolve_number(d, tag) else { return Ok(None) };
        block_json(d, number, full)
    })?;
    m.register_method("eth_getBlockByHash", |p, d, _| -> RpcResult<Option<Block>> {
        let (hash, full): (B256, bool) = p.parse()?;
        let Some(number) = number_of_hash(d, hash)? else { return Ok(None) };
        block_json(d, number, full)
    })?;
    m.register_method("eth_getBlockTransactionCountByNumber", |p, d, _| -> RpcResult<Option<U64>> {
        let (tag,): (BlockNumberOrTag,) = p.parse()?;
        let Some(number) = resolve_number(d, tag) else { return Ok(None) };
        Ok(d.chain().block(number).map_err(internal)?.map(|b| U64::from(b.transactions.len())))
    })?;
    m.register_method("eth_getTransactionByHash", |p, d, _| -> RpcResult<Option<RpcTransaction>> {
        let (hash,): (B256,) = p.parse()?;
        transaction_json(d, hash)
    })?;
    m.register_method("eth_getTransactionReceipt", |p, d, _| -> RpcResult<Option<TransactionReceipt>> {
        let (hash,): (B256,) = p.parse()?;
        receipt_json(d, hash)
    })?;
    m.register_method("eth_getBlockReceipts", |p, d, _| -> RpcResult<Option<Vec<TransactionReceipt>>> {
        // A number, a tag or a block hash (the spec's `BlockNumberOrTagOrHash`).
        let (id,): (BlockId,) = p.parse()?;
        let number = match id {
            BlockId::Number(tag) => resolve_number(d, tag),
            BlockId::Hash(h) => number_of_hash(d, h.block_hash)?,
        };
        let Some(number) = number else { return Ok(None) };
        let Some(block) = d.chain().block(number).map_err(internal)? else { return Ok(None) };
        let mut out = Vec::with_capacity(block.transactions.len());
        for h in &block.transactions {
            out.extend(receipt_json(d, *h)?);
        }
        Ok(Some(out))
    })?;
    m.register_method("eth_getBalance", |p, d, _| -> RpcResult<U256> {
        let (address, block) = address_and_block(&p)?;
        let chain = d.chain();
        latest_only(&chain, block)?;
        Ok(chain.state().balance(address))
    })?;
    m.register_method("eth_getCode", |p, d, _| -> RpcResult<Bytes> {
        let (address, block) = address_and_block(&p)?;
        let chain = d.chain();
        latest_only(&chain, block)?;
        Ok(chain.state().code(address))
    })?;
    m.register_method("eth_getStorageAt", |p, d, _| -> RpcResult<B256> {
        let mut seq = p.sequence();
        let address: Address = seq.next()?;
        let slot: U256 = seq.next()?;
        let block: Option<BlockId> = seq.optional_next()?;
        let chain = d.chain();
        latest_only(&chain, block)?;
        Ok(B256::from(chain.state().storage(address, slot).map_err(internal)?))
    })?;
    m.register_method("eth_getTransactionCount", |p, d, _| -> RpcResult<U64> {
        let (address, block) = address_and_block(&p)?;
        let chain = d.chain();
        let next = chain.state().nonce(address);
        if matches!(block, Some(BlockId::Number(BlockNumberOrTag::Pending))) {
            return Ok(U64::from(d.pool().pending_nonce(address, next)));
        }
        latest_only(&chain, block)?;
        Ok(U64::from(next))
    })?;
    m.register_blocking_method("eth_call", |p, d, _| -> RpcResult<Bytes> {
        let mut seq = p.sequence();
        let request: TransactionRequest = seq.next()?;
        let block: Option<BlockId> = seq.optional_next()?;
        let chain = d.chain();
        latest_only(&chain, block)?;
        let gas = request.gas.unwrap_or(chain.head().header.gas_limit);
        let result = run_call(&chain, &request, gas)?;
        match result {
            ExecResult::Success { output, .. } => Ok(output),
            other => Err(revert_error(&other)),
        }
    })?;
    m.register_blocking_method("eth_estimateGas", |p, d, _| -> RpcResult<U64> {
        let mut seq = p.sequence();
        let request: TransactionRequest = seq.next()?;
        let block: Option<BlockId> = seq.optional_next()?;
        let chain = d.chain();
        latest_only(&chain, block)?;
        Ok(U64::from(estimate_gas(&chain, &request)?))
    })?;
    m.register_method("eth_feeHistory", |p, d, _| -> RpcResult<FeeHistory> {
        let mut seq = p.sequence();
        let count: U64 = seq.next()?;
        let newest: BlockNumberOrTag = seq.next()?;
        let percentiles: Option<Vec<f64>> = seq.optional_next()?;
        fee_history(d, count.to::<u64>(), newest, percentiles.unwrap_or_default())
    })?;
    m.register_method("eth_getLogs", |p, d, _| -> RpcResult<Vec<Log>> {
        let (filter,): (Filter,) = p.parse()?;
        get_logs(d, &filter)
    })?;
    m.register_blocking_method("eth_sendRawTransaction", |p, d, _| -> RpcResult<B256> {
        let (raw,): (Bytes,) = p.parse().map_err(|e| invalid_params(format!("expected [\"0x…raw tx\"]: {e}")))?;
        Ok(d.submit_transaction(&raw)?)
    })?;
    m.register_blocking_method("evm_mine", |_, d, _| -> RpcResult<String> {
        d.mine_now()?;
        Ok("0x0".into())
    })?;
    m.register_async_method("vigil_submitCertificate", |p, d, _| async move {
        let (value,): (Value,) = p.parse()?;
        let cert: Attestation = serde_json::from_value(value).map_err(|e| {
            err(
                codes::INVALID_CERTIFICATE,
                format!("expected a certificate (DESIGN §4) or an inclusion proof (DESIGN §4b): {e}"),
            )
        })?;
        let hash = cert.tx_hash();
        let status = d.submit_certificate_batched(cert).await?;
        RpcResult::Ok(json!({ "tx_hash": hash, "status": status_name(&status) }))
    })?;
    m.register_blocking_method("vigil_submitBatch", |p, d, _| -> RpcResult<Value> {
        let (push,): (BatchPush,) =
            p.parse().map_err(|e| invalid_params(format!("expected [{{certificate, transactions, kinds}}]: {e}")))?;
        let results = d.submit_batch(&push)?;
        let rows: Vec<Value> = push
            .transactions
            .iter()
            .zip(results)
            .map(|(raw, r)| {
                let hash = alloy_primitives::keccak256(raw);
                match r {
                    Ok(status) => json!({ "tx_hash": hash, "status": status_name(&status) }),
                    Err(e) => json!({ "tx_hash": hash, "error": e.to_string() }),
                }
            })
            .collect();
        Ok(json!({ "results": rows }))
    })?;
    m.register_method("vigil_releaseQuarantined", |p, d, _| -> RpcResult<Value> {
        let (release,): (vigil_types::OperatorRelease,) = p.parse().map_err(|e| {
            err(codes::INVALID_PARAMS, format!("expected [{{chain_id, tx_hash, operator, signature, note?}}]: {e}"))
        })?;
        let status = d.submit_release(&release)?;
        Ok(json!({ "tx_hash": release.tx_hash, "status": status_name(&status) }))
    })?;
    m.register_method("vigil_getTxStatus", |p, d, _| -> RpcResult<Value> {
        let (hash,): (B256,) = p.parse()?;
        let status =
            d.status(&hash)?.ok_or_else(|| err(codes::UNKNOWN_TRANSACTION, format!("unknown transaction {hash}")))?;
        let pool = d.pool();
        let entry = pool.get(&hash);
        Ok(json!({
            "tx_hash": hash,
            "status": status_name(&status),
            "received_at_ms": entry.map(|e| e.received_ms),
            "certificate": entry.and_then(|e| e.certificate.clone()),
            "block_number": match status { TxStatus::Included { block_number } => Some(block_number), _ => None },
            "reason": match &status { TxStatus::Rejected { reason } => Some(reason.clone()), _ => None },
        }))
    })?;
    m.register_method("vigil_pendingTransactions", |_, d, _| -> RpcResult<Vec<Value>> {
        let open = d.mode() == AdmissionMode::Open;
        let pool = d.pool();
        let mut rows: Vec<_> = pool.entries().collect();
        rows.sort_by_key(|e| (e.received_ms, e.tx.sender(), e.tx.nonce()));
        Ok(rows
            .into_iter()
            .map(|e| {
                let status = if open || e.certificate.is_some() { "certified" } else { "pending" };
                json!({
                    "tx_hash": e.tx.hash(), "sender": e.tx.sender(), "nonce": e.tx.nonce(),
                    "status": status, "received_at_ms": e.received_ms,
                })
            })
            .collect())
    })?;
    m.register_method("vigil_devnetInfo", |_, d, _| -> RpcResult<Value> {
        let c = d.counters();
        let admission = d.admission();
        let chain = d.chain();
        Ok(json!({
            "chain_id": d.chain_id(),
            "client": CLIENT_VERSION,
            "admission": match d.mode() { AdmissionMode::Certified => "certified", AdmissionMode::Open => "open" },
            "epoch": admission.current_epoch(),
            "head": { "number": chain.head().header.number, "hash": chain.head().hash },
            "pool": d.pool().len(),
            "counters": {
                "accepted": c.accepted, "refused": c.refused, "certificates": c.certificates,
                "certificates_refused": c.certificates_refused, "included": c.included, "dropped": c.dropped,
            },
        }))
    })?;
    m.register_method("vigil_getBlockStateDiff", |p, d, _| -> RpcResult<Option<Value>> {
        let (tag,): (BlockNumberOrTag,) = p.parse()?;
        let Some(number) = resolve_number(d, tag) else { return Ok(None) };
        let chain = d.chain();
        match chain.store().get(cf::DIFFS, &number.to_be_bytes()).map_err(internal)? {
            Some(v) => Ok(Some(serde_json::from_slice(&v).map_err(internal)?)),
            None => Ok(None),
        }
    })?;
    m.register_subscription("eth_subscribe", "eth_subscription", "eth_unsubscribe", |p, pending, d, _| async move {
        subscribe(p, pending, d).await;
        Ok(())
    })?;
    Ok(m)
}

fn status_name(s: &TxStatus) -> &'static str {
    match s {
        TxStatus::Pending => "pending",
        TxStatus::Certified => "certified",
        TxStatus::Included { .. } => "included",
        TxStatus::Rejected { .. } => "rejected",
    }
}

fn address_and_block(p: &Params<'_>) -> RpcResult<(Address, Option<BlockId>)> {
    let mut seq = p.sequence();
    let address: Address = seq.next()?;
    let block: Option<BlockId> = seq.optional_next()?;
    Ok((address, block))
}

/// The devnet keeps only the latest state: state queries at another block
/// get a clear error instead of a wrong answer.
fn latest_only(chain: &crate::chain::Chain, block: Option<BlockId>) -> RpcResult<()> {
    let head = chain.head();
    let ok = match block {
        None => true,
        Some(BlockId::Number(tag)) => match tag {
            BlockNumberOrTag::Latest
            | BlockNumberOrTag::Pending
            | BlockNumberOrTag::Safe
            | BlockNumberOrTag::Finalized => true,
            BlockNumberOrTag::Earliest => head.header.number == 0,
            BlockNumberOrTag::Number(n) => n == head.header.number,
        },
        Some(BlockId::Hash(h)) => h.block_hash == head.hash,
    };
    if ok {
        Ok(())
    } else {
        Err(err(
            codes::TX_REJECTED,
            format!(
                "historical state is not available: this devnet keeps the state of the latest block ({}) only",
                head.header.number
            ),
        ))
    }
}

fn resolve_number(d: &Devnet, tag: BlockNumberOrTag) -> Option<u64> {
    let head = d.chain().head().header.number;
    match tag {
        BlockNumberOrTag::Latest | BlockNumberOrTag::Pending | BlockNumberOrTag::Safe | BlockNumberOrTag::Finalized => {
            Some(head)
        }
        BlockNumberOrTag::Earliest => Some(0),
        BlockNumberOrTag::Number(n) => (n <= head).then_some(n),
    }
}

fn number_of_hash(d: &Devnet, hash: B256) -> RpcResult<Option<u64>> {
    let chain = d.chain();
    let v = chain.store().get(cf::BLOCK_BY_HASH, hash.as_slice()).map_err(internal)?;
    Ok(v.and_then(|v| crate::store::Keys::decode_u64(&v)))
}

fn load_tx(d: &Devnet, hash: B256) -> RpcResult<Option<(StoredTx, Transaction)>> {
    let chain = d.chain();
    let Some(v) = chain.store().get(cf::TXS, hash.as_slice()).map_err(internal)? else { return Ok(None) };
    let stored: StoredTx = decode_json(cf::TXS, &v).map_err(internal)?;
    let tx = Transaction::decode(&stored.raw).map_err(internal)?;
    Ok(Some((stored, tx)))
}

fn rpc_tx(tx: &Transaction, block: Option<&StoredBlock>, index: Option<u64>) -> RpcTransaction {
    let base_fee = block.and_then(|b| b.header.base_fee_per_gas);
    RpcTransaction {
        inner: alloy_consensus::transaction::Recovered::new_unchecked(tx.envelope().clone(), tx.sender()),
        block_hash: block.map(|b| b.hash),
        block_number: block.map(|b| b.header.number),
        transaction_index: index,
        effective_gas_price: base_fee.map(|f| effective_gas_price(tx.envelope(), f)),
        block_timestamp: block.map(|b| b.header.timestamp),
    }
}

fn transaction_json(d: &Devnet, hash: B256) -> RpcResult<Option<RpcTransaction>> {
    if let Some((stored, tx)) = load_tx(d, hash)? {
        let block = d.chain().block(stored.block_number).map_err(internal)?;
        return Ok(Some(rpc_tx(&tx, block.as_ref(), Some(stored.index))));
    }
    Ok(d.pool().get(&hash).map(|e| rpc_tx(&e.tx, None, None)))
}

fn rpc_logs(block: &StoredBlock, tx_hash: B256, tx_index: u64, r: &StoredReceipt) -> Vec<Log> {
    r.logs
        .iter()
        .enumerate()
        .map(|(i, l)| Log {
            inner: l.clone(),
            block_hash: Some(block.hash),
            block_number: Some(block.header.number),
            block_timestamp: Some(block.header.timestamp),
            transaction_hash: Some(tx_hash),
            transaction_index: Some(tx_index),
            log_index: Some(r.first_log_index + i as u64),
            removed: false,
        })
        .collect()
}

fn rpc_receipt(block: &StoredBlock, tx_hash: B256, tx_index: u64, r: &StoredReceipt) -> TransactionReceipt {
    TransactionReceipt {
        inner: r.envelope_with(rpc_logs(block, tx_hash, tx_index, r)),
        transaction_hash: tx_hash,
        transaction_index: Some(tx_index),
        block_hash: Some(block.hash),
        block_number: Some(block.header.number),
        gas_used: r.gas_used,
        effective_gas_price: r.effective_gas_price,
        blob_gas_used: None,
        blob_gas_price: None,
        from: r.from,
        to: r.to,
        contract_address: r.contract_address,
    }
}

fn load_receipt(d: &Devnet, hash: B256) -> RpcResult<Option<StoredReceipt>> {
    let chain = d.chain();
    match chain.store().get(cf::RECEIPTS, hash.as_slice()).map_err(internal)? {
        Some(v) => Ok(Some(decode_json(cf::RECEIPTS, &v).map_err(internal)?)),
        None => Ok(None),
    }
}

fn receipt_json(d: &Devnet, hash: B256) -> RpcResult<Option<TransactionReceipt>> {
    let Some((stored, _)) = load_tx(d, hash)? else { return Ok(None) };
    let Some(receipt) = load_receipt(d, hash)? else { return Ok(None) };
    let Some(block) = d.chain().block(stored.block_number).map_err(internal)? else { return Ok(None) };
    Ok(Some(rpc_receipt(&block, hash, stored.index, &receipt)))
}

fn rpc_header(block: &StoredBlock) -> RpcHeader {
    RpcHeader {
        hash: block.hash,
        inner: block.header.clone(),
        total_difficulty: Some(U256::ZERO),
        size: Some(U256::from(alloy_rlp::Encodable::length(&block.header))),
    }
}

fn block_json(d: &Devnet, number: u64, full: bool) -> RpcResult<Option<Block>> {
    let Some(block) = d.chain().block(number).map_err(internal)? else { return Ok(None) };
    let transactions = if full {
        let mut txs = Vec::with_capacity(block.transactions.len());
        for (i, h) in block.transactions.iter().enumerate() {
            if let Some((_, tx)) = load_tx(d, *h)? {
                txs.push(rpc_tx(&tx, Some(&block), Some(i as u64)));
            }
        }
        BlockTransactions::Full(txs)
    } else {
        BlockTransactions::Hashes(block.transactions.clone())
    };
    Ok(Some(Block { header: rpc_header(&block), uncles: vec![], transactions, withdrawals: Some(Default::default()) }))
}

/// revm's environment for a call request.
fn call_env(chain: &crate::chain::Chain, request: &TransactionRequest, gas: u64) -> RpcResult<TxEnv> {
    let input = request.input.input().cloned().unwrap_or_default();
    let caller = request.from.unwrap_or_default();
    let gas_price = request.max_fee_per_gas.or(request.gas_price).unwrap_or(0);
    Ok(TxEnv {
        tx_type: if request.max_fee_per_gas.is_some() || request.gas_price.is_none() { 2 } else { 0 },
        caller,
        gas_limit: gas,
        gas_price,
        gas_priority_fee: request.max_priority_fee_per_gas,
        kind: request.to.unwrap_or(TxKind::Create),
        value: request.value.unwrap_or_default(),
        data: input,
        nonce: request.nonce.unwrap_or_else(|| chain.state().nonce(caller)),
        chain_id: Some(chain.chain_id()),
        access_list: request.access_list.clone().unwrap_or_default(),
        ..TxEnv::default()
    })
}

fn run_call(chain: &crate::chain::Chain, request: &TransactionRequest, gas: u64) -> RpcResult<ExecResult> {
    let env = call_env(chain, request, gas)?;
    let block = chain.next_block(crate::node::now_ms() / 1000);
    let out = vigil_sim::call(chain.state(), &block, env).map_err(|e| err(codes::TX_REJECTED, e.to_string()))?;
    Ok(out.result)
}

/// The Ethereum form of a failed call: code 3 with the revert data, the
/// reason decoded into the message.
fn revert_error(result: &ExecResult) -> ErrorObjectOwned {
    match result {
        ExecResult::Revert { output, .. } => {
            let message = match result.revert_reason() {
                Some(reason) => format!("execution reverted: {reason}"),
                None => "execution reverted".to_string(),
            };
            ErrorObjectOwned::owned(codes::EXECUTION_REVERTED, message, Some(output.clone()))
        }
        ExecResult::Halt { reason, .. } => err(codes::TX_REJECTED, format!("execution halted: {reason:?}")),
        _ => err(codes::TX_REJECTED, "execution did not complete"),
    }
}

/// The least gas limit with which the call succeeds (binary search from the
/// gas it used up to the block gas limit).
fn estimate_gas(chain: &crate::chain::Chain, request: &TransactionRequest) -> RpcResult<u64> {
    let cap = request.gas.unwrap_or(chain.head().header.gas_limit);
    let first = run_call(chain, request, cap)?;
    if !first.is_success() {
        return Err(revert_error(&first));
    }
    let used = first.gas_used();
    // Most calls need what they used plus the 63/64 reserve; try that first.
    let guess = (used + used / 63 + 2_300).min(cap);
    let (mut lo, mut hi) = if run_call(chain, request, guess)?.is_success() { (used - 1, guess) } else { (guess, cap) };
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if run_call(chain, request, mid)?.is_success() {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    Ok(hi)
}

fn fee_history(d: &Devnet, count: u64, newest: BlockNumberOrTag, percentiles: Vec<f64>) -> RpcResult<FeeHistory> {
    if percentiles.len() > 100 || percentiles.windows(2).any(|w| w[0] > w[1]) {
        return Err(invalid_params("reward percentiles must be at most 100 values in ascending order"));
    }
    if percentiles.iter().any(|p| !(0.0..=100.0).contains(p)) {
        return Err(invalid_params("reward percentiles must be between 0 and 100"));
    }
    let count = count.clamp(1, 1024);
    let newest = resolve_number(d, newest).ok_or_else(|| invalid_params("newest block is after the head"))?;
    let oldest = newest.saturating_sub(count - 1);
    let mut base_fee_per_gas = Vec::new();
    let mut gas_used_ratio = Vec::new();
    let mut reward = Vec::new();
    let mut last = None;
    for n in oldest..=newest {
        let Some(block) = d.chain().block(n).map_err(internal)? else { continue };
        let h = &block.header;
        let base = h.base_fee_per_gas.unwrap_or(0);
        base_fee_per_gas.push(u128::from(base));
        gas_used_ratio.push(if h.gas_limit == 0 { 0.0 } else { h.gas_used as f64 / h.gas_limit as f64 });
        if !percentiles.is_empty() {
            let mut tips: Vec<(u128, u64)> = Vec::new();
            for hash in &block.transactions {
                if let (Some((_, tx)), Some(r)) = (load_tx(d, *hash)?, load_receipt(d, *hash)?) {
                    tips.push((tx.envelope().effective_tip_per_gas(base).unwrap_or(0), r.gas_used));
                }
            }
            tips.sort_unstable();
            let total: u64 = tips.iter().map(|t| t.1).sum();
            let row = percentiles
                .iter()
                .map(|p| {
                    let target = (total as f64 * p / 100.0) as u64;
                    let mut acc = 0;
                    for (tip, gas) in &tips {
                        acc += gas;
                        if acc >= target {
                            return *tip;
                        }
                    }
                    tips.last().map_or(0, |t| t.0)
                })
                .collect();
            reward.push(row);
        }
        last = Some(block);
    }
    if let Some(b) = last {
        let next = b.header.next_block_base_fee(alloy_eips::eip1559::BaseFeeParams::ethereum()).unwrap_or(0);
        base_fee_per_gas.push(u128::from(next));
    }
    Ok(FeeHistory {
        base_fee_per_gas,
        gas_used_ratio,
        base_fee_per_blob_gas: vec![],
        blob_gas_used_ratio: vec![],
        oldest_block: oldest,
        reward: (!percentiles.is_empty()).then_some(reward),
    })
}

fn block_logs(d: &Devnet, block: &StoredBlock, filter: &Filter, out: &mut Vec<Log>) -> RpcResult<()> {
    if !filter.matches_bloom(block.header.logs_bloom) {
        return Ok(());
    }
    for (i, hash) in block.transactions.iter().enumerate() {
        let Some(r) = load_receipt(d, *hash)? else { continue };
        for log in rpc_logs(block, *hash, i as u64, &r) {
            if filter.matches(&log.inner) {
                out.push(log);
                if out.len() > MAX_LOGS {
                    return Err(err(
                        codes::LIMIT_EXCEEDED,
                        format!("query returns more than {MAX_LOGS} logs: narrow the block range or the filter"),
                    ));
                }
            }
        }
    }
    Ok(())
}

fn get_logs(d: &Devnet, filter: &Filter) -> RpcResult<Vec<Log>> {
    let mut out = Vec::new();
    match &filter.block_option {
        FilterBlockOption::AtBlockHash(hash) => {
            let number = number_of_hash(d, *hash)?
                .ok_or_else(|| err(codes::INVALID_PARAMS, format!("unknown block hash {hash}")))?;
            if let Some(block) = d.chain().block(number).map_err(internal)? {
                block_logs(d, &block, filter, &mut out)?;
            }
        }
        FilterBlockOption::Range { from_block, to_block } => {
            let head = d.chain().head().header.number;
            let resolve = |t: Option<&BlockNumberOrTag>| match t {
                None => Some(head),
                Some(t) => resolve_number(d, *t).or(Some(head)),
            };
            let from = resolve(from_block.as_ref()).unwrap_or(head);
            let to = resolve(to_block.as_ref()).unwrap_or(head).min(head);
            if from > to {
                return Ok(out);
            }
            if to - from >= MAX_LOG_BLOCK_RANGE {
                return Err(err(
                    codes::LIMIT_EXCEEDED,
                    format!("block range {from}..={to} is longer than {MAX_LOG_BLOCK_RANGE} blocks"),
                ));
            }
            for n in from..=to {
                if let Some(block) = d.chain().block(n).map_err(internal)? {
                    block_logs(d, &block, filter, &mut out)?;
                }
            }
        }
    }
    Ok(out)
}

/// `eth_subscribe`: `newHeads` and `logs` (with an optional filter).
async fn subscribe(p: Params<'static>, pending: PendingSubscriptionSink, d: Arc<Devnet>) {
    let mut seq = p.sequence();
    let kind: String = match seq.next() {
        Ok(k) => k,
        Err(e) => {
            pending.reject(e).await;
            return;
        }
    };
    let filter: Option<Filter> = match kind.as_str() {
        "newHeads" => None,
        "logs" => match seq.optional_next::<Filter>() {
            Ok(f) => Some(f.unwrap_or_default()),
            Err(e) => {
                pending.reject(e).await;
                return;
            }
        },
        other => {
            pending
                .reject(invalid_params(format!("unsupported subscription {other:?}: use \"newHeads\" or \"logs\"")))
                .await;
            return;
        }
    };
    let mut blocks = d.subscribe_blocks();
    let Ok(sink) = pending.accept().await else { return };
    loop {
        let event = tokio::select! {
            _ = sink.closed() => return,
            e = blocks.recv() => e,
        };
        let event = match event {
            Ok(e) => e,
            Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
            Err(_) => return,
        };
        let items: Vec<Value> = match &filter {
            None => vec![serde_json::to_value(rpc_header(&event.block)).unwrap_or(Value::Null)],
            Some(f) => event
                .receipts
                .iter()
                .enumerate()
                .flat_map(|(i, (h, r))| rpc_logs(&event.block, *h, i as u64, r))
                .filter(|l| f.matches(&l.inner))
                .map(|l| serde_json::to_value(l).unwrap_or(Value::Null))
                .collect(),
        };
        for item in items {
            let Ok(raw) = serde_json::value::to_raw_value(&item) else { continue };
            if sink.send(raw).await.is_err() {
                return;
            }
        }
    }
}
