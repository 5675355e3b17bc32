//! Rewards users claim: round staking and signed vouchers.

use alloy_primitives::U256;
use alloy_sol_types::SolValue;
use rand::Rng;

use super::{Kind, Traffic, E18};
use crate::{
    contracts::{RewardVouchers, StakingRewards},
    scenarios::amt,
    CorpusError,
};

impl Traffic<'_> {
    pub(super) fn stake(&mut self, user: usize) -> Result<bool, CorpusError> {
        let a = self.w.a;
        let balance = self.bal(a.stk, self.addr(user))?;
        if balance.is_zero() {
            return Ok(false);
        }
        if let Some(done) = self.need_approval(user, a.stk, a.staking, Kind::Stake)? {
            return Ok(done);
        }
        let amount = self.portion(balance);
        if amount.is_zero() {
            return Ok(false);
        }
        let note = format!("StakingRewards.stake({})", amt(amount));
        self.send(self.user(user), a.staking, U256::ZERO, &StakingRewards::stakeCall { amount }, note)
    }

    pub(super) fn unstake(&mut self, user: usize) -> Result<bool, CorpusError> {
        let a = self.w.a;
        let staked = self.chain.view(a.staking, &StakingRewards::balanceOfCall(self.addr(user)))?;
        let amount = if self.rng.gen_bool(0.4) { staked } else { self.portion(staked) };
        if amount.is_zero() {
            return Ok(false);
        }
        let note = format!("StakingRewards.unstake({})", amt(amount));
        self.send(self.user(user), a.staking, U256::ZERO, &StakingRewards::unstakeCall { amount }, note)
    }

    pub(super) fn claim(&mut self, user: usize) -> Result<bool, CorpusError> {
        let a = self.w.a;
        let who = self.addr(user);
        let round = self.chain.view(a.staking, &StakingRewards::roundCall {})?;
        let staked = self.chain.view(a.staking, &StakingRewards::balanceOfCall(who))?;
        if round.is_zero() || staked.is_zero() {
            return Ok(false);
        }
        if self.chain.view(a.staking, &StakingRewards::claimedCall { _0: round, _1: who })? {
            return Ok(false);
        }
        self.send(
            self.user(user),
            a.staking,
            U256::ZERO,
            &StakingRewards::claimCall {},
            "StakingRewards.claim()".into(),
        )
    }

    /// Claims a fresh voucher the protocol's signer issued to the user.
    pub(super) fn voucher(&mut self, user: usize) -> Result<bool, CorpusError> {
        let a = self.w.a;
        let amount = U256::from(self.rng.gen_range(1u64..=400) * 5) * U256::from(E18);
        if self.vouchers.contains(&(user, amount)) {
            return Ok(false);
        }
        let who = self.addr(user);
        let hash =
            alloy_primitives::keccak256((U256::from(crate::chain::CHAIN_ID), a.vouchers, who, amount).abi_encode());
        let signature = self.w.voucher_signer.personal_sign(hash)?;
        let call = RewardVouchers::claimCall { account: who, amount, signature: signature.into() };
        let note = format!("RewardVouchers.claim({}, {}, voucher)", self.user(user).role, amt(amount));
        let ok = self.send(self.user(user), a.vouchers, U256::ZERO, &call, note)?;
        if ok {
            self.vouchers.insert((user, amount));
        }
        Ok(ok)
    }
}
