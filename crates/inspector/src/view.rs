//! The state a node judges on, whichever way it keeps it (DESIGN §5):
//!
//! - [`View::Local`]: the devnet followed by executing its blocks locally
//!   ([`ChainView`]);
//! - [`View::Remote`]: any other EVM chain read through standard JSON-RPC
//!   with a cache kept across blocks ([`RpcStateView`]). The detection
//!   history (deployers, used signatures) is not rebuilt from a foreign
//!   chain's past: detectors that use it see only what the node judged.

use alloy_primitives::Address;
use vigil_detect::History;
use vigil_sim::{BlockSpec, StateError, StateView};

use crate::{
    follower::{ChainView, Head},
    rpc_view::RpcStateView,
};

/// The node's state view.
#[derive(Debug)]
pub enum View {
    /// The devnet, executed locally.
    Local(Box<ChainView>),
    /// Another chain, read through JSON-RPC.
    Remote {
        /// The cached RPC view.
        rpc: Box<RpcStateView>,
        /// History recorded by this node (empty at start).
        history: History,
    },
}

impl View {
    /// The chain id.
    pub fn chain_id(&self) -> u64 {
        match self {
            Self::Local(v) => v.genesis().chain_id,
            Self::Remote { rpc, .. } => rpc.chain_id(),
        }
    }

    /// The state at the head.
    pub fn state(&self) -> &dyn StateView {
        match self {
            Self::Local(v) => v.state(),
            Self::Remote { rpc, .. } => rpc.as_ref(),
        }
    }

    /// The detection history.
    pub fn history(&self) -> &History {
        match self {
            Self::Local(v) => v.history(),
            Self::Remote { history, .. } => history,
        }
    }

    /// The environment transactions are simulated in.
    pub fn next_block(&self) -> BlockSpec {
        match self {
            Self::Local(v) => v.next_block(),
            Self::Remote { rpc, .. } => rpc.next_block(),
        }
    }

    /// The head.
    pub fn head(&self) -> Head {
        match self {
            Self::Local(v) => v.head(),
            Self::Remote { rpc, .. } => {
                let h = rpc.head();
                Head {
                    number: h.number,
                    hash: h.hash,
                    timestamp: h.timestamp,
                    gas_limit: h.gas_limit,
                    base_fee: h.base_fee,
                    gas_used: h.gas_used,
                    coinbase: h.coinbase,
                }
            }
        }
    }

    /// Nonce and balance of `address` at the head.
    pub fn nonce_and_balance(&self, address: Address) -> Result<(u64, alloy_primitives::U256), StateError> {
        Ok(self.state().account(address)?.map_or((0, alloy_primitives::U256::ZERO), |a| (a.nonce, a.balance)))
    }
}
