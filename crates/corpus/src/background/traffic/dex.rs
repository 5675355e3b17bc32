//! Swaps on both DEXes, the aggregator and multicalls, large trades,
//! liquidity added and removed (through the router, or by sending the LP
//! tokens to the pair through the zap: both assets, one asset, or a
//! multicall), and the stable pool.

use alloy_primitives::{Address, Bytes, U256};
use alloy_sol_types::SolCall;
use rand::{seq::SliceRandom, Rng};

use super::{amount_out, f, round_sig, u, Kind, SwapPlan, Traffic, E18};
use crate::{
    contracts::{AggregationRouter, LiquidityZap, Pair, StableEthPool, SwapRouter, Token},
    scenarios::amt,
    CorpusError,
};

impl Traffic<'_> {
    pub(super) fn buy_with_eth(&mut self, user: usize) -> Result<bool, CorpusError> {
        let a = self.w.a;
        let amount = self.portion(self.chain.balance(self.addr(user)));
        if amount.is_zero() {
            return Ok(false);
        }
        let to = *[a.usd, a.usd, a.gem, a.stk, self.w.f.a.orb].choose(&mut self.rng).unwrap_or(&a.usd);
        let path = self.path(a.weth, to);
        let Some(out) = self.quote(amount, &path)? else { return Ok(false) };
        let min = self.with_slippage(out);
        let call = SwapRouter::swapExactETHForTokensCall { amountOutMin: min, path: path.clone(), to: self.addr(user) };
        let note = format!(
            "SwapRouter.swapExactETHForTokens({}, [{}], {}) {{value: {}}}",
            amt(min),
            self.path_names(&path),
            self.user(user).role,
            amt(amount)
        );
        self.send(self.user(user), a.router, amount, &call, note)
    }

    pub(super) fn sell_for_eth(&mut self, user: usize) -> Result<bool, CorpusError> {
        let a = self.w.a;
        let held: Vec<(Address, U256)> = self.holdings(user)?.into_iter().filter(|(t, _)| *t != a.weth).collect();
        let Some(&(token, balance)) = held.choose(&mut self.rng) else { return Ok(false) };
        if let Some(done) = self.need_approval(user, token, a.router, Kind::SellForEth)? {
            return Ok(done);
        }
        let amount = self.portion(balance);
        if amount.is_zero() {
            return Ok(false);
        }
        let path = self.path(token, a.weth);
        let Some(out) = self.quote(amount, &path)? else { return Ok(false) };
        let min = self.with_slippage(out);
        let call = SwapRouter::swapExactTokensForETHCall {
            amountIn: amount,
            amountOutMin: min,
            path: path.clone(),
            to: self.addr(user),
        };
        let note = format!(
            "SwapRouter.swapExactTokensForETH({}, {}, [{}], {})",
            amt(amount),
            amt(min),
            self.path_names(&path),
            self.user(user).role
        );
        self.send(self.user(user), a.router, U256::ZERO, &call, note)
    }

    /// A token the user holds and another one to swap it for, with the
    /// router approved for the first.
    pub(super) fn swap_pair(
        &mut self,
        user: usize,
        router: Address,
        kind: Kind,
    ) -> Result<Option<SwapPlan>, CorpusError> {
        let a = self.w.a;
        let held = self.holdings(user)?;
        let Some(&(token_in, balance)) = held.choose(&mut self.rng) else { return Ok(None) };
        if let Some(done) = self.need_approval(user, token_in, router, kind)? {
            return Ok(Some(SwapPlan::Approved(done)));
        }
        let choices: Vec<Address> =
            [a.weth, a.usd, a.gem, a.stk, self.w.f.a.orb].into_iter().filter(|t| *t != token_in).collect();
        let token_out = *choices.choose(&mut self.rng).unwrap_or(&a.usd);
        Ok(Some(SwapPlan::Swap { token_in, token_out, balance }))
    }

    pub(super) fn swap_exact_in(&mut self, user: usize) -> Result<bool, CorpusError> {
        let router = self.w.a.router;
        let (token_in, token_out, balance) = match self.swap_pair(user, router, Kind::SwapExactIn)? {
            None => return Ok(false),
            Some(SwapPlan::Approved(done)) => return Ok(done),
            Some(SwapPlan::Swap { token_in, token_out, balance }) => (token_in, token_out, balance),
        };
        let amount = self.portion(balance);
        if amount.is_zero() {
            return Ok(false);
        }
        let path = self.path(token_in, token_out);
        let Some(out) = self.quote(amount, &path)? else { return Ok(false) };
        let min = self.with_slippage(out);
        let call = SwapRouter::swapExactTokensForTokensCall {
            amountIn: amount,
            amountOutMin: min,
            path: path.clone(),
            to: self.addr(user),
        };
        let note = format!(
            "SwapRouter.swapExactTokensForTokens({}, {}, [{}], {})",
            amt(amount),
            amt(min),
            self.path_names(&path),
            self.user(user).role
        );
        self.send(self.user(user), router, U256::ZERO, &call, note)
    }

    pub(super) fn swap_exact_out(&mut self, user: usize) -> Result<bool, CorpusError> {
        let router = self.w.a.router;
        let (token_in, token_out, balance) = match self.swap_pair(user, router, Kind::SwapExactOut)? {
            None => return Ok(false),
            Some(SwapPlan::Approved(done)) => return Ok(done),
            Some(SwapPlan::Swap { token_in, token_out, balance }) => (token_in, token_out, balance),
        };
        let budget = self.portion(balance);
        if budget.is_zero() {
            return Ok(false);
        }
        let path = self.path(token_in, token_out);
        let Some(out) = self.quote(budget, &path)? else { return Ok(false) };
        let want = round_sig(out * U256::from(95) / U256::from(100), 3);
        if want.is_zero() {
            return Ok(false);
        }
        let call = SwapRouter::swapTokensForExactTokensCall {
            amountOut: want,
            amountInMax: budget,
            path: path.clone(),
            to: self.addr(user),
        };
        let note = format!(
            "SwapRouter.swapTokensForExactTokens({}, {}, [{}], {})",
            amt(want),
            amt(budget),
            self.path_names(&path),
            self.user(user).role
        );
        self.send(self.user(user), router, U256::ZERO, &call, note)
    }

    /// A WETH/USD swap on DEX B.
    pub(super) fn swap_on_b(&mut self, user: usize) -> Result<bool, CorpusError> {
        let a = self.w.a;
        let who = self.addr(user);
        let (weth, usd) = (self.bal(a.weth, who)?, self.bal(a.usd, who)?);
        let (token_in, balance, token_out) = match (weth.is_zero(), usd.is_zero()) {
            (true, true) => return Ok(false),
            (false, true) => (a.weth, weth, a.usd),
            (true, false) => (a.usd, usd, a.weth),
            (false, false) => {
                if self.rng.gen_bool(0.5) {
                    (a.weth, weth, a.usd)
                } else {
                    (a.usd, usd, a.weth)
                }
            }
        };
        if let Some(done) = self.need_approval(user, token_in, a.router_b, Kind::SwapOnB)? {
            return Ok(done);
        }
        let amount = self.portion(balance);
        if amount.is_zero() {
            return Ok(false);
        }
        let (r_in, r_out) = self.reserves(a.pair_b, token_in)?;
        let min = self.with_slippage(amount_out(amount, r_in, r_out));
        let call = SwapRouter::swapExactTokensForTokensCall {
            amountIn: amount,
            amountOutMin: min,
            path: vec![token_in, token_out],
            to: who,
        };
        let note = format!(
            "SwapRouterB.swapExactTokensForTokens({}, {}, [{}, {}], {})",
            amt(amount),
            amt(min),
            self.name(token_in),
            self.name(token_out),
            self.user(user).role
        );
        self.send(self.user(user), a.router_b, U256::ZERO, &call, note)
    }

    /// A swap through the aggregation router, executed by DEX A's router.
    pub(super) fn aggregator_swap(&mut self, user: usize) -> Result<bool, CorpusError> {
        let a = self.w.a;
        let (token_in, token_out, balance) = match self.swap_pair(user, a.aggregator, Kind::AggregatorSwap)? {
            None => return Ok(false),
            Some(SwapPlan::Approved(done)) => return Ok(done),
            Some(SwapPlan::Swap { token_in, token_out, balance }) => (token_in, token_out, balance),
        };
        let amount = self.portion(balance);
        if amount.is_zero() {
            return Ok(false);
        }
        let path = self.path(token_in, token_out);
        let Some(out) = self.quote(amount, &path)? else { return Ok(false) };
        let min = self.with_slippage(out);
        let route = SwapRouter::swapExactTokensForTokensCall {
            amountIn: amount,
            amountOutMin: U256::ZERO,
            path: path.clone(),
            to: a.aggregator,
        };
        let call = AggregationRouter::swapCall {
            desc: AggregationRouter::SwapDescription {
                srcToken: token_in,
                dstToken: token_out,
                amount,
                minReturn: min,
                receiver: self.addr(user),
            },
            executor: a.router,
            route: route.abi_encode().into(),
        };
        let note = format!(
            "AggregationRouter.swap([{}, {}, {}, {}, {}], SwapRouter, swapExactTokensForTokens([{}]))",
            self.name(token_in),
            self.name(token_out),
            amt(amount),
            amt(min),
            self.user(user).role,
            self.path_names(&path)
        );
        self.send(self.user(user), a.aggregator, U256::ZERO, &call, note)
    }

    /// Two to four swaps of different tokens in one `SwapRouter.multicall`.
    pub(super) fn multicall(&mut self, user: usize) -> Result<bool, CorpusError> {
        let a = self.w.a;
        let mut held = self.holdings(user)?;
        if held.len() < 2 {
            return Ok(false);
        }
        let owner = self.addr(user);
        held.retain(|(token, _)| self.approved.contains(&(owner, *token, a.router)));
        if held.len() < 2 {
            return Ok(false);
        }
        held.shuffle(&mut self.rng);
        let n = self.rng.gen_range(2..=held.len().min(4));
        let mut data = Vec::new();
        let mut parts = Vec::new();
        for &(token_in, balance) in held.iter().take(n) {
            let choices: Vec<Address> =
                [a.weth, a.usd, a.gem, a.stk, self.w.f.a.orb].into_iter().filter(|t| *t != token_in).collect();
            let token_out = *choices.choose(&mut self.rng).unwrap_or(&a.usd);
            let amount = round_sig(self.portion(balance) / U256::from(2), 3);
            if amount.is_zero() {
                return Ok(false);
            }
            let path = self.path(token_in, token_out);
            parts.push(format!("swapExactTokensForTokens({}, 0, [{}])", amt(amount), self.path_names(&path)));
            let call = SwapRouter::swapExactTokensForTokensCall {
                amountIn: amount,
                amountOutMin: U256::ZERO,
                path,
                to: self.addr(user),
            };
            data.push(Bytes::from(call.abi_encode()));
        }
        let note = format!("SwapRouter.multicall([{}])", parts.join(", "));
        self.send(self.user(user), a.router, U256::ZERO, &SwapRouter::multicallCall { data }, note)
    }

    /// A large WETH/USD trade on DEX A by a rich user, more often against
    /// the price's drift from 2,000 USD.
    pub(super) fn whale(&mut self, user: usize) -> Result<bool, CorpusError> {
        let a = self.w.a;
        let who = self.addr(user);
        let eth_balance = self.chain.balance(who);
        let (w, us) = self.reserves(a.pair_wu, a.weth)?;
        let price = f(us) / f(w);
        let size = f(w) * self.rng.gen_range(0.005..0.03);
        let drift = price / 2000.0 - 1.0;
        let sell_eth = if drift.abs() > 0.04 { drift > 0.0 } else { self.rng.gen_bool(0.5) };
        if sell_eth {
            let amount = round_sig(u(size).min(eth_balance * U256::from(9) / U256::from(10)), 2);
            if amount < U256::from(10u64) * U256::from(E18) {
                return Ok(false);
            }
            let path = vec![a.weth, a.usd];
            let Some(out) = self.quote(amount, &path)? else { return Ok(false) };
            let min = self.with_slippage(out);
            let call = SwapRouter::swapExactETHForTokensCall { amountOutMin: min, path, to: who };
            let note = format!(
                "SwapRouter.swapExactETHForTokens({}, [WETH, USD]) {{value: {}}} - large sale",
                amt(min),
                amt(amount)
            );
            self.send(self.user(user), a.router, amount, &call, note)
        } else {
            let usd = self.bal(a.usd, who)?;
            let amount = round_sig(u(size * price).min(usd), 2);
            if amount < U256::from(10_000u64) * U256::from(E18) {
                return Ok(false);
            }
            if let Some(done) = self.need_approval(user, a.usd, a.router, Kind::Whale)? {
                return Ok(done);
            }
            let path = vec![a.usd, a.weth];
            let Some(out) = self.quote(amount, &path)? else { return Ok(false) };
            let min = self.with_slippage(out);
            let call = SwapRouter::swapExactTokensForETHCall { amountIn: amount, amountOutMin: min, path, to: who };
            let note = format!(
                "SwapRouter.swapExactTokensForETH({}, {}, [USD, WETH]) - large purchase",
                amt(amount),
                amt(min)
            );
            self.send(self.user(user), a.router, U256::ZERO, &call, note)
        }
    }

    pub(super) fn add_liquidity(&mut self, user: usize) -> Result<bool, CorpusError> {
        let a = self.w.a;
        let pairs = [(a.weth, a.usd), (a.weth, a.gem), (a.weth, a.stk), (a.usd, a.gem), (a.weth, self.w.f.a.orb)];
        let Some(&(x, y)) = pairs.choose(&mut self.rng) else { return Ok(false) };
        let who = self.addr(user);
        let (bx, by) = (self.bal(x, who)?, self.bal(y, who)?);
        if bx.is_zero() || by.is_zero() {
            return Ok(false);
        }
        for token in [x, y] {
            if let Some(done) = self.need_approval(user, token, a.router, Kind::AddLiquidity)? {
                return Ok(done);
            }
        }
        let pair = self.chain.view(self.w.a.router, &SwapRouter::getReservesCall { tokenA: x, tokenB: y })?;
        let amount_x = self.portion(bx);
        if amount_x.is_zero() || pair.reserveA.is_zero() {
            return Ok(false);
        }
        let ideal_y = amount_x * pair.reserveB / pair.reserveA;
        let (amount_x, amount_y) = if ideal_y <= by {
            (amount_x, round_sig(ideal_y * U256::from(101) / U256::from(100), 4).min(by))
        } else {
            (round_sig(by * pair.reserveA / pair.reserveB, 3), by)
        };
        if amount_x.is_zero() || amount_y.is_zero() {
            return Ok(false);
        }
        let call = SwapRouter::addLiquidityCall {
            tokenA: x,
            tokenB: y,
            amountADesired: amount_x,
            amountBDesired: amount_y,
            amountAMin: amount_x * U256::from(97) / U256::from(100),
            amountBMin: U256::ZERO,
            to: who,
        };
        let note = format!(
            "SwapRouter.addLiquidity({}, {}, {}, {}, …, {})",
            self.name(x),
            self.name(y),
            amt(amount_x),
            amt(amount_y),
            self.user(user).role
        );
        self.send(self.user(user), a.router, U256::ZERO, &call, note)
    }

    pub(super) fn remove_liquidity(&mut self, user: usize) -> Result<bool, CorpusError> {
        let a = self.w.a;
        let who = self.addr(user);
        let mut held = Vec::new();
        for (pair, x, y) in [
            (a.pair_wu, a.weth, a.usd),
            (a.pair_wg, a.weth, a.gem),
            (a.pair_ws, a.weth, a.stk),
            (a.pair_ug, a.usd, a.gem),
            (self.w.f.a.pair_wo, a.weth, self.w.f.a.orb),
        ] {
            let lp = self.bal(pair, who)?;
            if !lp.is_zero() {
                held.push((pair, x, y, lp));
            }
        }
        let Some(&(pair, x, y, lp)) = held.choose(&mut self.rng) else { return Ok(false) };
        if let Some(done) = self.need_approval(user, pair, a.router, Kind::RemoveLiquidity)? {
            return Ok(done);
        }
        let liquidity = if self.rng.gen_bool(0.4) { lp } else { self.portion(lp) };
        if liquidity.is_zero() {
            return Ok(false);
        }
        let call = SwapRouter::removeLiquidityCall {
            tokenA: x,
            tokenB: y,
            liquidity,
            amountAMin: U256::ZERO,
            amountBMin: U256::ZERO,
            to: who,
        };
        let note = format!(
            "SwapRouter.removeLiquidity({}, {}, {}, 0, 0, {})",
            self.name(x),
            self.name(y),
            amt(liquidity),
            self.user(user).role
        );
        self.send(self.user(user), a.router, U256::ZERO, &call, note)
    }

    pub(super) fn stable_exchange(&mut self, user: usize) -> Result<bool, CorpusError> {
        let a = self.w.a;
        let who = self.addr(user);
        let seth = self.bal(a.seth, who)?;
        let eth_in = seth.is_zero() || self.rng.gen_bool(0.5);
        let (i, j, dx, value) = if eth_in {
            let dx = self.portion(self.chain.balance(who));
            (0i8, 1i8, dx, dx)
        } else {
            if let Some(done) = self.need_approval(user, a.seth, a.stable, Kind::StableExchange)? {
                return Ok(done);
            }
            (1, 0, self.portion(seth), U256::ZERO)
        };
        if dx.is_zero() {
            return Ok(false);
        }
        let dy = match self.chain.view(a.stable, &StableEthPool::get_dyCall { i: i.into(), j: j.into(), dx }) {
            Ok(dy) => dy,
            Err(CorpusError::View { .. }) => return Ok(false),
            Err(e) => return Err(e),
        };
        let min = self.with_slippage(dy);
        let call = StableEthPool::exchangeCall { i: i.into(), j: j.into(), dx, minDy: min };
        let note = format!(
            "StableEthPool.exchange({i}, {j}, {}, {}){}",
            amt(dx),
            amt(min),
            if eth_in { format!(" {{value: {}}}", amt(value)) } else { String::new() }
        );
        self.send(self.user(user), a.stable, value, &call, note)
    }

    pub(super) fn stable_add(&mut self, user: usize) -> Result<bool, CorpusError> {
        let a = self.w.a;
        let who = self.addr(user);
        let seth = self.bal(a.seth, who)?;
        if seth.is_zero() {
            return Ok(false);
        }
        if let Some(done) = self.need_approval(user, a.seth, a.stable, Kind::StableAdd)? {
            return Ok(done);
        }
        let coin = self.portion(seth);
        let eth_amount = round_sig(coin.min(self.chain.balance(who)), 3);
        if coin.is_zero() || eth_amount.is_zero() {
            return Ok(false);
        }
        let call = StableEthPool::add_liquidityCall { amounts: [eth_amount, coin], minMintAmount: U256::ZERO };
        let note = format!(
            "StableEthPool.add_liquidity([{}, {}], 0) {{value: {}}}",
            amt(eth_amount),
            amt(coin),
            amt(eth_amount)
        );
        self.send(self.user(user), a.stable, eth_amount, &call, note)
    }

    pub(super) fn stable_remove(&mut self, user: usize) -> Result<bool, CorpusError> {
        let a = self.w.a;
        let lp = self.bal(a.stable, self.addr(user))?;
        let amount = if self.rng.gen_bool(0.4) { lp } else { self.portion(lp) };
        if amount.is_zero() {
            return Ok(false);
        }
        let call = StableEthPool::remove_liquidityCall { amount, minAmounts: [U256::ZERO, U256::ZERO] };
        let note = format!("StableEthPool.remove_liquidity({}, [0, 0])", amt(amount));
        self.send(self.user(user), a.stable, U256::ZERO, &call, note)
    }
}

