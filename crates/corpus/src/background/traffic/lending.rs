//! The lending pool and the native-ETH market, and liquidations repaid from
//! a liquidator's own wallet.

use alloy_primitives::{Address, U256};
use rand::{seq::SliceRandom, Rng};

use super::{f, round_sig, u, Candidate, Kind, Traffic, E18};
use crate::{
    contracts::{EthMarket, LendingPool},
    scenarios::amt,
    CorpusError,
};

impl Traffic<'_> {
    pub(super) fn lend_supply(&mut self, user: usize) -> Result<bool, CorpusError> {
        let a = self.w.a;
        let who = self.addr(user);
        let mut held = Vec::new();
        for token in [a.weth, a.usd, a.gem] {
            let b = self.bal(token, who)?;
            if !b.is_zero() {
                held.push((token, b));
            }
        }
        let Some(&(asset, balance)) = held.choose(&mut self.rng) else { return Ok(false) };
        if let Some(done) = self.need_approval(user, asset, a.pool, Kind::LendSupply)? {
            return Ok(done);
        }
        let amount = if self.rng.gen_bool(0.2) { balance } else { self.portion(balance) };
        if amount.is_zero() {
            return Ok(false);
        }
        let call = LendingPool::supplyCall { asset, amount, onBehalfOf: who };
        let note = format!("LendingPool.supply({}, {}, {})", self.name(asset), amt(amount), self.user(user).role);
        self.send(self.user(user), a.pool, U256::ZERO, &call, note)
    }

    pub(super) fn lend_withdraw(&mut self, user: usize) -> Result<bool, CorpusError> {
        let a = self.w.a;
        let who = self.addr(user);
        let asset = *[a.weth, a.usd, a.gem].choose(&mut self.rng).unwrap_or(&a.usd);
        let supplied = self.chain.view(a.pool, &LendingPool::balanceOfUnderlyingCall { asset, account: who })?;
        if supplied.is_zero() {
            return Ok(false);
        }
        let all = self.rng.gen_bool(0.3);
        let amount = if all { U256::MAX } else { self.portion(supplied) };
        if amount.is_zero() {
            return Ok(false);
        }
        let call = LendingPool::withdrawCall { asset, amount, account: who, to: who };
        let role = &self.user(user).role;
        let note = format!("LendingPool.withdraw({}, {}, {role}, {role})", self.name(asset), amt(amount));
        self.send(self.user(user), a.pool, U256::ZERO, &call, note)
    }

    pub(super) fn lend_borrow(&mut self, user: usize) -> Result<bool, CorpusError> {
        let a = self.w.a;
        let who = self.addr(user);
        let l = self.chain.view(a.pool, &LendingPool::accountLiquidityCall { account: who })?;
        if l.borrowLimit <= l.debtValue {
            return Ok(false);
        }
        let headroom = l.borrowLimit - l.debtValue;
        // Borrow something other than the main collateral.
        let mut main = (U256::ZERO, a.weth);
        for asset in [a.weth, a.usd, a.gem] {
            let v = self.chain.view(a.pool, &LendingPool::balanceOfUnderlyingCall { asset, account: who })?
                * self.price(asset);
            if v > main.0 {
                main = (v, asset);
            }
        }
        let choices: Vec<Address> = [a.usd, a.usd, a.weth, a.gem].into_iter().filter(|t| *t != main.1).collect();
        let asset = *choices.choose(&mut self.rng).unwrap_or(&a.usd);
        // Most borrow cautiously; some go close to their limit.
        let share = if self.rng.gen_bool(0.3) { self.rng.gen_range(0.9..0.995) } else { self.rng.gen_range(0.1..0.7) };
        let amount = round_sig(u(f(headroom) * share) * U256::from(E18) / self.price(asset), 3);
        if amount.is_zero() {
            return Ok(false);
        }
        let call = LendingPool::borrowCall { asset, amount, account: who, receiver: who };
        let role = &self.user(user).role;
        let note = format!("LendingPool.borrow({}, {}, {role}, {role})", self.name(asset), amt(amount));
        let ok = self.send(self.user(user), a.pool, U256::ZERO, &call, note)?;
        if ok {
            self.borrowers.insert(user);
        }
        Ok(ok)
    }

    pub(super) fn lend_repay(&mut self, user: usize) -> Result<bool, CorpusError> {
        let a = self.w.a;
        let who = self.addr(user);
        let asset = *[a.usd, a.weth, a.gem].choose(&mut self.rng).unwrap_or(&a.usd);
        let debt = self.chain.view(a.pool, &LendingPool::debtOfCall { asset, account: who })?;
        if debt.is_zero() {
            return Ok(false);
        }
        if let Some(done) = self.need_approval(user, asset, a.pool, Kind::LendRepay)? {
            return Ok(done);
        }
        let balance = self.bal(asset, who)?;
        // Repaying everything needs the interest accrued until the block.
        let amount = if balance > debt + debt / U256::from(1000) && self.rng.gen_bool(0.4) {
            U256::MAX
        } else {
            self.portion(debt.min(balance))
        };
        if amount.is_zero() {
            return Ok(false);
        }
        let call = LendingPool::repayCall { asset, amount, account: who };
        let note = format!("LendingPool.repay({}, {}, {})", self.name(asset), amt(amount), self.user(user).role);
        self.send(self.user(user), a.pool, U256::ZERO, &call, note)
    }

    pub(super) fn eth_supply(&mut self, user: usize) -> Result<bool, CorpusError> {
        let amount = self.portion(self.chain.balance(self.addr(user)));
        if amount.is_zero() {
            return Ok(false);
        }
        let note = format!("EthMarket.supply() {{value: {}}}", amt(amount));
        self.send(self.user(user), self.w.a.eth_market, amount, &EthMarket::supplyCall {}, note)
    }

    pub(super) fn eth_withdraw(&mut self, user: usize) -> Result<bool, CorpusError> {
        let m = self.w.a.eth_market;
        let supplied = self.chain.view(m, &EthMarket::suppliedOfCall(self.addr(user)))?;
        let amount = if self.rng.gen_bool(0.3) { supplied } else { self.portion(supplied) };
        if amount.is_zero() || amount > self.chain.balance(m) {
            return Ok(false);
        }
        let note = format!("EthMarket.withdraw({})", amt(amount));
        self.send(self.user(user), m, U256::ZERO, &EthMarket::withdrawCall { amount }, note)
    }

    pub(super) fn eth_collateral(&mut self, user: usize) -> Result<bool, CorpusError> {
        let a = self.w.a;
        let balance = self.bal(a.usd, self.addr(user))?;
        if balance.is_zero() {
            return Ok(false);
        }
        if let Some(done) = self.need_approval(user, a.usd, a.eth_market, Kind::EthCollateral)? {
            return Ok(done);
        }
        let amount = self.portion(balance);
        if amount.is_zero() {
            return Ok(false);
        }
        let note = format!("EthMarket.depositCollateral(USD, {})", amt(amount));
        self.send(
            self.user(user),
            a.eth_market,
            U256::ZERO,
            &EthMarket::depositCollateralCall { token: a.usd, amount },
            note,
        )
    }

    pub(super) fn eth_borrow(&mut self, user: usize) -> Result<bool, CorpusError> {
        let m = self.w.a.eth_market;
        let who = self.addr(user);
        let limit = self.chain.view(m, &EthMarket::borrowLimitCall { account: who })?;
        let borrowed = self.chain.view(m, &EthMarket::borrowedOfCall(who))?;
        if limit <= borrowed {
            return Ok(false);
        }
        let amount = round_sig(u(f(limit - borrowed) * self.rng.gen_range(0.1..0.8)), 3).min(self.chain.balance(m));
        if amount.is_zero() {
            return Ok(false);
        }
        let note = format!("EthMarket.borrow({})", amt(amount));
        self.send(self.user(user), m, U256::ZERO, &EthMarket::borrowCall { amount }, note)
    }

    pub(super) fn eth_repay(&mut self, user: usize) -> Result<bool, CorpusError> {
        let m = self.w.a.eth_market;
        let who = self.addr(user);
        let debt = self.chain.view(m, &EthMarket::borrowedOfCall(who))?;
        if debt.is_zero() {
            return Ok(false);
        }
        let amount = if self.rng.gen_bool(0.4) { debt } else { self.portion(debt) }.min(self.chain.balance(who));
        if amount.is_zero() {
            return Ok(false);
        }
        let note = format!("EthMarket.repay() {{value: {}}}", amt(amount));
        self.send(self.user(user), m, amount, &EthMarket::repayCall {}, note)
    }

    pub(super) fn eth_withdraw_collateral(&mut self, user: usize) -> Result<bool, CorpusError> {
        let a = self.w.a;
        let posted = self.chain.view(a.eth_market, &EthMarket::collateralOfCall { _0: self.addr(user), _1: a.usd })?;
        let amount = if self.rng.gen_bool(0.3) { posted } else { self.portion(posted) };
        if amount.is_zero() {
            return Ok(false);
        }
        let note = format!("EthMarket.withdrawCollateral(USD, {})", amt(amount));
        let call = EthMarket::withdrawCollateralCall { token: a.usd, amount };
        self.send(self.user(user), a.eth_market, U256::ZERO, &call, note)
    }
}

