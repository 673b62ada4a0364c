//! Per-path random number streams and the normal sampler.
//!
//! Path `p` of a run with seed `s` owns a xoshiro256++ generator ([`PathRng`]) seeded from a
//! SplitMix64 mix of `(s, p)`, so any path can be reproduced on its own, in any order, on any
//! thread, and in any batch of interleaved paths. Each step draws its `M` normals in order
//! `z_0, …, z_{M-1}` with the ziggurat sampler [`standard_normal`].
//!
//! [`PathRng`] produces exactly the stream of `rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64`
//! (a test checks this); it is implemented here so that the engine can keep several generators
//! in registers side by side and so that its state update is fully inlined.

use std::convert::Infallible;

use rand::{Rng, TryRng};

use crate::ziggurat;

const GOLDEN_GAMMA: u64 = 0x9e37_79b9_7f4a_7c15;

/// The SplitMix64 output function (a bijection on `u64`).
#[inline]
pub fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The xoshiro256++ generator of Blackman and Vigna (period 2²⁵⁶ − 1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PathRng {
    s: [u64; 4],
}

impl PathRng {
    /// The generator whose 256-bit state is filled by SplitMix64 started at `key`
    /// (the same state as `Xoshiro256PlusPlus::seed_from_u64(key)`).
    #[inline]
    pub fn from_key(key: u64) -> Self {
        let s: [u64; 4] = std::array::from_fn(|k| {
            mix64(key.wrapping_add((k as u64 + 1).wrapping_mul(GOLDEN_GAMMA)))
        });
        // SplitMix64 never yields four zero words in a row, so the state is never all zero.
        PathRng { s }
    }

    /// The generator with the given 256-bit state (not all zero); used by the SIMD lanes.
    #[inline(always)]
    pub(crate) fn from_words(s: [u64; 4]) -> Self {
        PathRng { s }
    }

    /// The 256-bit state.
    #[inline(always)]
    pub(crate) fn words(&self) -> [u64; 4] {
        self.s
    }

    /// The next 64 random bits.
    #[inline(always)]
    pub fn next_bits(&mut self) -> u64 {
        let s = &mut self.s;
        let result = s[0].wrapping_add(s[3]).rotate_left(23).wrapping_add(s[0]);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        result
    }

    /// A uniform draw from `[0, 1)` with 53 random bits.
    #[inline]
    pub fn uniform(&mut self) -> f64 {
        (self.next_bits() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// A uniform draw from `(0, 1]` with 53 random bits (safe to take the logarithm of).
    #[inline]
    pub fn uniform_open0(&mut self) -> f64 {
        ((self.next_bits() >> 11) + 1) as f64 * (1.0 / (1u64 << 53) as f64)
    }
}

impl TryRng for PathRng {
    type Error = Infallible;

    #[inline]
    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        // The high bits, as rand_xoshiro does.
        Ok((self.next_bits() >> 32) as u32)
    }

    #[inline]
    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        Ok(self.next_bits())
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        for chunk in dst.chunks_mut(8) {
            let bytes = self.next_bits().to_le_bytes();
            chunk.copy_from_slice(&bytes[..chunk.len()]);
        }
        Ok(())
    }
}

/// The generator of path `path` in a run seeded with `seed`.
///
/// The key `mix64(mix64(seed + γ) ^ path)` is injective in `path` for a fixed seed, so the paths
/// of one run never share a key; the generator's 256-bit state is then filled by SplitMix64
/// from that key.
#[inline]
pub fn path_rng(seed: u64, path: u64) -> PathRng {
    PathRng::from_key(path_key(seed, path))
}

/// The generator of path `path`'s jumps (counts and sizes) in a run seeded with `seed`.
///
/// A second stream per path, keyed `mix64(path_key ^ JUMP_STREAM)`: jumps are drawn after each
/// step while the normals come in batches drawn ahead, so sharing one stream would tie the
/// numbers to the batch size. Jump-free models never create it.
#[inline]
pub fn jump_rng(seed: u64, path: u64) -> PathRng {
    PathRng::from_key(mix64(path_key(seed, path) ^ JUMP_STREAM))
}

/// Tag of the jump streams (the ASCII bytes of "jumps" and padding).
const JUMP_STREAM: u64 = 0x6a75_6d70_7300_0000;

/// The SplitMix64 key of path `path` in a run seeded with `seed`.
#[inline]
pub fn path_key(seed: u64, path: u64) -> u64 {
    mix64(mix64(seed.wrapping_add(GOLDEN_GAMMA)) ^ path)
}

/// One standard normal draw (1024-layer ziggurat, see [`ziggurat`]); one 64-bit draw in 99.6%
/// of calls.
#[inline(always)]
pub fn standard_normal<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    ziggurat::sample(rng)
}

/// The first `n` standard normals that path `path` of a run seeded with `seed` draws.
pub fn standard_normals(seed: u64, path: u64, n: usize) -> Vec<f64> {
    let mut rng = path_rng(seed, path);
    (0..n).map(|_| standard_normal(&mut rng)).collect()
}
