//! Deposits out through the lock-and-release bridge.

use alloy_primitives::U256;
use rand::Rng;

use super::{Kind, Traffic};
use crate::{contracts::BridgeInbox, scenarios::amt, CorpusError};

impl Traffic<'_> {
    pub(super) fn bridge_send(&mut self, user: usize) -> Result<bool, CorpusError> {
        let a = self.w.a;
        let who = self.addr(user);
        let token = if self.rng.gen_bool(0.5) { a.weth } else { a.usd };
        let balance = self.bal(token, who)?;
        if balance.is_zero() {
            return Ok(false);
        }
        if let Some(done) = self.need_approval(user, token, a.bridge, Kind::BridgeSend)? {
            return Ok(done);
        }
        let amount = self.portion(balance);
        if amount.is_zero() {
            return Ok(false);
        }
        let call = BridgeInbox::sendCall { token, amount, recipient: who };
        let note = format!("BridgeInbox.send({}, {}, {})", self.name(token), amt(amount), self.user(user).role);
        self.send(self.user(user), a.bridge, U256::ZERO, &call, note)
    }
}
