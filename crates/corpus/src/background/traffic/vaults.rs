//! The ERC-4626 vault.

use alloy_primitives::U256;
use rand::Rng;

use super::{Kind, Traffic};
use crate::{contracts::Vault, scenarios::amt, CorpusError};

impl Traffic<'_> {
    pub(super) fn vault_deposit(&mut self, user: usize) -> Result<bool, CorpusError> {
        let a = self.w.a;
        let balance = self.bal(a.usd, self.addr(user))?;
        if balance.is_zero() {
            return Ok(false);
        }
        if let Some(done) = self.need_approval(user, a.usd, a.vault, Kind::VaultDeposit)? {
            return Ok(done);
        }
        let amount = self.portion(balance);
        if amount.is_zero() {
            return Ok(false);
        }
        let call = Vault::depositCall { assets: amount, receiver: self.addr(user) };
        let note = format!("Vault.deposit({}, {})", amt(amount), self.user(user).role);
        self.send(self.user(user), a.vault, U256::ZERO, &call, note)
    }

    pub(super) fn vault_redeem(&mut self, user: usize) -> Result<bool, CorpusError> {
        let a = self.w.a;
        let who = self.addr(user);
        let shares = self.bal(a.vault, who)?;
        let amount = if self.rng.gen_bool(0.4) { shares } else { self.portion(shares) };
        if amount.is_zero() {
            return Ok(false);
        }
        let role = &self.user(user).role;
        let note = format!("Vault.redeem({}, {role}, {role})", amt(amount));
        self.send(
            self.user(user),
            a.vault,
            U256::ZERO,
            &Vault::redeemCall { shares: amount, receiver: who, owner: who },
            note,
        )
    }

    pub(super) fn vault_withdraw(&mut self, user: usize) -> Result<bool, CorpusError> {
        let a = self.w.a;
        let who = self.addr(user);
        let max = self.chain.view(a.vault, &Vault::maxWithdrawCall { owner: who })?;
        let amount = self.portion(max);
        if amount.is_zero() {
            return Ok(false);
        }
        let role = &self.user(user).role;
        let note = format!("Vault.withdraw({}, {role}, {role})", amt(amount));
        self.send(
            self.user(user),
            a.vault,
            U256::ZERO,
            &Vault::withdrawCall { assets: amount, receiver: who, owner: who },
            note,
        )
    }
}
