//! Exact transitions: their laws, their coefficients read from the model, their errors.
mod common;

use architect_sdk::exact::{Transition, noncentral_chi2_poisson};
use architect_sdk::moments::PowerSums;
use architect_sdk::rng::path_rng;
use architect_sdk::{RunConfig, Scheme, Sde, SdkError, Step, simulate, simulate_as};
use common::*;

const OU_EXACT: Scheme<1> = Scheme::new("exact", [Step::ExactOu]);
const GBM_EXACT: Scheme<1> = Scheme::new("exact", [Step::ExactGbm]);
const CIR_EXACT: Scheme<1> = Scheme::new("exact", [Step::ExactCir]);

/// Mean and variance estimates of component 0 with their standard errors, from degree-4 sums.
fn moments(sums: &PowerSums, shift: f64) -> (f64, f64, f64, f64) {
    let n = sums.count as f64;
    let m: Vec<f64> = sums.sums.iter().map(|s| s / n).collect();
    let var = m[1] - m[0] * m[0];
    let mu4 = m[3] - 4.0 * m[2] * m[0] + 6.0 * m[1] * m[0] * m[0] - 3.0 * m[0].powi(4);
    (
        shift + m[0],
        (var / n).sqrt(),
        var,
        ((mu4 - var * var) / n).sqrt(),
    )
}

fn check_moments<const D: usize>(
    out: &architect_sdk::RunOutput<D>,
    law: impl Fn(f64) -> (f64, f64),
    what: &str,
) {
    for cp in &out.checkpoints {
        let (mean, mean_se, var, var_se) = moments(&cp.sums, out.shift[0]);
        let (want_mean, want_var) = law(cp.time);
        // 4.5 standard errors per test: the whole file's family-wise level stays below 1e-3.
        assert!(
            (mean - want_mean).abs() < 4.5 * mean_se,
            "{what} t={}: mean {mean} vs {want_mean} ± {mean_se}",
            cp.time
        );
        assert!(
            (var - want_var).abs() < 4.5 * var_se,
            "{what} t={}: variance {var} vs {want_var} ± {var_se}",
            cp.time
        );
    }
}

fn run<const M: usize, S: Sde<1, M>>(
    model: &S,
    scheme: &Scheme<1>,
    paths: u64,
) -> architect_sdk::RunOutput<1> {
    let cfg = RunConfig {
        moment_degree: 4,
        ..config(paths, 8, 4)
    };
    simulate(model, scheme, &cfg).unwrap()
}

#[test]
fn exact_ou_has_the_gaussian_law_at_every_checkpoint() {
    let m = Ou::default();
    let out = run(&m, &OU_EXACT, 40_000);
    check_moments(
        &out,
        |t| {
            let e = (-m.kappa * t).exp();
            let var = m.sigma.powi(2) * (1.0 - e * e) / (2.0 * m.kappa);
            (m.theta + (m.x0 - m.theta) * e, var)
        },
        "OU",
    );
}

#[test]
fn exact_ou_covers_arithmetic_brownian_motion() {
    // b = 0: mean x0 + a t, variance σ² t.
    let m = Correlated {
        drift: [0.3, 0.0],
        ..Correlated::default()
    };
    struct Abm(Correlated);
    impl Sde<1, 1> for Abm {
        const NAME: &'static str = "abm";
        const STATE: [&'static str; 1] = ["x"];
        fn initial_state(&self) -> [f64; 1] {
            [1.0]
        }
        fn drift(&self, _t: f64, _x: &[f64; 1]) -> [f64; 1] {
            [self.0.drift[0]]
        }
        fn diffusion(&self, _t: f64, _x: &[f64; 1]) -> [[f64; 1]; 1] {
            [[self.0.scale[0]]]
        }
    }
    let out = run(&Abm(m.clone()), &OU_EXACT, 40_000);
    check_moments(&out, |t| (1.0 + 0.3 * t, m.scale[0].powi(2) * t), "ABM");
}

#[test]
fn exact_gbm_has_the_lognormal_law() {
    let m = Gbm::default();
    let out = run(&m, &GBM_EXACT, 40_000);
    check_moments(
        &out,
        |t| {
            let mean = m.s0 * (m.mu * t).exp();
            (mean, mean * mean * ((m.sigma.powi(2) * t).exp() - 1.0))
        },
        "GBM",
    );
}

fn cir_law(m: &Cir) -> impl Fn(f64) -> (f64, f64) + '_ {
    move |t| {
        let e = (-m.kappa * t).exp();
        let s2 = m.sigma.powi(2);
        let mean = m.theta + (m.x0 - m.theta) * e;
        let var =
            m.x0 * s2 / m.kappa * (e - e * e) + m.theta * s2 / (2.0 * m.kappa) * (1.0 - e).powi(2);
        (mean, var)
    }
}