impl Traffic<'_> {
    /// A liquidator repays part of an unhealthy borrower's largest debt from
    /// its own wallet and takes the borrower's largest other collateral, with
    /// the pool's 8% bonus (no flash loan).
    pub(super) fn eoa_liquidate(&mut self, c: Candidate) -> Result<bool, CorpusError> {
        let a = self.w.a;
        let who = self.addr(c.borrower);
        let mut debts = Vec::new();
        let mut collateral = Vec::new();
        for asset in [a.weth, a.usd, a.gem] {
            let debt = self.chain.view(a.pool, &LendingPool::debtOfCall { asset, account: who })?;
            let coll = self.chain.view(a.pool, &LendingPool::balanceOfUnderlyingCall { asset, account: who })?;
            let p = self.price(asset);
            debts.push((debt * p / U256::from(E18), asset, debt));
            collateral.push((coll * p / U256::from(E18), asset));
        }
        debts.sort();
        collateral.sort();
        let Some(&(_, debt_asset, debt)) = debts.last() else { return Ok(false) };
        let Some(&(coll_value, coll_asset)) = collateral.iter().rev().find(|(_, asset)| *asset != debt_asset) else {
            return Ok(false);
        };
        if debt.is_zero() || coll_value.is_zero() {
            return Ok(false);
        }
        let w = self.w;
        let liquidators = &w.f.roles.liquidators;
        let liq = &liquidators[self.rng.gen_range(0..liquidators.len())];
        let held = self.bal(debt_asset, liq.address())?;
        let p_debt = self.price(debt_asset);
        let by_collateral = coll_value * U256::from(E18) / p_debt * U256::from(9_800) / U256::from(10_800);
        let most = (debt / U256::from(2)).min(by_collateral).min(held);
        let repay = round_sig(u(f(most) * self.rng.gen_range(0.15..0.95)), 3);
        if repay.is_zero() {
            return Ok(false);
        }
        let call = LendingPool::liquidateCall {
            borrower: who,
            debtAsset: debt_asset,
            repayAmount: repay,
            collateralAsset: coll_asset,
            receiver: liq.address(),
        };
        let note = format!(
            "LendingPool.liquidate({}, {}, {}, {}, {}) - partial liquidation from the wallet",
            self.user(c.borrower).role,
            self.name(debt_asset),
            amt(repay),
            self.name(coll_asset),
            liq.role
        );
        self.send_as("eoa-liquidation", liq, a.pool, U256::ZERO, &call, note)
    }
}
