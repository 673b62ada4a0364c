//! Eight paths' normals at a time: the generators and the ziggurat's fast path in AVX-512.
//!
//! [`NormalLanes`] holds the xoshiro256++ states of [`LANES`] consecutive paths as
//! structure-of-arrays (word `w` of every lane side by side, one 512-bit register per word) and
//! fills rows of normals, one per lane per row. Each lane draws exactly the numbers that
//! [`crate::rng::standard_normal`] on its own [`PathRng`] would, in the same order, bit for bit:
//! the generator step is the same integer arithmetic, and the ziggurat's fast path (layer
//! index, signed 53-bit integer, comparison with `K[i]`, conversion, multiplication by `W[i]`)
//! is exact integer work followed by the same two correctly rounded operations. The 0.4% of
//! draws that miss the inner rectangle are finished as the scalar code does: the wedge test on
//! the missed lanes together (masked generator steps, the same floating-point operations in the
//! same order, the same scalar `exp` per lane), the rare tail draws by the scalar code for that
//! lane from that lane's own generator. A test compares both kernels on many paths and seeds,
//! wedges and tails included (`tests/simd.rs`).
//!
//! The kernel is chosen at run time ([`Kernel::detect`]): AVX-512 (F and DQ: 64-bit rotates,
//! shifts, comparisons and `i64 → f64` conversion) where the CPU has it, otherwise the scalar
//! code on the same layout. Nothing here is generic, so it is compiled once in the SDK and not
//! again in every generated crate.
//!
//! This is the SDK's only `unsafe` code (docs/security.md): the intrinsics' loads, stores and
//! table gathers, and the calls of code compiled for AVX-512 after the CPU was checked.

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
        let kernel = kernel.or_scalar();
        // LLVM vectorises the seeding across lanes; for baseline x86-64 it emulates the 64-bit
        // multiplications with three 32-bit ones each, which made seeding 6% of a GBM run of
        // 200 steps. Compiled for AVX-512 (`vpmullq`) where the sampler runs it.
        let s = with_kernel(
            kernel,
            #[inline(always)]
            || seed_lanes(seed, first),
        );
        NormalLanes { s, kernel }
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

