//! Per-path random number streams.
//!
//! Path `p` of a run with seed `s` owns a `Xoshiro256PlusPlus` generator seeded from a
//! SplitMix64 mix of `(s, p)`, so any path can be reproduced on its own, in any order, on any
//! thread. Each step draws its `M` normals in order `z_0, …, z_{M-1}`.

use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, StandardNormal};
pub use rand_xoshiro::Xoshiro256PlusPlus;

const GOLDEN_GAMMA: u64 = 0x9e37_79b9_7f4a_7c15;

/// The SplitMix64 output function (a bijection on `u64`).
#[inline]
pub fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The generator of path `path` in a run seeded with `seed`.
///
/// The key `mix64(mix64(seed + γ) ^ path)` is injective in `path` for a fixed seed, so the paths
/// of one run never share a key; the generator's 256-bit state is then filled by SplitMix64
/// from that key.
#[inline]
pub fn path_rng(seed: u64, path: u64) -> Xoshiro256PlusPlus {
    let key = mix64(mix64(seed.wrapping_add(GOLDEN_GAMMA)) ^ path);
    Xoshiro256PlusPlus::seed_from_u64(key)
}

/// One standard normal draw (ziggurat, `rand_distr::StandardNormal`).
#[inline]
pub fn standard_normal<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    StandardNormal.sample(rng)
}

/// The first `n` standard normals that path `path` of a run seeded with `seed` draws.
pub fn standard_normals(seed: u64, path: u64, n: usize) -> Vec<f64> {
    let mut rng = path_rng(seed, path);
    (0..n).map(|_| standard_normal(&mut rng)).collect()
}
