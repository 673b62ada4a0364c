//! The standard normal sampler: Marsaglia and Tsang's ziggurat with 1024 layers.
//!
//! The positive half of `f(x) = exp(−x²/2)` is covered by 1024 layers of equal area `v`
//! (tables in `ziggurat_tables.rs`, computed to 60 digits by `sdk-rs/tools/ziggurat_tables.py`
//! and rounded to `f64` once, so every platform uses the same constants). Layer `i ≥ 1` is the
//! rectangle of width `X[i]` between heights `F[i]` and `F[i+1]`; layer 0 is the base strip of
//! width `X[0] = v / f(R)`, the rectangle `[0, R] × [0, f(R)]` plus the tail beyond `R = X[1]`.
//!
//! One 64-bit draw gives the layer (its low 10 bits) and a signed 53-bit integer `j` (its high
//! bits): `x = j · X[i] / 2⁵²` is uniform on `(−X[i], X[i])`. When `|x| < X[i+1]` the point lies
//! inside the curve and `x` is returned: an integer comparison, a conversion and a multiplication,
//! in 99.6% of draws (98.5% with the classic 256 layers; 1024 layers measured 12% faster in the
//! engine, and the tables, 24 KiB, still fit the L1 cache). Otherwise the wedge test (`i ≥ 1`) or Marsaglia's tail method (`i = 0`)
//! decides, drawing more bits; both are exact, so the sampler is exact up to the 53-bit
//! resolution of `x`.

use rand::Rng;

use crate::ziggurat_tables::{F, R, X};

/// Number of layers (a power of two; the index takes the low `log2(LAYERS)` bits of a draw).
const LAYERS: usize = X.len() - 1;
const MASK: u64 = LAYERS as u64 - 1;
const _: () = assert!(LAYERS.is_power_of_two() && LAYERS <= 2048);
const TWO_52: f64 = (1u64 << 52) as f64;
const TWO_M53: f64 = 1.0 / (1u64 << 53) as f64;

/// `W[i] = X[i] / 2⁵²`: scales the signed 53-bit integer to the layer's width.
const W: [f64; LAYERS] = {
    let mut w = [0.0; LAYERS];
    let mut i = 0;
    while i < LAYERS {
        w[i] = X[i] / TWO_52;
        i += 1;
    }
    w
};

/// `K[i] = ⌊2⁵² X[i+1] / X[i]⌋`: `|j| < K[i]` means `|x| < X[i+1]`, inside the curve.
///
/// Rounding down makes the shortcut conservative; anything it misses goes to the exact tests.
const K: [u64; LAYERS] = {
    let mut k = [0; LAYERS];
    let mut i = 0;
    while i < LAYERS {
        k[i] = (X[i + 1] / X[i] * TWO_52) as u64;
        i += 1;
    }
    k
};

/// Slope of the chord of layer `i`'s wedge, from `(X[i+1], F[i+1])` to `(X[i], F[i])`:
/// `C(a) = F[i] + (X[i] − a) S[i]` for `a = |x|` in `[X[i+1], X[i]]` (the squeeze of
/// [`under_curve`]).
const S: [f64; LAYERS] = {
    let mut s = [0.0; LAYERS];
    let mut i = 0;
    while i < LAYERS {
        s[i] = (F[i + 1] - F[i]) / (X[i] - X[i + 1]);
        i += 1;
    }
    s
};

/// How far below the chord the curve may lie in layer `i` ([`SQUEEZE_LO`]) or above it
/// ([`SQUEEZE_HI`]), plus a margin [`SQUEEZE_SLACK`] for rounding. The curve is concave for
/// `a < 1` and convex beyond (`f'' = (a² − 1) f`), so it lies above its chord where the layer
/// is left of 1 and below it where it is right of 1; by the interpolation bound it strays at
/// most `w²/8 · max|f''| ≤ w²/8` from the chord (`w = X[i] − X[i+1]`, `|f''| ≤ 1`).
const SQUEEZE_LO: [f64; LAYERS] = squeeze_bounds(true);
const SQUEEZE_HI: [f64; LAYERS] = squeeze_bounds(false);

/// Absolute margin of the squeeze. It covers the rounding of the chord (a few units in the
/// last place of numbers ≤ 1, ~1e-15), the difference between libm's `exp(−x·x/2)` and the
/// curve (the argument rounded to 2⁻⁵³ relative, times `x²/2 ≤ 9.2`, plus one unit in the last
/// place: below 1.3e-15) and `|x|` falling a rounding error outside `[X[i+1], X[i]]`, with a
/// factor of 100 to spare. With the curvature terms it leaves 0.8% of points spread evenly over
/// the layers' wedges to `exp` (measured by the test below).
const SQUEEZE_SLACK: f64 = 1e-12;

const fn squeeze_bounds(below: bool) -> [f64; LAYERS] {
    let mut b = [0.0; LAYERS];
    let mut i = 0;
    while i < LAYERS {
        let w = X[i] - X[i + 1];
        // Below the chord only where convex (right of 1), above only where concave.
        let curved = if below { X[i] > 1.0 } else { X[i + 1] < 1.0 };
        b[i] = SQUEEZE_SLACK + if curved { w * w / 8.0 } else { 0.0 };
        i += 1;
    }
    b
}

