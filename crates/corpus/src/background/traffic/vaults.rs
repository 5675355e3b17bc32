//! The ERC-4626 vault, and the auto-compounding vault with its harvests.

use alloy_primitives::U256;
use rand::Rng;

use super::{Kind, Traffic, E18};
use crate::{
    contracts::{AutoCompounder, Vault},
    scenarios::amt,
    CorpusError,
};

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

/// The auto-compounding vault.
impl Traffic<'_> {
    pub(super) fn compounder_deposit(&mut self, user: usize) -> Result<bool, CorpusError> {
        let (orb, c) = (self.w.f.a.orb, self.w.f.a.compounder);
        let balance = self.bal(orb, self.addr(user))?;
        if balance.is_zero() {
            return Ok(false);
        }
        if let Some(done) = self.need_approval(user, orb, c, Kind::CompounderDeposit)? {
            return Ok(done);
        }
        let amount = self.portion(balance);
        if amount.is_zero() {
            return Ok(false);
        }
        let note = format!("AutoCompounder.deposit({})", amt(amount));
        self.send(self.user(user), c, U256::ZERO, &AutoCompounder::depositCall { amount }, note)
    }

    pub(super) fn compounder_withdraw(&mut self, user: usize) -> Result<bool, CorpusError> {
        let c = self.w.f.a.compounder;
        let shares = self.bal(c, self.addr(user))?;
        let amount = if self.rng.gen_bool(0.4) { shares } else { self.portion(shares) };
        if amount.is_zero() {
            return Ok(false);
        }
        let note = format!("AutoCompounder.withdraw({})", amt(amount));
        self.send(self.user(user), c, U256::ZERO, &AutoCompounder::withdrawCall { shares: amount }, note)
    }

    /// The harvester (or now and then a user) harvests the compounder once
    /// enough rewards are pending, for the call fee.
    pub(super) fn harvest(&mut self) -> Result<bool, CorpusError> {
        let c = self.w.f.a.compounder;
        let pending = self.chain.view(c, &AutoCompounder::pendingRewardsCall {})?;
        if pending < U256::from(150u64) * U256::from(E18) {
            return Ok(false);
        }
        let w = self.w;
        if self.rng.gen_bool(0.7) {
            let bot = &w.f.roles.harvester;
            if self.rng.gen_bool(0.5) {
                let to = w.f.roles.keeper_ops.address();
                let note = "AutoCompounder.harvest(keeper-ops) - call fee to the keepers' payout wallet".to_owned();
                self.send_as(
                    "harvest",
                    bot,
                    c,
                    U256::ZERO,
                    &AutoCompounder::harvest_0Call { callFeeRecipient: to },
                    note,
                )
            } else {
                let note = "AutoCompounder.harvest() - for the call fee".to_owned();
                self.send_as("harvest", bot, c, U256::ZERO, &AutoCompounder::harvest_1Call {}, note)
            }
        } else {
            let user = self.pick_user();
            let note = "AutoCompounder.harvest()".to_owned();
            self.send_as("harvest", self.user(user), c, U256::ZERO, &AutoCompounder::harvest_1Call {}, note)
        }
    }
}
