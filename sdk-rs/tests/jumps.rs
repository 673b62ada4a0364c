//! Compound-Poisson jumps in the engine: reproducible for any thread count, the exact moments of a
//! jump-diffusion, and refused where the scheme cannot add them.

mod common;

use architect_sdk::{Jump, JumpSize, RunConfig, Scheme, Sde, SdkError, Step, simulate};
use common::*;

/// Merton (1976) in log-price form, `dx = b dt + σ dW + dJ`, or Kou (2002) with `size` double exponential.
#[derive(Clone, Debug)]
struct JumpDiffusion {
    b: f64,
    sigma: f64,
    lam: f64,
    size: JumpSize,
}

const MERTON: JumpDiffusion = JumpDiffusion {
    b: 0.03,
    sigma: 0.2,
    lam: 3.0,
    size: JumpSize::Normal {
        mean: -0.1,
        sd: 0.15,
    },
};

const KOU: JumpDiffusion = JumpDiffusion {
    b: 0.03,
    sigma: 0.16,
    lam: 3.0,
    size: JumpSize::DoubleExponential {
        p: 0.4,
        eta1: 10.0,
        eta2: 5.0,
    },
};

const EULER: Scheme<1> = Scheme::new("euler-maruyama", [Step::Euler]);

impl Sde<1, 1> for JumpDiffusion {
    const NAME: &'static str = "jump-diffusion";
    const STATE: [&'static str; 1] = ["x"];
    fn initial_state(&self) -> [f64; 1] {
        [1.0]
    }
    fn drift(&self, _t: f64, _x: &[f64; 1]) -> [f64; 1] {
        [self.b]
    }
    fn diffusion(&self, _t: f64, _x: &[f64; 1]) -> [[f64; 1]; 1] {
        [[self.sigma]]
    }
    fn jumps(&self) -> Vec<Jump> {
        vec![Jump {
            variable: 0,
            intensity: self.lam,
            size: self.size,
        }]
    }
}

/// (E[Y], E[Y²]) of the jump sizes.
fn size_moments(size: JumpSize) -> (f64, f64) {
    match size {
        JumpSize::Normal { mean, sd } => (mean, mean * mean + sd * sd),
        JumpSize::DoubleExponential { p, eta1, eta2 } => (
            p / eta1 - (1.0 - p) / eta2,
            2.0 * p / (eta1 * eta1) + 2.0 * (1.0 - p) / (eta2 * eta2),
        ),
    }
}

#[test]
fn jump_runs_are_bit_identical_for_any_thread_count() {
    for model in [MERTON, KOU] {
        let mut cfg = config(5000, 20, 4);
        cfg.keep_terminal = true;
        let runs: Vec<_> = [1, 2, 3]
            .iter()
            .map(|&threads| {
                let mut out = simulate(
                    &model,
                    &EULER,
                    &RunConfig {
                        threads,
                        ..cfg.clone()
                    },
                )
                .unwrap();
                out.elapsed_seconds = 0.0;
                out.threads = 0;
                out
            })
            .collect();
        assert_eq!(runs[0], runs[1]);
        assert_eq!(runs[0], runs[2]);
    }
}

#[test]
fn jump_diffusions_have_the_exact_mean_and_variance() {
    // x_t - x_0 = b t + σ W_t + J_t: mean (b + λ E[Y]) t, variance (σ² + λ E[Y²]) t, at every step size
    // (Euler is exact for constant coefficients and the jump increments are exact per step).
    let paths = 40_000u64;
    for model in [MERTON, KOU] {
        let out = simulate(&model, &EULER, &config(paths, 10, 2)).unwrap();
        let (m1, m2) = size_moments(model.size);
        for cp in &out.checkpoints {
            let t = cp.time;
            let mean = 1.0 + (model.b + model.lam * m1) * t;
            let var = (model.sigma * model.sigma + model.lam * m2) * t;
            let (m, v) = mean_var_1d(&cp.sums, out.shift[0]);
            let se = (var / paths as f64).sqrt();
            assert!((m - mean).abs() < 5.0 * se, "mean {m} vs {mean} at t={t}");
            // The variance's standard error needs the fourth moment; twice the Gaussian one is ample here.
            assert!(
                (v - var).abs() < 10.0 * var * (2.0 / paths as f64).sqrt(),
                "variance {v} vs {var} at t={t}"
            );
        }
    }
}

#[test]
fn jumps_are_refused_with_exact_and_log_euler_steps() {
    let exact = Scheme::new("exact", [Step::ExactOu]);
    let log_euler = Scheme::new("log-euler", [Step::LogEuler]);
    for scheme in [exact, log_euler] {
        match simulate(&MERTON, &scheme, &config(10, 2, 1)) {
            Err(SdkError::Model(msg)) => assert!(msg.contains("jump"), "{msg}"),
            other => panic!("expected a model error, got {other:?}"),
        }
    }
    let bad = JumpDiffusion {
        lam: -1.0,
        ..MERTON
    };
    assert!(matches!(
        simulate(&bad, &EULER, &config(10, 2, 1)),
        Err(SdkError::Model(_))
    ));
}

#[test]
fn describe_lists_the_jump_parts_with_their_laws() {
    for (model, law, size) in [
        (
            MERTON,
            "normal",
            serde_json::json!({"mean": -0.1, "sd": 0.15}),
        ),
        (
            KOU,
            "double-exponential",
            serde_json::json!({"p": 0.4, "eta1": 10.0, "eta2": 5.0}),
        ),
    ] {
        let text = architect_sdk::cli::describe_json::<1, 1, _>(&model, &EULER);
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            v["jumps"],
            serde_json::json!([{"variable": 0, "intensity": 3.0, "law": law, "size": size}])
        );
    }
}
