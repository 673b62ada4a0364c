//! Microbenchmarks of the SDK's hot paths: the generator, the normal sampler, one step of each
//! scheme, the exact transitions, and the whole engine on one thread.
//!
//! `cargo bench -p architect-sdk` (or `make bench-rs`); `-- normal` runs one group.
//! The side-by-side comparison with other libraries is `benches/compare.py` at the repository
//! root; these numbers explain where its time goes.

#[path = "../tests/common/mod.rs"]
mod common;

use std::hint::black_box;
use std::time::Duration;

use architect_sdk::exact::Transition;
use architect_sdk::rng::{PathRng, path_rng, standard_normal};
use architect_sdk::scheme::Stepper;
use architect_sdk::simd::{Kernel, LANES, NormalLanes};
use architect_sdk::{RunConfig, Scheme, Sde, Step, simulate};
use common::*;
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use rand::SeedableRng;
use rand_distr::{Distribution, StandardNormal};

const DRAWS: u64 = 4096;

fn rng(c: &mut Criterion) {
    let mut g = c.benchmark_group("rng");
    g.throughput(Throughput::Elements(DRAWS));
    g.bench_function("xoshiro256++ next_u64 (PathRng)", |b| {
        let mut rng = path_rng(1, 2);
        b.iter(|| {
            let mut acc = 0u64;
            for _ in 0..DRAWS {
                acc ^= rng.next_bits();
            }
            acc
        })
    });
    g.bench_function("xoshiro256++ next_u64 (rand_xoshiro)", |b| {
        use rand::Rng;
        let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(7);
        b.iter(|| {
            let mut acc = 0u64;
            for _ in 0..DRAWS {
                acc ^= rng.next_u64();
            }
            acc
        })
    });
    g.throughput(Throughput::Elements(1));
    g.bench_function("path_rng seeding", |b| {
        let mut p = 0u64;
        b.iter(|| {
            p += 1;
            path_rng(black_box(3), p)
        })
    });
    g.finish();
}

fn normal(c: &mut Criterion) {
    let mut g = c.benchmark_group("normal");
    g.throughput(Throughput::Elements(DRAWS));
    g.bench_function("ziggurat-1024 (architect), one stream", |b| {
        let mut rng = path_rng(1, 2);
        b.iter(|| {
            let mut acc = 0.0;
            for _ in 0..DRAWS {
                acc += standard_normal(&mut rng);
            }
            acc
        })
    });
    g.bench_function("ziggurat-1024 (architect), 4 interleaved streams", |b| {
        let mut rngs: [PathRng; 4] = std::array::from_fn(|l| path_rng(1, l as u64));
        b.iter(|| {
            let mut acc = [0.0; 4];
            for _ in 0..DRAWS / 4 {
                for (a, rng) in acc.iter_mut().zip(rngs.iter_mut()) {
                    *a += standard_normal(rng);
                }
            }
            acc
        })
    });
    for kernel in [Kernel::Scalar, Kernel::Avx512.or_scalar()] {
        let name = format!(
            "ziggurat-1024 (architect), 8 lanes, {} kernel",
            kernel.label()
        );
        g.bench_function(name, |b| {
            let mut lanes = NormalLanes::new(1, 0, kernel);
            let mut rows = vec![[0.0; LANES]; DRAWS as usize / LANES];
            b.iter(|| {
                lanes.fill(&mut rows);
                rows[rows.len() - 1]
            })
        });
    }
    g.bench_function(
        "rand_distr StandardNormal + rand_xoshiro, one stream",
        |b| {
            let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(7);
            b.iter(|| {
                let mut acc = 0.0;
                for _ in 0..DRAWS {
                    let z: f64 = StandardNormal.sample(&mut rng);
                    acc += z;
                }
                acc
            })
        },
    );
    g.finish();
}

/// One step of `scheme` for `model`, normals included, repeated along one path.
fn bench_step<const D: usize, const M: usize, S: Sde<D, M>>(
    g: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    name: &str,
    model: &S,
    scheme: &Scheme<D>,
) {
    let stepper = Stepper::new(scheme, model.correlation()).unwrap();
    let h = 1.0 / 256.0;
    g.bench_function(name, |b| {
        b.iter_batched_ref(
            || (model.initial_state(), path_rng(5, 0)),
            |(x, rng)| {
                for n in 0..DRAWS {
                    let z: [f64; M] = std::array::from_fn(|_| standard_normal(rng));
                    stepper.step(model, n as f64 * h, h, h.sqrt(), x, &z);
                }
                *x
            },
            BatchSize::SmallInput,
        )
    });
}

fn steps(c: &mut Criterion) {
    let mut g = c.benchmark_group("step");
    g.throughput(Throughput::Elements(DRAWS));
    bench_step(&mut g, "ou euler", &Ou::default(), &OU_SCHEME);
    bench_step(
        &mut g,
        "gbm euler",
        &Gbm::default(),
        &Scheme::new("euler", [Step::Euler]),
    );
    bench_step(&mut g, "gbm log-euler", &Gbm::default(), &GBM_SCHEME);
    bench_step(
        &mut g,
        "heston euler+full-truncation",
        &Heston::default(),
        &HESTON_SCHEME,
    );
    let exact: [(&str, Transition); 3] = [
        (
            "exact ou",
            Transition::Ou {
                a: 2.0,
                b: -2.0,
                sigma2: 0.25,
            },
        ),
        (
            "exact gbm",
            Transition::Gbm {
                mu: 0.1,
                sigma2: 0.16,
            },
        ),
        (
            "exact cir",
            Transition::Cir {
                a: 0.08,
                b: -2.0,
                sigma2: 0.09,
            },
        ),
    ];
    for (name, law) in exact {
        let sampler = law.over(0.25).unwrap();
        g.bench_function(name, |b| {
            let mut rng = path_rng(6, 0);
            b.iter(|| {
                let mut x = 0.04;
                for _ in 0..DRAWS {
                    x = sampler.sample(x, &mut rng);
                }
                x
            })
        });
    }
    g.finish();
}

/// The whole engine on one thread: path-steps per second, statistics included, with each
/// normal-sampler kernel side by side (the same numbers, different speed).
fn engine(c: &mut Criterion) {
    let mut g = c.benchmark_group("engine, 1 thread");
    let (paths, steps) = (16_384u64, 256u64);
    g.throughput(Throughput::Elements(paths * steps));
    g.sample_size(10);
    let gbm_euler = Scheme::new("euler", [Step::Euler]);
    let cir_ft = Scheme::new("full-truncation", [Step::FullTruncation]);
    for kernel in [Kernel::Scalar, Kernel::Avx512.or_scalar()] {
        let cfg = RunConfig {
            paths,
            steps,
            threads: 1,
            kernel,
            ..RunConfig::default()
        };
        let k = kernel.label();
        g.bench_function(format!("ou euler, {k}"), |b| {
            b.iter(|| simulate(&Ou::default(), &OU_SCHEME, &cfg).unwrap())
        });
        g.bench_function(format!("gbm euler, {k}"), |b| {
            b.iter(|| simulate(&Gbm::default(), &gbm_euler, &cfg).unwrap())
        });
        g.bench_function(format!("cir full-truncation, {k}"), |b| {
            b.iter(|| simulate(&Cir::default(), &cir_ft, &cfg).unwrap())
        });
        g.bench_function(format!("heston euler+full-truncation, {k}"), |b| {
            b.iter(|| simulate(&Heston::default(), &HESTON_SCHEME, &cfg).unwrap())
        });
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = rng, normal, steps, engine
}
criterion_main!(benches);