/// LP tokens to remove, what they are worth in each token (`a0`, `a1`),
/// and the pair's balances (`b0`, `b1`).
struct LpExit {
    liquidity: U256,
    a0: U256,
    a1: U256,
    b0: U256,
    b1: U256,
}

/// Liquidity removed by sending the LP tokens to the pair, through the zap.
impl Traffic<'_> {
    /// One of `user`'s LP positions on DEX A: (pair, token0, token1, LP held).
    fn lp_position(&mut self, user: usize) -> Result<Option<(Address, Address, Address, U256)>, CorpusError> {
        let (a, fa) = (self.w.a, self.w.f.a);
        let who = self.addr(user);
        let mut held = Vec::new();
        for pair in [a.pair_wu, a.pair_wg, a.pair_ws, a.pair_ug, fa.pair_wo] {
            let lp = self.bal(pair, who)?;
            if !lp.is_zero() {
                held.push(pair);
            }
        }
        let Some(&pair) = held.choose(&mut self.rng) else { return Ok(None) };
        let token0 = self.chain.view(pair, &Pair::token0Call {})?;
        let token1 = self.chain.view(pair, &Pair::token1Call {})?;
        Ok(Some((pair, token0, token1, self.bal(pair, who)?)))
    }

    /// The LP tokens to remove (all of them sometimes) and what they are
    /// worth in each token.
    fn lp_exit(
        &mut self,
        pair: Address,
        token0: Address,
        token1: Address,
        lp: U256,
    ) -> Result<Option<LpExit>, CorpusError> {
        let liquidity = if self.rng.gen_bool(0.4) { lp } else { self.portion(lp) };
        let supply = self.chain.view(pair, &Token::totalSupplyCall {})?;
        if liquidity.is_zero() || supply.is_zero() {
            return Ok(None);
        }
        let (b0, b1) = (self.bal(token0, pair)?, self.bal(token1, pair)?);
        let (a0, a1) = (liquidity * b0 / supply, liquidity * b1 / supply);
        if a0.is_zero() || a1.is_zero() {
            return Ok(None);
        }
        Ok(Some(LpExit { liquidity, a0, a1, b0, b1 }))
    }

    /// `LiquidityZap.removeLiquidity`: the zap sends the LP tokens to the
    /// pair, the pair burns them and pays both assets to the user.
    pub(super) fn zap_remove(&mut self, user: usize) -> Result<bool, CorpusError> {
        let zap = self.w.f.a.zap;
        let Some((pair, t0, t1, lp)) = self.lp_position(user)? else { return Ok(false) };
        if let Some(done) = self.need_approval(user, pair, zap, Kind::ZapRemove)? {
            return Ok(done);
        }
        let Some(LpExit { liquidity, a0, a1, .. }) = self.lp_exit(pair, t0, t1, lp)? else { return Ok(false) };
        let (min0, min1) = (self.with_slippage(a0), self.with_slippage(a1));
        let who = self.addr(user);
        let call = LiquidityZap::removeLiquidityCall { pair, liquidity, amount0Min: min0, amount1Min: min1, to: who };
        let note = format!(
            "LiquidityZap.removeLiquidity({}, {}, {}, {}, {})",
            self.name(pair),
            amt(liquidity),
            amt(min0),
            amt(min1),
            self.user(user).role
        );
        self.send(self.user(user), zap, U256::ZERO, &call, note)
    }

    /// `LiquidityZap.zapOut`: burn and swap one side into the other, so the
    /// user leaves with one asset (ETH, unwrapped, for some).
    pub(super) fn zap_out(&mut self, user: usize) -> Result<bool, CorpusError> {
        let (zap, weth) = (self.w.f.a.zap, self.w.a.weth);
        let Some((pair, t0, t1, lp)) = self.lp_position(user)? else { return Ok(false) };
        if let Some(done) = self.need_approval(user, pair, zap, Kind::ZapOut)? {
            return Ok(done);
        }
        let Some(LpExit { liquidity, a0, a1, b0, b1 }) = self.lp_exit(pair, t0, t1, lp)? else { return Ok(false) };
        let out_is_0 = self.rng.gen_bool(0.5);
        let token_out = if out_is_0 { t0 } else { t1 };
        // After the burn the pair holds b - a of each; the other side is sold into it.
        let out = if out_is_0 { a0 + amount_out(a1, b1 - a1, b0 - a0) } else { a1 + amount_out(a0, b0 - a0, b1 - a1) };
        let min = self.with_slippage(out);
        let unwrap = token_out == weth && self.rng.gen_bool(0.5);
        let who = self.addr(user);
        let call =
            LiquidityZap::zapOutCall { pair, liquidity, tokenOut: token_out, amountOutMin: min, to: who, unwrap };
        let note = format!(
            "LiquidityZap.zapOut({}, {}, {}, {}, {}, {unwrap})",
            self.name(pair),
            amt(liquidity),
            self.name(token_out),
            amt(min),
            self.user(user).role
        );
        self.send(self.user(user), zap, U256::ZERO, &call, note)
    }

    /// `LiquidityZap.multicall`: pull the LP tokens into the pair and burn
    /// them, to the user, or to the zap that unwraps the WETH and sweeps the
    /// other token to the user.
    pub(super) fn zap_multicall(&mut self, user: usize) -> Result<bool, CorpusError> {
        let (zap, weth) = (self.w.f.a.zap, self.w.a.weth);
        let Some((pair, t0, t1, lp)) = self.lp_position(user)? else { return Ok(false) };
        if let Some(done) = self.need_approval(user, pair, zap, Kind::ZapMulticall)? {
            return Ok(done);
        }
        let Some(LpExit { liquidity, a0, a1, .. }) = self.lp_exit(pair, t0, t1, lp)? else { return Ok(false) };
        let who = self.addr(user);
        let role = self.user(user).role.clone();
        let pull = LiquidityZap::pullCall { token: pair, amount: liquidity, to: pair }.abi_encode();
        let mut data = vec![Bytes::from(pull)];
        let mut parts = vec![format!("pull({}, {}, pair)", self.name(pair), amt(liquidity))];
        if (t0 == weth || t1 == weth) && self.rng.gen_bool(0.6) {
            let (weth_amount, other, other_amount) = if t0 == weth { (a0, t1, a1) } else { (a1, t0, a0) };
            let (min_eth, min_other) = (self.with_slippage(weth_amount), self.with_slippage(other_amount));
            data.push(LiquidityZap::burnCall { pair, to: zap }.abi_encode().into());
            data.push(LiquidityZap::unwrapWETHCall { amountMin: min_eth, to: who }.abi_encode().into());
            data.push(LiquidityZap::sweepCall { token: other, amountMin: min_other, to: who }.abi_encode().into());
            parts.push("burn(pair, LiquidityZap)".into());
            parts.push(format!("unwrapWETH({}, {role})", amt(min_eth)));
            parts.push(format!("sweep({}, {}, {role})", self.name(other), amt(min_other)));
        } else {
            data.push(LiquidityZap::burnCall { pair, to: who }.abi_encode().into());
            parts.push(format!("burn(pair, {role})"));
        }
        let note = format!("LiquidityZap.multicall([{}])", parts.join(", "));
        self.send(self.user(user), zap, U256::ZERO, &LiquidityZap::multicallCall { data }, note)
    }
}
