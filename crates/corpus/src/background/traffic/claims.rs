//! Rewards and payouts users claim: round staking, signed vouchers, the
//! Merkle airdrop, vesting releases, the streaming farms, and the sale that
//! refunds over-payment.

use alloy_primitives::U256;
use alloy_sol_types::SolValue;
use rand::{seq::SliceRandom, Rng};

use super::{round_sig, Kind, Pos, Traffic, E18};
use crate::{
    background::families::{permit_digest, split_signature},
    contracts::{
        MerkleDistributor, PermitToken, RewardVouchers, StakingRewards, StreamingRewards, TokenSale, VestingWallet,
    },
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

/// Airdrop claims, vesting releases, the farms and the sale.
impl Traffic<'_> {
    /// Claims the user's airdrop leaf with its Merkle proof; a quarter of
    /// the claims are submitted for the user by someone else (the tokens
    /// still go to the account the leaf names).
    pub(super) fn airdrop_claim(&mut self, user: usize) -> Result<bool, CorpusError> {
        let w = self.w;
        let drop = &w.f.airdrop;
        let index = drop.user_leaf[user];
        if self.fam.claimed.contains(&index) {
            return Ok(false);
        }
        let (account, amount) = drop.leaves[index];
        let call = MerkleDistributor::claimCall {
            index: U256::from(index),
            account,
            amount,
            merkleProof: drop.tree.proof(index),
        };
        let (from, tag) = if self.rng.gen_bool(0.75) {
            (self.user(user), "airdrop-claim")
        } else if self.rng.gen_bool(0.5) {
            (&w.f.roles.relayers[self.rng.gen_range(0..w.f.roles.relayers.len())], "airdrop-claim-for")
        } else {
            let friend = self.other(user);
            (self.user(friend), "airdrop-claim-for")
        };
        let note = format!(
            "MerkleDistributor.claim({index}, {}, {}, proof of {} hashes)",
            self.user(user).role,
            amt(amount),
            call.merkleProof.len()
        );
        let ok = self.send_as(tag, from, w.f.a.airdrop, U256::ZERO, &call, note)?;
        if ok {
            self.fam.claimed.insert(index);
        }
        Ok(ok)
    }

    /// Releases what a vesting wallet has vested to its beneficiary; mostly
    /// the beneficiary calls, sometimes someone else does it for them.
    pub(super) fn vesting_release(&mut self, user: usize) -> Result<bool, CorpusError> {
        let w = self.w;
        let Some(v) = w.f.vesting.choose(&mut self.rng).copied() else { return Ok(false) };
        let token = if self.rng.gen_bool(0.7) { w.f.a.orb } else { w.a.usd };
        let due = self.chain.view(v.wallet, &VestingWallet::releasableCall { token })?;
        if due.is_zero() {
            return Ok(false);
        }
        let caller = if self.rng.gen_bool(0.85) { v.beneficiary } else { user };
        let note = format!(
            "VestingWallet({}).release({}) - {} vested",
            self.user(v.beneficiary).role,
            self.name(token),
            amt(due)
        );
        let ok = self.send(self.user(caller), v.wallet, U256::ZERO, &VestingWallet::releaseCall { token }, note)?;
        if ok && token == w.f.a.orb {
            let holders = self.positions.entry(Pos::Orb).or_default();
            if !holders.contains(&v.beneficiary) {
                holders.push(v.beneficiary);
            }
        }
        Ok(ok)
    }

    /// Stakes ORB (some with an EIP-2612 permit instead of an approval) or
    /// WETH/ORB LP tokens in their farm.
    pub(super) fn farm_stake(&mut self, user: usize) -> Result<bool, CorpusError> {
        let fa = self.w.f.a;
        let who = self.addr(user);
        let (orb, lp) = (self.bal(fa.orb, who)?, self.bal(fa.pair_wo, who)?);
        let use_lp = !lp.is_zero() && (orb.is_zero() || self.rng.gen_bool(0.3));
        if !use_lp && orb.is_zero() {
            return Ok(false);
        }
        if !use_lp && self.rng.gen_bool(0.4) {
            let amount = self.portion(orb);
            if amount.is_zero() {
                return Ok(false);
            }
            let nonce = self.chain.view(fa.orb, &PermitToken::noncesCall(who))?;
            let deadline = U256::from(self.chain.block().timestamp + self.rng.gen_range(10u64..60) * 60);
            let digest = permit_digest(self.w.f.orb_domain, who, fa.farm_orb, amount, nonce, deadline);
            let (v, r, s) = split_signature(&self.user(user).sign_digest(digest)?);
            let call = StreamingRewards::stakeWithPermitCall { amount, deadline, v, r, s };
            let note = format!("StreamingRewards(ORB).stakeWithPermit({}, {deadline}, permit signature)", amt(amount));
            return self.send_as("farm-stake-permit", self.user(user), fa.farm_orb, U256::ZERO, &call, note);
        }
        let (token, farm, held) = if use_lp { (fa.pair_wo, fa.farm_lp, lp) } else { (fa.orb, fa.farm_orb, orb) };
        if let Some(done) = self.need_approval(user, token, farm, Kind::FarmStake)? {
            return Ok(done);
        }
        let amount = if self.rng.gen_bool(0.2) { held } else { self.portion(held) };
        if amount.is_zero() {
            return Ok(false);
        }
        let note = format!("{}.stake({})", self.name(farm), amt(amount));
        self.send(self.user(user), farm, U256::ZERO, &StreamingRewards::stakeCall { amount }, note)
    }

    /// A farm the user has staked in, with its stake.
    fn staked_farm(&mut self, user: usize) -> Result<Option<(alloy_primitives::Address, U256)>, CorpusError> {
        let fa = self.w.f.a;
        let who = self.addr(user);
        let mut farms = Vec::new();
        for farm in [fa.farm_orb, fa.farm_lp] {
            let staked = self.chain.view(farm, &StreamingRewards::balanceOfCall(who))?;
            if !staked.is_zero() {
                farms.push((farm, staked));
            }
        }
        Ok(farms.choose(&mut self.rng).copied())
    }

    /// Withdraws part of a stake, or exits (everything and the rewards).
    pub(super) fn farm_withdraw(&mut self, user: usize) -> Result<bool, CorpusError> {
        let Some((farm, staked)) = self.staked_farm(user)? else { return Ok(false) };
        if self.rng.gen_bool(0.35) {
            let note = format!("{}.exit()", self.name(farm));
            return self.send(self.user(user), farm, U256::ZERO, &StreamingRewards::exitCall {}, note);
        }
        let amount = self.portion(staked);
        if amount.is_zero() {
            return Ok(false);
        }
        let note = format!("{}.withdraw({})", self.name(farm), amt(amount));
        self.send(self.user(user), farm, U256::ZERO, &StreamingRewards::withdrawCall { amount }, note)
    }

    /// Claims the ORB a stake has earned.
    pub(super) fn farm_claim(&mut self, user: usize) -> Result<bool, CorpusError> {
        let Some((farm, _)) = self.staked_farm(user)? else { return Ok(false) };
        let earned = self.chain.view(farm, &StreamingRewards::earnedCall { account: self.addr(user) })?;
        if earned.is_zero() {
            return Ok(false);
        }
        let note = format!("{}.getReward() - {} earned", self.name(farm), amt(earned));
        self.send(self.user(user), farm, U256::ZERO, &StreamingRewards::getRewardCall {}, note)
    }

    /// Buys ORB from the sale, sending a little more than the current price
    /// (wallets add a margin); the sale refunds the difference.
    pub(super) fn sale_buy(&mut self, user: usize) -> Result<bool, CorpusError> {
        let sale = self.w.f.a.sale;
        let who = self.addr(user);
        let price = self.chain.view(sale, &TokenSale::priceCall {})?;
        let cap = self.chain.view(sale, &TokenSale::maxPerAccountCall {})?;
        let bought = self.chain.view(sale, &TokenSale::boughtCall(who))?;
        let budget = self.portion(self.chain.balance(who));
        if price.is_zero() || cap <= bought || budget.is_zero() {
            return Ok(false);
        }
        let amount = round_sig((budget * U256::from(E18) / price).min(cap - bought), 3);
        if amount.is_zero() {
            return Ok(false);
        }
        let cost = self.chain.view(sale, &TokenSale::costCall { amount })?;
        let margin = [100u64, 100, 200, 300, 500][self.rng.gen_range(0..5)];
        let value = round_sig(cost * U256::from(10_000 + margin) / U256::from(10_000), 4) + U256::from(E18 / 10_000);
        if value > self.chain.balance(who) {
            return Ok(false);
        }
        let note = format!("TokenSale.buy({}) {{value: {}}} - price {} per ORB", amt(amount), amt(value), amt(price));
        self.send(self.user(user), sale, value, &TokenSale::buyCall { amount }, note)
    }
}
