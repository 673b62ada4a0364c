//! Eight paths' normals at a time: the generators and the ziggurat's fast path in AVX-512.
//!
//! [`NormalLanes`] holds the xoshiro256++ states of [`LANES`] consecutive paths as
//! structure-of-arrays (word `w` of every lane side by side, one 512-bit register per word) and
//! fills rows of normals, one per lane per row. Each lane draws exactly the numbers that
//! [`crate::rng::standard_normal`] on its own [`PathRng`] would, in the same order, bit for bit:
//! the generator step is the same integer arithmetic, and the ziggurat's fast path (layer
//! index, signed 53-bit integer, comparison with `K[i]`, conversion, multiplication by `W[i]`)
//! is exact integer work followed by the same two correctly rounded operations. The 0.4% of
//! draws that miss the inner rectangle are finished by the scalar code for that lane alone,
//! from that lane's own generator, which then goes back into its register. A test compares
//! both kernels on many paths and seeds (`tests/simd.rs`).
//!
//! The kernel is chosen at run time ([`Kernel::detect`]): AVX-512 (F and DQ: 64-bit rotates,
//! shifts, comparisons and `i64 → f64` conversion) where the CPU has it, otherwise the scalar
//! code on the same layout. Nothing here is generic, so it is compiled once in the SDK and not
//! again in every generated crate.
//!
//! This is the SDK's only `unsafe` code (docs/security.md): the intrinsics' loads, stores and
//! table gathers, and the call of the kernel compiled for AVX-512 after the CPU was checked.

use crate::rng::{PathRng, path_rng};
use crate::ziggurat;

/// Paths per [`NormalLanes`]: one 512-bit register holds one state word of each.
pub const LANES: usize = 8;

/// One row of normals: the next normal of each lane.
pub type Row = [f64; LANES];

/// Which code draws the normals; both give the same numbers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kernel {
    /// Portable code: the [`LANES`] generators interleaved, one draw each per row.
    Scalar,
    /// AVX-512 F + DQ (x86-64 only; [`Kernel::detect`] chooses it only where the CPU has it).
    Avx512,
}

impl Kernel {
    /// The fastest kernel this CPU runs.
    pub fn detect() -> Kernel {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx512f")
            && std::arch::is_x86_feature_detected!("avx512dq")
        {
            return Kernel::Avx512;
        }
        Kernel::Scalar
    }

    /// `self` if this CPU runs it, otherwise [`Kernel::Scalar`] (so a requested kernel is safe).
    pub fn or_scalar(self) -> Kernel {
        match (self, Kernel::detect()) {
            (Kernel::Avx512, Kernel::Avx512) => Kernel::Avx512,
            _ => Kernel::Scalar,
        }
    }

    /// The name reported by benchmarks.
    pub const fn label(&self) -> &'static str {
        match self {
            Kernel::Scalar => "scalar",
            Kernel::Avx512 => "avx512",
        }
    }
}

/// The generators of [`LANES`] paths, structure-of-arrays, and the kernel that advances them.
#[derive(Clone, Debug)]
pub struct NormalLanes {
    // s[w][l]: word w of lane l's xoshiro256++ state.
    s: [[u64; LANES]; 4],
    kernel: Kernel,
}

impl NormalLanes {
    /// The generators of paths `first, …, first + LANES − 1` of a run seeded with `seed`
    /// (each `path_rng(seed, p)`), drawn with `kernel` where the CPU runs it, else scalar.
    pub fn new(seed: u64, first: u64, kernel: Kernel) -> Self {
        let mut s = [[0; LANES]; 4];
        for l in 0..LANES {
            let words = path_rng(seed, first + l as u64).words();
            for (sw, w) in s.iter_mut().zip(words) {
                sw[l] = w;
            }
        }
        NormalLanes {
            s,
            kernel: kernel.or_scalar(),
        }
    }

    /// The kernel in use.
    pub fn kernel(&self) -> Kernel {
        self.kernel
    }

