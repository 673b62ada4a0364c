mod common;

use architect_sdk::rng::standard_normals;
use architect_sdk::{RunConfig, Scheme, Sde, SdkError, Step, simulate};
use common::*;

fn without_timing<const D: usize>(
    mut out: architect_sdk::RunOutput<D>,
) -> architect_sdk::RunOutput<D> {
    out.elapsed_seconds = 0.0;
    out.threads = 0;
    out
}

#[test]
fn results_are_bit_identical_for_any_thread_count() {
    let model = Heston::default();
    let mut cfg = config(5000, 8, 4);
    cfg.moment_degree = 4;
    cfg.keep_terminal = true;
    let runs: Vec<_> = [1, 2, 3]
        .iter()
        .map(|&threads| {
            let cfg = RunConfig {
                threads,
                ..cfg.clone()
            };
            let out = simulate(&model, &HESTON_SCHEME, &cfg).unwrap();
            assert_eq!(out.threads, threads);
            without_timing(out)
        })
        .collect();
    assert_eq!(runs[0], runs[1]);
    assert_eq!(runs[0], runs[2]);
    let bits = |o: &architect_sdk::RunOutput<2>| -> Vec<u64> {
        o.checkpoints
            .iter()
            .flat_map(|c| c.sums.sums.iter().map(|v| v.to_bits()))
            .collect()
    };
    assert_eq!(bits(&runs[0]), bits(&runs[2]));
}

#[test]
fn different_seeds_give_different_results() {
    let a = simulate(&Ou::default(), &OU_SCHEME, &config(100, 4, 1)).unwrap();
    let b = simulate(
        &Ou::default(),
        &OU_SCHEME,
        &RunConfig {
            seed: 43,
            ..config(100, 4, 1)
        },
    )
    .unwrap();
    assert_ne!(a.checkpoints, b.checkpoints);
}

#[test]
fn ou_euler_matches_the_discretised_moments() {
    let model = Ou::default();
    let (paths, steps) = (20_000u64, 40u64);
    let out = simulate(&model, &OU_SCHEME, &config(paths, steps, 4)).unwrap();
    let h = 1.0 / steps as f64;
    let a = 1.0 - model.kappa * h;
    for cp in &out.checkpoints {
        let n = cp.step as i32;
        // X_{n+1} = a X_n + κθh + σ√h Z: mean θ + (x0 − θ)aⁿ, variance σ²h(1 − a²ⁿ)/(1 − a²).
        let mean = model.theta + (model.x0 - model.theta) * a.powi(n);
        let var = model.sigma.powi(2) * h * (1.0 - a.powi(2 * n)) / (1.0 - a * a);
        let (m, v) = mean_var_1d(&cp.sums, out.shift[0]);
        let pf = paths as f64;
        assert!(
            (m - mean).abs() < 4.0 * (var / pf).sqrt(),
            "mean {m} vs {mean} at step {n}"
        );
        assert!(
            (v - var).abs() < 4.0 * var * (2.0 / pf).sqrt(),
            "var {v} vs {var} at step {n}"
        );
        assert_eq!((cp.sums.count, cp.sums.nonfinite), (paths, 0));
    }
}

#[test]
fn gbm_log_euler_has_the_exact_law() {
    let model = Gbm::default();
    let paths = 20_000u64;
    let mut cfg = config(paths, 10, 2);
    cfg.keep_terminal = true;
    let out = simulate(&model, &GBM_SCHEME, &cfg).unwrap();
    let pf = paths as f64;
    // E[S_t] = S0 e^{μt}, Var[S_t] = S0² e^{2μt}(e^{σ²t} − 1).
    for cp in &out.checkpoints {
        let t = cp.time;
        let mean = model.s0 * (model.mu * t).exp();
        let var = mean * mean * ((model.sigma * model.sigma * t).exp() - 1.0);
        let (m, _) = mean_var_1d(&cp.sums, out.shift[0]);
        assert!(
            (m - mean).abs() < 4.0 * (var / pf).sqrt(),
            "mean {m} vs {mean} at t={t}"
        );
    }
    // log(S_T/S0) ~ N((μ − σ²/2)T, σ²T) exactly, whatever the step.
    let logs: Vec<f64> = out
        .terminal
        .unwrap()
        .iter()
        .map(|s| (s[0] / model.s0).ln())
        .collect();
    let mu = logs.iter().sum::<f64>() / pf;
    let var = logs.iter().map(|l| (l - mu).powi(2)).sum::<f64>() / (pf - 1.0);
    let (want_mu, want_var) = (model.mu - model.sigma.powi(2) / 2.0, model.sigma.powi(2));
    assert!((mu - want_mu).abs() < 4.0 * (want_var / pf).sqrt());
    assert!((var - want_var).abs() < 4.0 * want_var * (2.0 / pf).sqrt());
}

