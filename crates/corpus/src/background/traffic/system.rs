//! The system actors' turn: the feed owner, the bots, the staking owner, and
//! the everyday protocols' role holders.

use alloy_primitives::{Address, I256, U256};
use rand::{seq::SliceRandom, Rng};

use super::{amount_out, f, round_sig, u, Candidate, Traffic, E18};
use crate::{
    contracts::{ArbBot, FlashLiquidator, LendingPool, ManualFeed, StakingRewards},
    keys::Actor,
    scenarios::amt,
    CorpusError,
};

/// A role holder's turn.
type Turn<'w> = fn(&mut Traffic<'w>) -> Result<bool, CorpusError>;

impl Traffic<'_> {
    /// The feed owner, the bots, the staking owner and the role holders;
    /// `Ok(true)` if one of them emitted this step's transaction.
    pub(super) fn system_turn(&mut self) -> Result<bool, CorpusError> {
        if !self.candidates.is_empty() && self.rng.gen_bool(0.6) {
            let c = self.candidates.remove(0);
            // Half the liquidations are repaid from a liquidator's own
            // wallet, in part; the rest with a flash loan.
            if self.rng.gen_bool(0.5) {
                if self.eoa_liquidate(c)? {
                    // Still under water: another partial liquidation later.
                    if self.unhealthy(c.borrower)? {
                        self.candidates.push(c);
                    }
                    return Ok(true);
                }
            } else if self.liquidate(c)? {
                return Ok(true);
            }
        }
        if self.rng.gen_bool(0.3) && self.update_feeds()? {
            return Ok(true);
        }
        if self.rng.gen_bool(0.5) && self.arbitrage()? {
            return Ok(true);
        }
        if self.rng.gen_bool(0.003) && self.start_round()? {
            return Ok(true);
        }
        if self.rng.gen_bool(0.002) && self.bot_withdraw()? {
            return Ok(true);
        }
        self.role_turn()
    }

    /// The everyday protocols' role holders, each with its own odds per step.
    pub(super) fn role_turn(&mut self) -> Result<bool, CorpusError> {
        if self.steps >= self.fam.upgrade_at && !self.fam.upgraded && self.upgrade_registry()? {
            return Ok(true);
        }
        if self.keeper_turn()? {
            return Ok(true);
        }
        let turns: [(f64, Turn<'_>); 16] = [
            (0.006, Self::post_root),
            (0.008, Self::relay_finalize),
            (0.005, Self::relay_attested),
            (0.0008, Self::rotate_attesters),
            (0.012, Self::harvest),
            (0.003, Self::keeper_withdraw),
            (0.006, Self::treasurer_pay),
            (0.002, Self::treasurer_payroll),
            (0.004, Self::schedule_grant),
            (0.0015, Self::schedule_rotation),
            (0.3, Self::execute_ready_op),
            (0.003, Self::grants_pay),
            (0.0015, Self::rotate_grants_owner),
            (0.002, Self::collect_bridge_fees),
            (0.002, Self::withdraw_sale_proceeds),
            (0.001, Self::collect_registry_fees),
        ];
        for (odds, turn) in turns {
            if self.rng.gen_bool(odds) && turn(self)? {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Posts a new answer when a pair's spot price moved away from its feed.
    pub(super) fn update_feeds(&mut self) -> Result<bool, CorpusError> {
        let a = self.w.a;
        let (w_usd, r_usd) = self.reserves(a.pair_wu, a.weth)?;
        let spot_usd = w_usd * U256::from(E18) / r_usd;
        let (w_gem, r_gem) = self.reserves(a.pair_wg, a.weth)?;
        let spot_gem = w_gem * U256::from(E18) / r_gem;
        let d = self.w.deployer.clone();
        for (feed, spot, current, which) in
            [(a.feed_usd, spot_usd, self.feed_usd, "USD"), (a.feed_gem, spot_gem, self.feed_gem, "GEM")]
        {
            let gap = f(spot) / f(current) - 1.0;
            if gap.abs() < 0.005 {
                continue;
            }
            let answer = round_sig(spot, 4);
            let Ok(signed) = I256::try_from(answer) else { continue };
            let note = format!("ManualFeed({which}).setAnswer({}) - reporter posts the market price", amt(answer));
            if self.send_as("feed-update", &d, feed, U256::ZERO, &ManualFeed::setAnswerCall { answer: signed }, note)? {
                if which == "USD" {
                    self.feed_usd = answer;
                } else {
                    self.feed_gem = answer;
                }
                self.scan_liquidations()?;
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Whether a borrower's debt is above its borrow limit.
    fn unhealthy(&self, borrower: usize) -> Result<bool, CorpusError> {
        let l = self.chain.view(self.w.a.pool, &LendingPool::accountLiquidityCall { account: self.addr(borrower) })?;
        Ok(l.debtValue > l.borrowLimit)
    }

    /// After a price update: the borrowers now under water.
    pub(super) fn scan_liquidations(&mut self) -> Result<(), CorpusError> {
        self.candidates.clear();
        let borrowers: Vec<usize> = self.borrowers.iter().copied().collect();
        for b in borrowers {
            let l = self.chain.view(self.w.a.pool, &LendingPool::accountLiquidityCall { account: self.addr(b) })?;
            if l.debtValue.is_zero() {
                self.borrowers.remove(&b);
            } else if l.debtValue > l.borrowLimit {
                self.candidates.push(Candidate { borrower: b });
            }
        }
        Ok(())
    }

    pub(super) fn price(&self, asset: Address) -> U256 {
        let a = &self.w.a;
        if asset == a.usd {
            self.feed_usd
        } else if asset == a.gem {
            self.feed_gem
        } else {
            U256::from(E18)
        }
    }

    /// A FlashLiquidator run against an unhealthy borrower, if profitable.
    pub(super) fn liquidate(&mut self, c: Candidate) -> Result<bool, CorpusError> {
        let a = self.w.a;
        let who = self.addr(c.borrower);
        let assets = [a.weth, a.usd, a.gem];
        let mut debts = Vec::new();
        let mut collateral = Vec::new();
        for asset in assets {
            let debt = self.chain.view(a.pool, &LendingPool::debtOfCall { asset, account: who })?;
            let coll = self.chain.view(a.pool, &LendingPool::balanceOfUnderlyingCall { asset, account: who })?;
            let p = self.price(asset);
            debts.push((debt * p / U256::from(E18), asset, debt));
            collateral.push((coll * p / U256::from(E18), asset, coll));
        }
        debts.sort();
        collateral.sort();
        let Some(&(_, debt_asset, debt)) = debts.last() else { return Ok(false) };
        let Some(&(coll_value, coll_asset, _)) = collateral.iter().rev().find(|(_, asset, _)| *asset != debt_asset)
        else {
            return Ok(false);
        };
        if debt.is_zero() || coll_value.is_zero() {
            return Ok(false);
        }
        let pair = match (debt_asset, coll_asset) {
            (x, y) if (x == a.weth && y == a.usd) || (x == a.usd && y == a.weth) => a.pair_wu,
            (x, y) if (x == a.weth && y == a.gem) || (x == a.gem && y == a.weth) => a.pair_wg,
            _ => a.pair_ug,
        };
        let (p_debt, p_coll) = (self.price(debt_asset), self.price(coll_asset));
        let lendable = self.bal(debt_asset, a.lender)?;
        // Close factor, the collateral the bonus leaves, the lender's cash.
        let by_collateral = coll_value * U256::from(E18) / p_debt * U256::from(9_800) / U256::from(10_800);
        let mut repay = (debt / U256::from(2)).min(by_collateral).min(lendable * U256::from(99) / U256::from(100));
        let (r_coll, r_debt) = self.reserves(pair, coll_asset)?;
        for _ in 0..6 {
            repay = round_sig(repay, 4);
            if repay.is_zero() {
                return Ok(false);
            }
            let seized = repay * p_debt * U256::from(10_800) / (p_coll * U256::from(10_000));
            let out = amount_out(seized, r_coll, r_debt);
            let cost = repay + repay * U256::from(9) / U256::from(10_000);
            if out > cost + cost / U256::from(1000) {
                let k = self.rng.gen_range(0..self.w.liquidators.len());
                let (bot, contract) = &self.w.liquidators[k];
                let call = FlashLiquidator::executeCall {
                    lender: a.lender,
                    pool: a.pool,
                    borrower: who,
                    debtAsset: debt_asset,
                    repayAmount: repay,
                    collateralAsset: coll_asset,
                    pair,
                };
                let note = format!(
                    "FlashLiquidator.execute(FlashLender, LendingPool, {}, {}, {}, {}, pair) - flash-loan liquidation",
                    self.user(c.borrower).role,
                    self.name(debt_asset),
                    amt(repay),
                    self.name(coll_asset)
                );
                return self.send_as("flash-liquidation", bot, *contract, U256::ZERO, &call, note);
            }
            repay /= U256::from(2);
        }
        Ok(false)
    }

    /// Flash-loan arbitrage between DEX A and DEX B's WETH/USD pairs.
    pub(super) fn arbitrage(&mut self) -> Result<bool, CorpusError> {
        let a = self.w.a;
        let (wa, ua) = self.reserves(a.pair_wu, a.weth)?;
        let (wb, ub) = self.reserves(a.pair_b, a.weth)?;
        // Buy WETH where it is cheap (more USD per WETH on the other side).
        let (cheap, dear, (wc, uc), (wd, ud)) = if f(ua) / f(wa) > f(ub) / f(wb) {
            (a.pair_b, a.pair_wu, (wb, ub), (wa, ua))
        } else {
            (a.pair_wu, a.pair_b, (wa, ua), (wb, ub))
        };
        let profit = |x: U256| -> (U256, bool) {
            let weth = amount_out(x, uc, wc);
            let back = amount_out(weth, wd, ud);
            let cost = x + x * U256::from(9) / U256::from(10_000);
            if back > cost {
                (back - cost, true)
            } else {
                (U256::ZERO, false)
            }
        };
        // Ternary search on the profit curve.
        let (mut lo, mut hi) = (0.0f64, f(uc) * 0.2);
        for _ in 0..60 {
            let m1 = lo + (hi - lo) / 3.0;
            let m2 = hi - (hi - lo) / 3.0;
            if f(profit(u(m1)).0) < f(profit(u(m2)).0) {
                lo = m1;
            } else {
                hi = m2;
            }
        }
        let x = round_sig(u(lo).min(U256::from(2_900_000u64) * U256::from(E18)), 3);
        let (gain, ok) = profit(x);
        if !ok || gain < U256::from(20u64) * U256::from(E18) {
            return Ok(false);
        }
        let k = self.rng.gen_range(0..self.w.arb_bots.len());
        let (bot, contract) = &self.w.arb_bots[k];
        let call = ArbBot::executeCall {
            lender: a.lender,
            token: a.usd,
            amount: x,
            hops: vec![ArbBot::Hop { pair: cheap, tokenIn: a.usd }, ArbBot::Hop { pair: dear, tokenIn: a.weth }],
        };
        let note =
            format!("ArbBot.execute(FlashLender, USD, {}, [cheap pair, dear pair]) - flash-loan arbitrage", amt(x));
        self.send_as("arbitrage", bot, *contract, U256::ZERO, &call, note)
    }

    pub(super) fn start_round(&mut self) -> Result<bool, CorpusError> {
        let d = self.w.deployer.clone();
        let reward = U256::from(self.rng.gen_range(5u64..50)) * U256::from(E18);
        let note = format!("StakingRewards.startRound({}) - owner funds a reward round", amt(reward));
        self.send_as("reward-round", &d, self.w.a.staking, U256::ZERO, &StakingRewards::startRoundCall { reward }, note)
    }

    /// A bot takes its profits out of its contract.
    pub(super) fn bot_withdraw(&mut self) -> Result<bool, CorpusError> {
        let a = self.w.a;
        let bots: Vec<&(Actor, Address)> = self.w.arb_bots.iter().chain(self.w.liquidators.iter()).collect();
        let Some(&(bot, contract)) = bots.choose(&mut self.rng) else { return Ok(false) };
        for token in [a.usd, a.weth, a.gem] {
            let held = self.bal(token, *contract)?;
            if held > U256::from(E18) {
                let amount = round_sig(held * U256::from(9) / U256::from(10), 3);
                let note = format!("withdraw({}, bot, {}) - bot takes profits", self.name(token), amt(amount));
                let call = ArbBot::withdrawCall { token, to: bot.address(), amount };
                return self.send_as("bot-withdraw", bot, *contract, U256::ZERO, &call, note);
            }
        }
        Ok(false)
    }
}