    /// Lane `l`'s generator in its current state.
    pub fn lane(&self, l: usize) -> PathRng {
        PathRng::from_words(self.s.map(|w| w[l]))
    }

    /// Fills `rows` in order: `rows[k][l]` is lane `l`'s next standard normal.
    pub fn fill(&mut self, rows: &mut [Row]) {
        match self.kernel {
            Kernel::Scalar => fill_scalar(&mut self.s, rows),
            #[cfg(target_arch = "x86_64")]
            // SAFETY: `NormalLanes::new` keeps `Avx512` only after `Kernel::detect` found
            // AVX-512 F and DQ on this CPU.
            Kernel::Avx512 => unsafe { avx512::fill(&mut self.s, rows) },
            #[cfg(not(target_arch = "x86_64"))]
            Kernel::Avx512 => unreachable!("or_scalar never keeps Avx512 off x86-64"),
        }
    }
}

/// Runs `f` compiled for `kernel`'s instruction set: with [`Kernel::Avx512`] the code that `f`
/// inlines (the engine's step loop) may use AVX-512 instructions. A kernel this CPU lacks runs
/// `f` as it is ([`Kernel::or_scalar`]).
///
/// Generic, so compiled in each generated crate: a second copy of the step loop only.
#[inline(always)]
pub fn with_kernel<R>(kernel: Kernel, f: impl FnOnce() -> R) -> R {
    match kernel.or_scalar() {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: `or_scalar` returned `Avx512`, so this CPU has AVX-512 F and DQ.
        Kernel::Avx512 => unsafe { avx512::call(f) },
        _ => f(),
    }
}

/// The portable kernel: [`LANES`] independent dependency chains, interleaved.
fn fill_scalar(s: &mut [[u64; LANES]; 4], rows: &mut [Row]) {
    let mut rngs: [PathRng; LANES] = std::array::from_fn(|l| PathRng::from_words(s.map(|w| w[l])));
    for row in rows.iter_mut() {
        for (z, rng) in row.iter_mut().zip(rngs.iter_mut()) {
            *z = ziggurat::sample(rng);
        }
    }
    put_lanes(s, &rngs);
}

fn put_lanes(s: &mut [[u64; LANES]; 4], rngs: &[PathRng; LANES]) {
    for (l, rng) in rngs.iter().enumerate() {
        for (sw, w) in s.iter_mut().zip(rng.words()) {
            sw[l] = w;
        }
    }
}

/// Finishes the rows' draws that missed the inner rectangle with the scalar code, lane by lane.
/// `bits` are the lanes' first draws, `miss` has bit `l` set for each lane to finish.
#[cfg(target_arch = "x86_64")]
#[cold]
#[inline(never)]
fn finish_misses(s: &mut [[u64; LANES]; 4], bits: &[u64; LANES], miss: u8, row: &mut Row) {
    let mut rest = miss;
    while rest != 0 {
        let l = rest.trailing_zeros() as usize;
        rest &= rest - 1;
        let mut rng = PathRng::from_words([s[0][l], s[1][l], s[2][l], s[3][l]]);
        row[l] = ziggurat::finish_edge(&mut rng, bits[l]);
        let [w0, w1, w2, w3] = rng.words();
        (s[0][l], s[1][l], s[2][l], s[3][l]) = (w0, w1, w2, w3);
    }
}

#[cfg(target_arch = "x86_64")]
mod avx512 {
    use std::arch::x86_64::*;

    use super::{LANES, Row, finish_misses};
    use crate::ziggurat::{K_TABLE, LAYER_MASK, W_TABLE};