/// [`K`] and [`W`] at fixed addresses, for the SIMD sampler's table gathers (`crate::simd`).
#[cfg(target_arch = "x86_64")]
pub(crate) static K_TABLE: [u64; LAYERS] = K;
#[cfg(target_arch = "x86_64")]
pub(crate) static W_TABLE: [f64; LAYERS] = W;
#[cfg(target_arch = "x86_64")]
pub(crate) static F_TABLE: [f64; LAYERS + 1] = F;
/// The squeeze's tables ([`under_curve`]), for the SIMD sampler's wedge test.
#[cfg(target_arch = "x86_64")]
pub(crate) static X_TABLE: [f64; LAYERS + 1] = X;
#[cfg(target_arch = "x86_64")]
pub(crate) static S_TABLE: [f64; LAYERS] = S;
#[cfg(target_arch = "x86_64")]
pub(crate) static SQUEEZE_LO_TABLE: [f64; LAYERS] = SQUEEZE_LO;
#[cfg(target_arch = "x86_64")]
pub(crate) static SQUEEZE_HI_TABLE: [f64; LAYERS] = SQUEEZE_HI;
/// The layer-index mask, for the SIMD sampler.
#[cfg(target_arch = "x86_64")]
pub(crate) const LAYER_MASK: u64 = MASK;

/// Draws one standard normal from `rng`.
#[inline(always)]
pub fn sample<G: Rng + ?Sized>(rng: &mut G) -> f64 {
    let bits = rng.next_u64();
    let i = (bits & MASK) as usize;
    // Arithmetic shift: a signed integer in [−2⁵², 2⁵²) from the high 53 bits.
    let j = (bits as i64) >> 11;
    if j.unsigned_abs() < K[i] {
        return j as f64 * W[i];
    }
    sample_edge(rng, bits)
}

/// The rare case: the first draw `bits` fell outside the layer's inner rectangle.
#[cold]
#[inline(never)]
fn sample_edge<G: Rng + ?Sized>(rng: &mut G, mut bits: u64) -> f64 {
    loop {
        let i = (bits & MASK) as usize;
        let j = (bits as i64) >> 11;
        let x = j as f64 * W[i];
        if j.unsigned_abs() < K[i] {
            return x;
        }
        if i == 0 {
            return tail(rng, j < 0);
        }
        // Wedge: a uniform height in layer i's band; accept when it lies under the curve.
        let y = F[i] + uniform(rng) * (F[i + 1] - F[i]);
        if under_curve(i, x, y) {
            return x;
        }
        bits = rng.next_u64();
    }
}

/// The wedge test of layer `i ≥ 1`: whether `y < exp(−x·x/2)`, with the same answer as that
/// expression (so the streams are those of the plain test), but `exp` computed only when the
/// point lies within [`SQUEEZE_SLACK`] of the curve's bounds around the layer's chord: for
/// 1024 layers the chord decides nearly every test, and `exp` was 20% of the time spent on
/// wedges.
#[inline]
fn under_curve(i: usize, x: f64, y: f64) -> bool {
    let chord = F[i] + (X[i] - x.abs()) * S[i];
    if y < chord - SQUEEZE_LO[i] {
        return true;
    }
    if y > chord + SQUEEZE_HI[i] {
        return false;
    }
    y < (-0.5 * x * x).exp()
}

/// Marsaglia's method for the tail beyond `R`: `R + a` with `a ~ Exp(R)` accepted with
/// probability `exp(−a²/2)`. A draw from the normal conditioned on `|Z| > R`, with the given
/// sign (public so that tests can check it on its own).
pub fn tail<G: Rng + ?Sized>(rng: &mut G, negative: bool) -> f64 {
    loop {
        let a = -uniform_open0(rng).ln() / R;
        let b = -uniform_open0(rng).ln();
        if 2.0 * b > a * a {
            return if negative { -(R + a) } else { R + a };
        }
    }
}

#[inline]
fn uniform<G: Rng + ?Sized>(rng: &mut G) -> f64 {
    (rng.next_u64() >> 11) as f64 * TWO_M53
}

#[inline]
fn uniform_open0<G: Rng + ?Sized>(rng: &mut G) -> f64 {
    ((rng.next_u64() >> 11) + 1) as f64 * TWO_M53
}

/// The layer tables, for tests: `(X, F)`, one entry per layer edge.
pub fn tables() -> (&'static [f64; LAYERS + 1], &'static [f64; LAYERS + 1]) {
    (&X, &F)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::path_rng;

    /// The squeeze must never change the wedge test's answer: on random points of every
    /// layer's wedge, and on the points where the squeeze's decisions are closest to wrong
    /// (just inside its two bounds, where a too small curvature term would fail).
    #[test]
    fn squeezed_wedge_test_agrees_with_the_plain_test() {
        let mut rng = path_rng(41, 0);
        let plain = |x: f64, y: f64| y < (-0.5 * x * x).exp();
        let mut decided = 0;
        let mut tests = 0;
        for i in 1..LAYERS {
            for _ in 0..400 {
                let a = X[i + 1] + uniform(&mut rng) * (X[i] - X[i + 1]);
                let x = if rng.next_u64() & 1 == 1 { -a } else { a };
                let chord = F[i] + (X[i] - a) * S[i];
                let edges = [chord - SQUEEZE_LO[i], chord + SQUEEZE_HI[i]];
                let random = F[i] + uniform(&mut rng) * (F[i + 1] - F[i]);
                for y in [random, edges[0].next_down(), edges[1].next_up()] {
                    assert_eq!(under_curve(i, x, y), plain(x, y), "layer {i}, x {x}, y {y}");
                }
                tests += 1;
                decided += usize::from(!(edges[0]..=edges[1]).contains(&random));
            }
        }
        // The point of the squeeze: most wedge tests need no exponential.
        assert!(decided as f64 > 0.8 * tests as f64, "{decided} of {tests}");
    }
}
