//! JSON-RPC error codes shared by every Vigil endpoint (devnet, gate, node),
//! documented in docs/rpc.md. The standard JSON-RPC 2.0 codes keep their
//! meaning; Ethereum's `-32000` carries transaction rejections with the
//! messages wallets already know (`nonce too low`, …); Vigil's own
//! conditions get codes of their own so a client can branch on them.

/// Invalid JSON.
pub const PARSE_ERROR: i32 = -32700;
/// Not a JSON-RPC request object.
pub const INVALID_REQUEST: i32 = -32600;
/// No such method.
pub const METHOD_NOT_FOUND: i32 = -32601;
/// Wrong number or shape of parameters.
pub const INVALID_PARAMS: i32 = -32602;
/// A bug or an I/O failure on the server.
pub const INTERNAL_ERROR: i32 = -32603;
/// A transaction refused (Ethereum convention): malformed, wrong chain,
/// nonce too low, insufficient funds, underpriced, already known…
pub const TX_REJECTED: i32 = -32000;
/// An `eth_call`/`eth_estimateGas` that reverted (Ethereum convention; the
/// revert data is in `data`).
pub const EXECUTION_REVERTED: i32 = 3;
/// A certificate that does not verify (forged, stale, other chain, other
/// epoch, too little stake, not clean, other transaction).
pub const INVALID_CERTIFICATE: i32 = -32010;
/// A transaction or certificate hash this endpoint does not know.
pub const UNKNOWN_TRANSACTION: i32 = -32011;
/// The endpoint behind this one (the gate's upstream) cannot be reached.
pub const UPSTREAM_UNAVAILABLE: i32 = -32012;
/// A request over a limit (size, batch length, queue full): retry later or
/// send less.
pub const LIMIT_EXCEEDED: i32 = -32005;
/// An operation that needs the operator's credentials.
pub const UNAUTHORIZED: i32 = -32013;