#[test]
fn exact_cir_has_the_right_moments_with_and_without_the_feller_condition() {
    // d = 4κθ/σ² = 3.6 (shifted normal plus chi-square) and 0.32 (Poisson mixture, hits 0).
    for m in [
        Cir::default(),
        Cir {
            sigma: 1.0,
            ..Cir::default()
        },
    ] {
        let out = run(&m, &CIR_EXACT, 40_000);
        check_moments(&out, cir_law(&m), &format!("CIR sigma={}", m.sigma));
        assert_eq!(out.checkpoints[3].sums.nonfinite, 0);
    }
}

#[test]
fn the_two_noncentral_chi_square_algorithms_agree() {
    // For d > 1 the engine draws (Z + √λ)² + χ²_{d−1}; the Poisson mixture is the other exact
    // algorithm. Two-sample KS at level 0.001, plus the first two moments of each.
    let (d, lambda) = (3.6_f64, 2.5_f64);
    let law = Transition::Cir {
        a: d / 4.0,
        b: 0.0,
        sigma2: 1.0,
    };
    // With a = d/4, σ² = 1, b = 0 and h = 4: c = 1, so the step from x = λ is χ'²_d(λ).
    let sampler = law.over(4.0).unwrap();
    let n = 100_000;
    let mut rng = path_rng(21, 0);
    let mut shifted: Vec<f64> = (0..n).map(|_| sampler.sample(lambda, &mut rng)).collect();
    let mut poisson: Vec<f64> = (0..n)
        .map(|_| noncentral_chi2_poisson(lambda, d / 2.0, &mut rng))
        .collect();
    for sample in [&shifted, &poisson] {
        let mean = sample.iter().sum::<f64>() / n as f64;
        let var = sample.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n as f64;
        let want_var = 2.0 * (d + 2.0 * lambda);
        assert!(
            (mean - (d + lambda)).abs() < 4.5 * (want_var / n as f64).sqrt(),
            "mean {mean}"
        );
        assert!((var - want_var).abs() < 0.05 * want_var, "variance {var}");
    }
    shifted.sort_by(f64::total_cmp);
    poisson.sort_by(f64::total_cmp);
    let mut dmax = 0.0_f64;
    let (mut i, mut j) = (0, 0);
    while i < n && j < n {
        if shifted[i] <= poisson[j] {
            i += 1;
        } else {
            j += 1;
        }
        dmax = dmax.max((i as f64 - j as f64).abs() / n as f64);
    }
    let critical = 1.949 * (2.0 / n as f64).sqrt();
    assert!(
        dmax < critical,
        "two-sample KS {dmax} (critical {critical})"
    );
}

#[test]
fn exact_schemes_step_once_per_checkpoint_whatever_the_steps() {
    let m = Cir::default();
    let cfg = RunConfig {
        keep_terminal: true,
        ..config(3000, 8, 4)
    };
    let a = simulate(&m, &CIR_EXACT, &cfg).unwrap();
    let b = simulate(
        &m,
        &CIR_EXACT,
        &RunConfig {
            steps: 400,
            ..cfg.clone()
        },
    )
    .unwrap();
    assert_eq!(a.terminal, b.terminal);
    for threads in [1, 3] {
        let c = simulate(
            &m,
            &CIR_EXACT,
            &RunConfig {
                threads,
                ..cfg.clone()
            },
        )
        .unwrap();
        assert_eq!(a.checkpoints, c.checkpoints);
        assert_eq!(a.terminal, c.terminal);
    }
}