#[test]
fn sample_correlation_of_increments_matches_rho() {
    for rho in [0.6, -0.3] {
        let model = Correlated {
            rho,
            ..Correlated::default()
        };
        let paths = 20_000u64;
        let out = simulate(&model, &CORRELATED_SCHEME, &config(paths, 4, 1)).unwrap();
        // Exponents: [1,0], [0,1], [2,0], [1,1], [0,2]; the shift is the start, so these are
        // sums of increments.
        let s = &out.checkpoints[0].sums.sums;
        let n = paths as f64;
        let (mx, my) = (s[0] / n, s[1] / n);
        let cov = s[3] / n - mx * my;
        let corr = cov / ((s[2] / n - mx * mx) * (s[4] / n - my * my)).sqrt();
        let se = (1.0 - rho * rho) / n.sqrt();
        assert!((corr - rho).abs() < 4.0 * se, "corr {corr} vs {rho}");
        // Var of X is s_x² T = 1, of Y is 0.25.
        assert!((s[2] / n - 1.0).abs() < 4.0 * (2.0 / n).sqrt());
    }
}

#[test]
fn perfectly_anticorrelated_noise_is_mirrored() {
    let model = Correlated {
        rho: -1.0,
        scale: [1.0, 1.0],
        ..Correlated::default()
    };
    let mut cfg = config(500, 4, 1);
    cfg.keep_terminal = true;
    let out = simulate(&model, &CORRELATED_SCHEME, &cfg).unwrap();
    for x in out.terminal.unwrap() {
        // y starts at 1, so its rounding differs from x's by at most an ulp of 1 per step.
        assert!((x[0] + (x[1] - 1.0)).abs() < 1e-14, "{x:?}");
    }
}

#[test]
fn full_truncation_never_reports_negative_values() {
    let mut cfg = config(4000, 20, 4);
    cfg.keep_terminal = true;
    let out = simulate(&Heston::default(), &HESTON_SCHEME, &cfg).unwrap();
    let terminal = out.terminal.unwrap();
    assert!(terminal.iter().all(|x| x[1] >= 0.0));
    let zeros = terminal.iter().filter(|x| x[1] == 0.0).count();
    assert!(zeros > 0, "the test should exercise truncation");
    for cp in &out.checkpoints {
        // sqrt(v) is evaluated at max(v, 0): no NaN ever appears.
        assert_eq!((cp.sums.count, cp.sums.nonfinite), (4000, 0));
    }
}

