//! Deterministic numbers for the traffic generators: floating-point helpers
//! built from `+ − × ÷` only, which IEEE 754 rounds the same way on every
//! machine (`f64::ln`/`exp`/`powf` come from the platform's libm and may
//! differ in the last bit, which would change the amounts and so the bytes
//! of a fixture), and the conversions between amounts and floats.

use alloy_primitives::U256;
use rand::Rng;

/// Rounds `x` down to `sig` significant decimal digits.
pub(crate) fn round_sig(x: U256, sig: u32) -> U256 {
    let limit = U256::from(10u64).pow(U256::from(sig));
    let mut scale = U256::from(1u64);
    while x / scale >= limit {
        scale *= U256::from(10u64);
    }
    x / scale * scale
}

/// `x` as a float (for shares and prices only; amounts stay integers).
pub(crate) fn f(x: U256) -> f64 {
    f64::from(x)
}

/// A non-negative float as an integer amount (0 for anything else; the
/// cast saturates at `u128::MAX`).
pub(crate) fn u(x: f64) -> U256 {
    if x <= 0.0 || !x.is_finite() {
        U256::ZERO
    } else {
        U256::from(x as u128)
    }
}

const LN_2: f64 = std::f64::consts::LN_2;

/// e^x for |x| ≲ 700.
pub(crate) fn exp(x: f64) -> f64 {
    // x = k·ln 2 + r, |r| ≤ ln 2 / 2; e^r by its Taylor series.
    let k = (x / LN_2).round();
    let r = x - k * LN_2;
    let (mut term, mut sum) = (1.0f64, 1.0f64);
    for n in 1..30 {
        term = term * r / f64::from(n);
        sum += term;
    }
    let mut scale = 1.0f64;
    let mut k = k as i64;
    while k > 0 {
        scale *= 2.0;
        k -= 1;
    }
    while k < 0 {
        scale /= 2.0;
        k += 1;
    }
    sum * scale
}

/// ln x for x > 0.
pub(crate) fn ln(x: f64) -> f64 {
    // x = m·2^k with m in [1, 2); ln m = 2·atanh((m − 1)/(m + 1)).
    let (mut m, mut k) = (x, 0i32);
    while m >= 2.0 {
        m /= 2.0;
        k += 1;
    }
    while m < 1.0 {
        m *= 2.0;
        k -= 1;
    }
    let y = (m - 1.0) / (m + 1.0);
    let y2 = y * y;
    let (mut term, mut sum) = (y, 0.0f64);
    for n in 0..40 {
        sum += term / f64::from(2 * n + 1);
        term *= y2;
    }
    2.0 * sum + f64::from(k) * LN_2
}

/// A number between `lo` and `hi` whose logarithm is uniform.
pub(crate) fn log_uniform(rng: &mut impl Rng, lo: f64, hi: f64) -> f64 {
    let (a, b) = (ln(lo), ln(hi));
    exp(a + rng.gen::<f64>() * (b - a))
}

#[cfg(test)]
mod tests {
    #[test]
    fn close_to_libm() {
        for x in [0.01, 0.5, 1.0, 2.0, 10.0, 12345.0, 1e-6] {
            assert!((super::ln(x) - x.ln()).abs() < 1e-12, "ln {x}");
        }
        for x in [-10.0, -1.0, 0.0, 0.3, 1.0, 5.0, 40.0] {
            assert!((super::exp(x) / x.exp() - 1.0).abs() < 1e-12, "exp {x}");
        }
    }
}