#[test]
fn coefficients_are_read_from_the_model() {
    let m = Cir::default();
    let law = Transition::from_model(&m, Step::ExactCir, &[[1.0]]).unwrap();
    let Transition::Cir { a, b, sigma2 } = law else {
        panic!("{law:?}")
    };
    assert!((a - m.kappa * m.theta).abs() < 1e-15 && (b + m.kappa).abs() < 1e-15);
    assert!((sigma2 - m.sigma * m.sigma).abs() < 1e-15);
    // Several correlated noises: σ² is the quadratic variation s ρ sᵀ.
    struct TwoNoise;
    impl Sde<1, 2> for TwoNoise {
        const NAME: &'static str = "two-noise";
        const STATE: [&'static str; 1] = ["x"];
        fn initial_state(&self) -> [f64; 1] {
            [1.0]
        }
        fn drift(&self, _t: f64, x: &[f64; 1]) -> [f64; 1] {
            [0.1 * x[0]]
        }
        fn diffusion(&self, _t: f64, x: &[f64; 1]) -> [[f64; 2]; 1] {
            [[0.3 * x[0], 0.4 * x[0]]]
        }
        fn correlation(&self) -> [[f64; 2]; 2] {
            [[1.0, 0.5], [0.5, 1.0]]
        }
    }
    let law = Transition::from_model(&TwoNoise, Step::ExactGbm, &TwoNoise.correlation()).unwrap();
    assert_eq!(
        law,
        Transition::Gbm {
            mu: 0.1,
            sigma2: 0.09 + 0.16 + 2.0 * 0.5 * 0.12
        }
    );
}

#[test]
fn models_without_the_exact_form_are_rejected() {
    let model_error = |r: Result<architect_sdk::RunOutput<1>, SdkError>| match r {
        Err(SdkError::Model(msg)) => msg,
        other => panic!("{other:?}"),
    };
    // The CIR model is not Gaussian, OU is not square-root, GBM's drift has no constant.
    let msg = model_error(simulate(&Cir::default(), &OU_EXACT, &config(10, 4, 1)));
    assert!(
        msg.contains("exact-ou") && msg.contains("dX = (a + bX) dt + σ dW"),
        "{msg}"
    );
    model_error(simulate(&Ou::default(), &CIR_EXACT, &config(10, 4, 1)));
    model_error(simulate(&Ou::default(), &GBM_EXACT, &config(10, 4, 1)));
    // Out of range: a negative mean-reversion level (a < 0), a start outside the domain.
    let negative = Cir {
        theta: -0.01,
        ..Cir::default()
    };
    model_error(simulate(&negative, &CIR_EXACT, &config(10, 4, 1)));
    let bad_start = Gbm {
        s0: -1.0,
        ..Gbm::default()
    };
    model_error(simulate(&bad_start, &GBM_EXACT, &config(10, 4, 1)));
    // Time-dependent coefficients are not time-homogeneous.
    struct Seasonal;
    impl Sde<1, 1> for Seasonal {
        const NAME: &'static str = "seasonal";
        const STATE: [&'static str; 1] = ["x"];
        fn initial_state(&self) -> [f64; 1] {
            [0.0]
        }
        fn drift(&self, t: f64, x: &[f64; 1]) -> [f64; 1] {
            [t.sin() - x[0]]
        }
        fn diffusion(&self, _t: f64, _x: &[f64; 1]) -> [[f64; 1]; 1] {
            [[1.0]]
        }
    }
    model_error(simulate(&Seasonal, &OU_EXACT, &config(10, 4, 1)));
    // Exact steps need a one-dimensional model and cannot be mixed.
    let mixed = Scheme::new("mixed", [Step::Euler, Step::ExactOu]);
    let err = simulate(&Correlated::default(), &mixed, &config(10, 4, 1)).unwrap_err();
    assert!(err.to_string().contains("one-dimensional"), "{err}");
}

#[test]
fn the_engine_path_is_a_compile_time_constant_of_the_scheme() {
    // Evaluated at compile time, as a generated main.rs does for `cli::run_as`.
    const EXACT: [bool; 4] = [
        OU_EXACT.is_exact(),
        CIR_EXACT.is_exact(),
        OU_SCHEME.is_exact(),
        HESTON_SCHEME.is_exact(),
    ];
    assert_eq!(EXACT, [true, true, false, false]);
    assert!(Scheme::new("mixed", [Step::Euler, Step::ExactOu]).is_exact());
}

#[test]
fn an_engine_compiled_for_one_path_runs_it_and_rejects_the_other() {
    let cfg = RunConfig {
        keep_terminal: true,
        ..config(300, 8, 2)
    };
    let ou = Ou::default();
    let exact = simulate_as::<true, 1, 1, Ou>(&ou, &OU_EXACT, &cfg).unwrap();
    let stepped = simulate_as::<false, 1, 1, Ou>(&ou, &OU_SCHEME, &cfg).unwrap();
    assert_eq!(
        exact.terminal,
        simulate(&ou, &OU_EXACT, &cfg).unwrap().terminal
    );
    assert_eq!(
        stepped.terminal,
        simulate(&ou, &OU_SCHEME, &cfg).unwrap().terminal
    );
    assert_ne!(exact.terminal, stepped.terminal);
    let err = simulate_as::<false, 1, 1, Ou>(&ou, &OU_EXACT, &cfg).unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid model: the scheme 'exact' is simulated by exact transitions, but this engine \
         was compiled for time steps only (its EXACT must be the scheme's `is_exact()`)"
    );
    let err = simulate_as::<true, 1, 1, Ou>(&ou, &OU_SCHEME, &cfg).unwrap_err();
    assert!(
        err.to_string()
            .contains("by time steps, but this engine was compiled for exact transitions only"),
        "{err}"
    );
}