#[test]
fn engine_draws_the_documented_stream() {
    // dX = dW with h = 1 and one step: X_T = z_0 of each path's stream.
    struct Bm;
    impl Sde<1, 1> for Bm {
        const NAME: &'static str = "bm";
        const STATE: [&'static str; 1] = ["x"];
        fn initial_state(&self) -> [f64; 1] {
            [0.0]
        }
        fn drift(&self, _t: f64, _x: &[f64; 1]) -> [f64; 1] {
            [0.0]
        }
        fn diffusion(&self, _t: f64, _x: &[f64; 1]) -> [[f64; 1]; 1] {
            [[1.0]]
        }
    }
    let mut cfg = config(2100, 1, 1);
    cfg.keep_terminal = true;
    let out = simulate(&Bm, &Scheme::new("euler", [Step::Euler]), &cfg).unwrap();
    for (p, x) in out.terminal.unwrap().iter().enumerate() {
        assert_eq!(x[0], standard_normals(42, p as u64, 1)[0]);
    }
}

/// Diverges to +inf once it crosses 1.
struct Exploding;
impl Sde<1, 1> for Exploding {
    const NAME: &'static str = "exploding";
    const STATE: [&'static str; 1] = ["x"];
    fn initial_state(&self) -> [f64; 1] {
        [0.0]
    }
    fn drift(&self, _t: f64, x: &[f64; 1]) -> [f64; 1] {
        [if x[0] > 1.0 { f64::INFINITY } else { 0.0 }]
    }
    fn diffusion(&self, _t: f64, _x: &[f64; 1]) -> [[f64; 1]; 1] {
        [[1.0]]
    }
}

#[test]
fn nonfinite_paths_are_counted_and_excluded() {
    let out = simulate(&Exploding, &OU_SCHEME, &config(2000, 8, 2)).unwrap();
    let last = &out.checkpoints[1].sums;
    assert!(last.nonfinite > 0);
    assert_eq!(last.count + last.nonfinite, 2000);
    assert!(last.sums.iter().all(|s| s.is_finite()));
    assert!(out.checkpoints[0].sums.nonfinite <= last.nonfinite);
}

#[test]
fn bad_configurations_are_rejected() {
    let ok = config(10, 8, 4);
    let cases = [
        RunConfig {
            paths: 0,
            ..ok.clone()
        },
        RunConfig {
            steps: 0,
            ..ok.clone()
        },
        RunConfig {
            steps: 10,
            ..ok.clone()
        },
        RunConfig {
            checkpoints: 0,
            ..ok.clone()
        },
        RunConfig {
            horizon: 0.0,
            ..ok.clone()
        },
        RunConfig {
            horizon: f64::NAN,
            ..ok.clone()
        },
        RunConfig {
            horizon: f64::INFINITY,
            ..ok.clone()
        },
        RunConfig {
            moment_degree: 0,
            ..ok.clone()
        },
        RunConfig {
            moment_degree: 17,
            ..ok.clone()
        },
        RunConfig {
            threads: 100_000,
            ..ok.clone()
        },
    ];
    for cfg in cases {
        let err = simulate(&Ou::default(), &OU_SCHEME, &cfg).unwrap_err();
        assert!(matches!(err, SdkError::Config(_)), "{cfg:?} gave {err}");
    }
    assert!(simulate(&Ou::default(), &OU_SCHEME, &ok).is_ok());
}

#[test]
fn bad_models_are_rejected_at_start_up() {
    let gbm = Gbm {
        s0: 0.0,
        ..Gbm::default()
    };
    let err = simulate(&gbm, &GBM_SCHEME, &config(10, 4, 1)).unwrap_err();
    assert!(matches!(err, SdkError::Model(_)), "{err}");
    let ou = Ou {
        x0: f64::NAN,
        ..Ou::default()
    };
    assert!(matches!(
        simulate(&ou, &OU_SCHEME, &config(10, 4, 1)),
        Err(SdkError::Model(_))
    ));
    let bad = Correlated {
        rho: 1.5,
        ..Correlated::default()
    };
    let err = simulate(&bad, &CORRELATED_SCHEME, &config(10, 4, 1)).unwrap_err();
    assert!(
        err.to_string().contains("not positive semi-definite"),
        "{err}"
    );
}

#[test]
fn every_scheme_kind_is_bit_identical_for_1_and_2_threads() {
    // Odd path counts leave a partial group of interleaved paths and a partial block.
    fn check<const D: usize, const M: usize, S: Sde<D, M>>(model: &S, scheme: &Scheme<D>) {
        for paths in [1, 3, 2051] {
            let mut cfg = config(paths, 6, 3);
            cfg.keep_terminal = true;
            cfg.moment_degree = 3;
            let one = simulate(
                model,
                scheme,
                &RunConfig {
                    threads: 1,
                    ..cfg.clone()
                },
            )
            .unwrap();
            let two = simulate(
                model,
                scheme,
                &RunConfig {
                    threads: 2,
                    ..cfg.clone()
                },
            )
            .unwrap();
            assert_eq!(
                without_timing(one),
                without_timing(two),
                "{} with {paths} paths",
                S::NAME
            );
        }
    }
    check(&Ou::default(), &OU_SCHEME);
    check(&ScaledOu::default(), &OU_SCHEME);
    check(&Gbm::default(), &GBM_SCHEME);
    check(&Heston::default(), &HESTON_SCHEME);
    check(&Correlated::default(), &CORRELATED_SCHEME);
    check(&Ou::default(), &Scheme::new("exact", [Step::ExactOu]));
}

#[test]
fn a_path_does_not_depend_on_its_neighbours() {
    // The engine advances several paths side by side; each must equal the same path simulated
    // alone, step by step, from its own stream (the documented contract), bit for bit.
    use architect_sdk::rng::{path_rng, standard_normal};
    use architect_sdk::scheme::Stepper;
    let model = Heston::default();
    let (steps, seed) = (12u64, 42u64);
    let mut cfg = config(1030, steps, 3);
    cfg.keep_terminal = true;
    let out = simulate(&model, &HESTON_SCHEME, &cfg).unwrap();
    let terminal = out.terminal.unwrap();
    let stepper = Stepper::new(&HESTON_SCHEME, model.correlation()).unwrap();
    let h = 1.0 / steps as f64;
    for p in [0u64, 1, 2, 3, 5, 1023, 1024, 1029] {
        let mut rng = path_rng(seed, p);
        let mut x = model.initial_state();
        for n in 0..steps {
            let z = [standard_normal(&mut rng), standard_normal(&mut rng)];
            stepper.step(&model, n as f64 * h, h, h.sqrt(), &mut x, &z);
        }
        assert_eq!(terminal[p as usize], stepper.observe(&x), "path {p}");
    }
    // And a shorter run reproduces the first paths of a longer one.
    let short = simulate(
        &model,
        &HESTON_SCHEME,
        &RunConfig {
            paths: 5,
            ..cfg.clone()
        },
    )
    .unwrap();
    assert_eq!(short.terminal.unwrap()[..], terminal[..5]);
}

#[test]
fn every_kernel_gives_the_same_results() {
    // The AVX-512 sampler (where the CPU has it) and the scalar one draw the same numbers, so
    // whole runs agree bit for bit, including steps that span several sampler calls (600
    // steps of 2 normals > 256 rows) and partial lane groups (1037 paths).
    use architect_sdk::simd::Kernel;
    fn check<const D: usize, const M: usize, S: Sde<D, M>>(model: &S, scheme: &Scheme<D>) {
        let mut cfg = config(1037, 600, 3);
        cfg.keep_terminal = true;
        let run = |kernel| {
            let cfg = RunConfig {
                kernel,
                ..cfg.clone()
            };
            without_timing(simulate(model, scheme, &cfg).unwrap())
        };
        let scalar = run(Kernel::Scalar);
        assert_eq!(scalar, run(Kernel::Avx512), "{}", scheme.name);
        let terminal = scalar.terminal.unwrap();
        assert!(terminal.iter().all(|x| x.iter().all(|v| v.is_finite())));
    }
    check(&Ou::default(), &OU_SCHEME);
    check(&ScaledOu::default(), &OU_SCHEME);
    check(&Gbm::default(), &GBM_SCHEME);
    check(&Heston::default(), &HESTON_SCHEME);
}

#[test]
fn a_per_step_model_differs_from_the_plain_one_by_rounding_only() {
    // `Sde::per_step` folds h and √h into κ and σ: the same paths, each step rounded
    // differently, so terminal states agree to a few units in the last place per step.
    let scaled = ScaledOu::default();
    let mut cfg = config(2000, 400, 1);
    cfg.keep_terminal = true;
    let a = simulate(&scaled, &OU_SCHEME, &cfg)
        .unwrap()
        .terminal
        .unwrap();
    let b = simulate(&scaled.0, &OU_SCHEME, &cfg)
        .unwrap()
        .terminal
        .unwrap();
    assert_ne!(a, b, "the folded step is not used");
    for (x, y) in a.iter().zip(&b) {
        assert!((x[0] - y[0]).abs() < 1e-12, "{} vs {}", x[0], y[0]);
    }
}

/// An observer outside the SDK: the running maximum of the first component at each date, and
/// the number of finished paths. The engine needs no flag for it.
struct Extremes;

impl architect_sdk::Observer<2> for Extremes {
    type Record = (Vec<f64>, u64);

    fn start(&self, _paths: u64) -> Result<Self::Record, SdkError> {
        Ok((vec![f64::NEG_INFINITY; 4], 0))
    }

    fn block(&self, _paths: usize) -> Self::Record {
        (vec![f64::NEG_INFINITY; 4], 0)
    }

    fn observe(&self, record: &mut Self::Record, _path: usize, date: usize, x: &[f64; 2]) {
        record.0[date] = record.0[date].max(x[0]);
    }

    fn end(&self, record: &mut Self::Record, _x: &[f64; 2]) {
        record.1 += 1;
    }

    fn merge(&self, total: &mut Self::Record, block: Self::Record) {
        for (t, b) in total.0.iter_mut().zip(block.0) {
            *t = t.max(b);
        }
        total.1 += block.1;
    }
}

#[test]
fn a_new_output_is_a_new_observer() {
    let model = Heston::default();
    let mut cfg = config(3000, 8, 4);
    cfg.keep_terminal = true;
    let ((maxima, paths), _) =
        architect_sdk::simulate_with::<false, 2, 2, _, _>(&model, &HESTON_SCHEME, &cfg, &Extremes)
            .unwrap();
    assert_eq!(paths, 3000);
    let out = simulate(&model, &HESTON_SCHEME, &cfg).unwrap();
    let terminal = out.terminal.unwrap();
    let last = terminal
        .iter()
        .map(|x| x[0])
        .fold(f64::NEG_INFINITY, f64::max);
    assert_eq!(maxima[3], last);
    assert!(maxima.iter().all(|m| m.is_finite()));
}