/// The generator states of paths `first, …, first + LANES − 1`, structure-of-arrays.
#[inline(always)]
fn seed_lanes(seed: u64, first: u64) -> [[u64; LANES]; 4] {
    let mut s = [[0; LANES]; 4];
    for l in 0..LANES {
        let words = path_rng(seed, first + l as u64).words();
        for (sw, w) in s.iter_mut().zip(words) {
            sw[l] = w;
        }
    }
    s
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

#[cfg(target_arch = "x86_64")]
mod avx512 {
    use std::arch::x86_64::*;

    use super::{LANES, Row};
    use crate::rng::PathRng;
    use crate::ziggurat::{
        self, F_TABLE, K_TABLE, LAYER_MASK, S_TABLE, SQUEEZE_HI_TABLE, SQUEEZE_LO_TABLE, W_TABLE,
        X_TABLE,
    };

    /// Row by row: xoshiro256++ on eight lanes, then the ziggurat's fast path with the layer
    /// tables gathered.
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
        // One row: written once, expanded four times per iteration below.
        macro_rules! one_row {
            ($row:expr) => {{
                let row: &mut Row = $row;
                let bits = _mm512_add_epi64(_mm512_rol_epi64::<23>(_mm512_add_epi64(s0, s3)), s0);
                // The scalar update `s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3; s2 ^= t;
                // s3 = rotl(s3, 45)` with the three-way XORs as single instructions (truth
                // table 0x96 = a ^ b ^ c). The same as `next`, written out on four locals:
                // calling `next` on an array whose address `edges` also takes kept the state
                // in memory (OU 9% slower).
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
                    let mut st = [s0, s1, s2, s3];
                    // SAFETY: `edges` needs the same features as this function.
                    unsafe { edges(&mut st, bits, x, !inside, row) };
                    [s0, s1, s2, s3] = st;
                }
            }};
        }
        // Four rows per iteration: with one, the rotation of the four state words through the
        // registers cost three register moves per row (OU 1.5% slower, 7 alternated runs).
        let mut quads = rows.chunks_exact_mut(4);
        for quad in &mut quads {
            let [a, b, c, d] = quad else {
                unreachable!("chunks_exact_mut(4) gives four rows")
            };
            one_row!(a);
            one_row!(b);
            one_row!(c);
            one_row!(d);
        }
        for row in quads.into_remainder() {
            one_row!(row);
        }
        // SAFETY: see above.
        unsafe { store(s, [s0, s1, s2, s3]) };
    }

    /// The next 64 bits of every lane, advancing the generators (xoshiro256++, as in `fill`).
    ///
    /// # Safety
    /// The CPU must support AVX-512 F.
    #[inline]
    #[target_feature(enable = "avx512f")]
    unsafe fn next(st: &mut [__m512i; 4]) -> __m512i {
        let [s0, s1, s2, s3] = *st;
        let bits = _mm512_add_epi64(_mm512_rol_epi64::<23>(_mm512_add_epi64(s0, s3)), s0);
        let t = _mm512_slli_epi64::<17>(s1);
        *st = [
            _mm512_ternarylogic_epi64::<0x96>(s0, s3, s1),
            _mm512_ternarylogic_epi64::<0x96>(s1, s2, s0),
            _mm512_ternarylogic_epi64::<0x96>(s2, s0, t),
            _mm512_rol_epi64::<45>(_mm512_xor_si512(s3, s1)),
        ];
        bits
    }

    /// The lanes in `miss` drew `bits` (already taken from `st`) outside the inner rectangle:
    /// finish them as `ziggurat::sample_edge` does, lane by lane, with the same operations in
    /// the same order, and write their normals into `row`. Wedge tests run on all missed lanes
    /// at once (the exponential by the same scalar `exp` per lane); the rare tail draws go to
    /// the scalar code for that lane.
    ///
    /// # Safety
    /// The CPU must support AVX-512 F and DQ.
    #[cold]
    #[inline(never)]
    #[target_feature(enable = "avx512f,avx512dq")]
    unsafe fn edges(
        st: &mut [__m512i; 4],
        mut bits: __m512i,
        mut x: __m512d,
        miss: __mmask8,
        row: &mut Row,
    ) {
        let mask = _mm512_set1_epi64(LAYER_MASK as i64);
        let zero = _mm512_setzero_si512();
        let mut pending = miss;
        loop {
            // Here `bits` is each pending lane's latest draw, `x` its value, outside the rectangle.
            let layer = _mm512_and_si512(bits, mask);
            let tail = pending & _mm512_cmpeq_epi64_mask(layer, zero);
            if tail != 0 {
                let j = _mm512_srai_epi64::<11>(bits);
                // SAFETY: `tails` needs AVX-512 F, which this function requires too.
                unsafe { tails(st, j, tail, row) };
                pending &= !tail;
            }
            if pending == 0 {
                return;
            }
            // Wedge: y = F[i] + u (F[i+1] − F[i]) with u the lane's next uniform draw.
            let mut advanced = *st;
            // SAFETY: `next` needs AVX-512 F, which this function requires too.
            let ubits = unsafe { next(&mut advanced) };
            for (w, a) in st.iter_mut().zip(advanced) {
                *w = _mm512_mask_mov_epi64(*w, pending, a);
            }
            let u = _mm512_mul_pd(
                _mm512_cvtepi64_pd(_mm512_srli_epi64::<11>(ubits)),
                _mm512_set1_pd(1.0 / (1u64 << 53) as f64),
            );
            let next_layer = _mm512_add_epi64(layer, _mm512_set1_epi64(1));
            // SAFETY: indices `i, i + 1 ≤ LAYERS`, within `F`'s `LAYERS + 1` entries.
            let (f0, f1) = unsafe {
                let fp = F_TABLE.as_ptr().cast();
                (
                    _mm512_mask_i64gather_pd::<8>(_mm512_setzero_pd(), pending, layer, fp),
                    _mm512_mask_i64gather_pd::<8>(_mm512_setzero_pd(), pending, next_layer, fp),
                )
            };
            let y = _mm512_add_pd(f0, _mm512_mul_pd(u, _mm512_sub_pd(f1, f0)));
            // SAFETY: `edges` needs the same features as this function.
            let accept = pending & unsafe { under_curve(pending, layer, f0, x, y) };
            // SAFETY: `row` is 64 writable bytes.
            unsafe { _mm512_mask_storeu_pd(row.as_mut_ptr(), accept, x) };
            pending &= !accept;
            if pending == 0 {
                return;
            }
            // Rejected: a new first draw, with the fast-path test again.
            let mut advanced = *st;
            // SAFETY: `next` needs AVX-512 F, which this function requires too.
            let fresh = unsafe { next(&mut advanced) };
            for (w, a) in st.iter_mut().zip(advanced) {
                *w = _mm512_mask_mov_epi64(*w, pending, a);
            }
            bits = _mm512_mask_mov_epi64(bits, pending, fresh);
            let layer = _mm512_and_si512(bits, mask);
            let j = _mm512_srai_epi64::<11>(bits);
            // SAFETY: indices below `LAYERS`, as in `fill`.
            let (k, w) = unsafe {
                (
                    _mm512_i64gather_epi64::<8>(layer, K_TABLE.as_ptr().cast()),
                    _mm512_i64gather_pd::<8>(layer, W_TABLE.as_ptr().cast()),
                )
            };
            x = _mm512_mul_pd(_mm512_cvtepi64_pd(j), w);
            let inside = pending & _mm512_cmplt_epu64_mask(_mm512_abs_epi64(j), k);
            // SAFETY: `row` is 64 writable bytes.
            unsafe { _mm512_mask_storeu_pd(row.as_mut_ptr(), inside, x) };
            pending &= !inside;
            if pending == 0 {
                return;
            }
        }
    }

    /// The lanes of `lanes` whose wedge point `(x, y)` in layer `layer` (`f0 = F[layer]`) lies
    /// under the curve: `ziggurat::under_curve` on each, with the same operations in the same
    /// order (the chord squeeze, then the same scalar `exp` for the lanes it leaves open).
    ///
    /// # Safety
    /// The CPU must support AVX-512 F and DQ.
    #[inline]
    #[target_feature(enable = "avx512f,avx512dq")]
    unsafe fn under_curve(
        lanes: __mmask8,
        layer: __m512i,
        f0: __m512d,
        x: __m512d,
        y: __m512d,
    ) -> __mmask8 {
        let zero = _mm512_setzero_pd();
        // SAFETY: indices `i < LAYERS`, within every table's length.
        let (xi, slope, lo, hi) = unsafe {
            (
                _mm512_mask_i64gather_pd::<8>(zero, lanes, layer, X_TABLE.as_ptr().cast()),
                _mm512_mask_i64gather_pd::<8>(zero, lanes, layer, S_TABLE.as_ptr().cast()),
                _mm512_mask_i64gather_pd::<8>(zero, lanes, layer, SQUEEZE_LO_TABLE.as_ptr().cast()),
                _mm512_mask_i64gather_pd::<8>(zero, lanes, layer, SQUEEZE_HI_TABLE.as_ptr().cast()),
            )
        };
        let chord = _mm512_add_pd(
            f0,
            _mm512_mul_pd(_mm512_sub_pd(xi, _mm512_abs_pd(x)), slope),
        );
        let below = lanes & _mm512_cmp_pd_mask::<_CMP_LT_OQ>(y, _mm512_sub_pd(chord, lo));
        let above = lanes & _mm512_cmp_pd_mask::<_CMP_GT_OQ>(y, _mm512_add_pd(chord, hi));
        let open = lanes & !below & !above;
        if open == 0 {
            return below;
        }
        let mut e = [0.0; LANES];
        let arg = _mm512_mul_pd(_mm512_mul_pd(_mm512_set1_pd(-0.5), x), x);
        // SAFETY: `e` is 64 writable and readable bytes.
        unsafe { _mm512_storeu_pd(e.as_mut_ptr(), arg) };
        for_lanes(open, |l| e[l] = e[l].exp());
        // SAFETY: as above.
        let e = unsafe { _mm512_loadu_pd(e.as_ptr()) };
        below | (open & _mm512_cmp_pd_mask::<_CMP_LT_OQ>(y, e))
    }

    /// Marsaglia's tail for the lanes in `tail` (signs from `j`), by the scalar code.
    ///
    /// # Safety
    /// The CPU must support AVX-512 F.
    #[cold]
    #[inline(never)]
    #[target_feature(enable = "avx512f")]
    unsafe fn tails(st: &mut [__m512i; 4], j: __m512i, tail: __mmask8, row: &mut Row) {
        let mut s = [[0u64; LANES]; 4];
        let mut js = [0i64; LANES];
        // SAFETY: 64-byte arrays, as in `fill`.
        unsafe {
            store(&mut s, *st);
            _mm512_storeu_si512(js.as_mut_ptr().cast(), j);
        }
        for_lanes(tail, |l| {
            let mut rng = PathRng::from_words([s[0][l], s[1][l], s[2][l], s[3][l]]);
            row[l] = ziggurat::tail(&mut rng, js[l] < 0);
            let [w0, w1, w2, w3] = rng.words();
            (s[0][l], s[1][l], s[2][l], s[3][l]) = (w0, w1, w2, w3);
        });
        // SAFETY: as above.
        *st = unsafe { load(&s) };
    }

    /// Calls `f` with the index of each set bit of `lanes`, lowest first.
    #[inline]
    fn for_lanes(lanes: __mmask8, mut f: impl FnMut(usize)) {
        let mut rest = lanes;
        while rest != 0 {
            f(rest.trailing_zeros() as usize);
            rest &= rest - 1;
        }
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