    /// One row per iteration: xoshiro256++ on eight lanes, then the ziggurat's fast path with
    /// the layer tables gathered.
    ///
    /// # Safety
    /// The CPU must support AVX-512 F and DQ.
    #[target_feature(enable = "avx512f,avx512dq")]
    pub(super) unsafe fn fill(s: &mut [[u64; LANES]; 4], rows: &mut [Row]) {
        // SAFETY (all loads and stores below): each `[u64; 8]` / `[f64; 8]` is exactly 64
        // bytes, valid for reads and writes through the `&mut` it comes from; the unaligned
        // forms need no alignment.
        let [mut s0, mut s1, mut s2, mut s3] = unsafe { load(s) };
        let mask = _mm512_set1_epi64(LAYER_MASK as i64);
        for row in rows.iter_mut() {
            let bits = _mm512_add_epi64(_mm512_rol_epi64::<23>(_mm512_add_epi64(s0, s3)), s0);
            // The scalar update `s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3; s2 ^= t; s3 = rotl(s3, 45)`
            // with the three-way XORs as single instructions (truth table 0x96 = a ^ b ^ c).
            let t = _mm512_slli_epi64::<17>(s1);
            let s3x = _mm512_xor_si512(s3, s1);
            (s0, s1, s2, s3) = (
                _mm512_ternarylogic_epi64::<0x96>(s0, s3, s1),
                _mm512_ternarylogic_epi64::<0x96>(s1, s2, s0),
                _mm512_ternarylogic_epi64::<0x96>(s2, s0, t),
                _mm512_rol_epi64::<45>(s3x),
            );

            let layer = _mm512_and_si512(bits, mask);
            let j = _mm512_srai_epi64::<11>(bits);
            // SAFETY: every index is `bits & LAYER_MASK < LAYERS`, the tables' length.
            let (k, w) = unsafe {
                (
                    _mm512_i64gather_epi64::<8>(layer, K_TABLE.as_ptr().cast()),
                    _mm512_i64gather_pd::<8>(layer, W_TABLE.as_ptr().cast()),
                )
            };
            let inside = _mm512_cmplt_epu64_mask(_mm512_abs_epi64(j), k);
            let x = _mm512_mul_pd(_mm512_cvtepi64_pd(j), w);
            // SAFETY: see above.
            unsafe { _mm512_storeu_pd(row.as_mut_ptr(), x) };
            if inside != 0xff {
                let mut first = [0u64; LANES];
                // SAFETY: see above.
                unsafe {
                    _mm512_storeu_si512(first.as_mut_ptr().cast(), bits);
                    store(s, [s0, s1, s2, s3]);
                }
                finish_misses(s, &first, !inside, row);
                // SAFETY: see above.
                [s0, s1, s2, s3] = unsafe { load(s) };
            }
        }
        // SAFETY: see above.
        unsafe { store(s, [s0, s1, s2, s3]) };
    }

    /// `f`, with AVX-512 enabled for the code it inlines.
    ///
    /// # Safety
    /// The CPU must support AVX-512 F and DQ.
    #[target_feature(enable = "avx512f,avx512dq")]
    pub(super) unsafe fn call<R>(f: impl FnOnce() -> R) -> R {
        f()
    }

    /// # Safety
    /// The CPU must support AVX-512 F.
    #[inline]
    #[target_feature(enable = "avx512f")]
    unsafe fn load(s: &[[u64; LANES]; 4]) -> [__m512i; 4] {
        // SAFETY: each `s[w]` is 64 readable bytes.
        unsafe {
            [
                _mm512_loadu_si512(s[0].as_ptr().cast()),
                _mm512_loadu_si512(s[1].as_ptr().cast()),
                _mm512_loadu_si512(s[2].as_ptr().cast()),
                _mm512_loadu_si512(s[3].as_ptr().cast()),
            ]
        }
    }

    /// # Safety
    /// The CPU must support AVX-512 F.
    #[inline]
    #[target_feature(enable = "avx512f")]
    unsafe fn store(s: &mut [[u64; LANES]; 4], v: [__m512i; 4]) {
        for (w, v) in s.iter_mut().zip(v) {
            // SAFETY: `w` is 64 writable bytes.
            unsafe { _mm512_storeu_si512(w.as_mut_ptr().cast(), v) };
        }
    }
}
