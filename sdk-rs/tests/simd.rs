//! The batch sampler draws, lane by lane, exactly the normals of the scalar sampler.

use architect_sdk::rng::{path_rng, standard_normal};
use architect_sdk::simd::{Kernel, LANES, NormalLanes, Row};

/// `rows` rows from `kernel`, filled in chunks of the given sizes (cycled).
fn draw(kernel: Kernel, seed: u64, first: u64, rows: usize, chunks: &[usize]) -> Vec<Row> {
    let mut lanes = NormalLanes::new(seed, first, kernel);
    let mut out = vec![[0.0; LANES]; rows];
    let mut done = 0;
    for &c in chunks.iter().cycle() {
        let end = (done + c).min(rows);
        lanes.fill(&mut out[done..end]);
        done = end;
        if done == rows {
            break;
        }
    }
    out
}

/// Every lane's column equals its own scalar stream, bit for bit, and the lanes' generators
/// end in the scalar generators' states.
fn check_kernel(kernel: Kernel) {
    let rows = 20_000;
    let mut misses = 0;
    let mut tails = 0;
    for seed in [0u64, 1, 7, 42, 0xdead_beef, u64::MAX] {
        for first in [0u64, 8, 1016, 123_456] {
            let out = draw(kernel, seed, first, rows, &[1, 7, 64, 1000, 3]);
            for l in 0..LANES {
                let mut rng = path_rng(seed, first + l as u64);
                for (k, row) in out.iter().enumerate() {
                    let z = standard_normal(&mut rng);
                    assert_eq!(
                        row[l].to_bits(),
                        z.to_bits(),
                        "{kernel:?}: seed {seed}, path {}, draw {k}",
                        first + l as u64
                    );
                    misses += usize::from(z.abs() > 3.0);
                    tails += usize::from(z.abs() > 4.04);
                }
            }
        }
    }
    // The comparison must have covered the slow paths: draws beyond 3 come from wedges of the
    // outer layers or the tail (P(|Z| > 3) = 0.27%, P(|Z| > R) ≈ 5.4e-5).
    assert!(
        misses > 1000 && tails > 10,
        "{misses} beyond 3, {tails} tails"
    );
}

#[test]
fn scalar_kernel_draws_the_scalar_streams() {
    check_kernel(Kernel::Scalar);
}

#[test]
fn detected_kernel_draws_the_scalar_streams() {
    // On a CPU without AVX-512 this is the scalar kernel again (Kernel::or_scalar).
    check_kernel(Kernel::Avx512);
}

#[test]
fn lanes_continue_their_streams_after_a_fill() {
    for kernel in [Kernel::Scalar, Kernel::Avx512] {
        let mut lanes = NormalLanes::new(9, 16, kernel);
        let mut out = vec![[0.0; LANES]; 777];
        lanes.fill(&mut out);
        for l in 0..LANES {
            let mut rng = path_rng(9, 16 + l as u64);
            for _ in 0..777 {
                standard_normal(&mut rng);
            }
            assert_eq!(lanes.lane(l), rng, "{kernel:?} lane {l}");
        }
    }
}

#[test]
fn only_a_supported_kernel_is_used() {
    let lanes = NormalLanes::new(0, 0, Kernel::Avx512);
    assert_eq!(lanes.kernel(), Kernel::Avx512.or_scalar());
    assert_eq!(
        lanes.kernel() == Kernel::Avx512,
        Kernel::detect() == Kernel::Avx512
    );
    assert_eq!(
        NormalLanes::new(0, 0, Kernel::Scalar).kernel(),
        Kernel::Scalar
    );
}
