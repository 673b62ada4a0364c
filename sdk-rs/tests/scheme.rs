mod common;

use architect_sdk::scheme::{Stepper, cholesky, correlation_factor};
use architect_sdk::{Domain, Scheme, Sde, Step};
use common::*;

fn reconstruct<const M: usize>(l: &[[f64; M]; M]) -> [[f64; M]; M] {
    std::array::from_fn(|i| std::array::from_fn(|j| (0..M).map(|k| l[i][k] * l[j][k]).sum()))
}

fn assert_close<const M: usize>(a: &[[f64; M]; M], b: &[[f64; M]; M]) {
    for i in 0..M {
        for j in 0..M {
            assert!((a[i][j] - b[i][j]).abs() < 1e-12, "{a:?} vs {b:?}");
        }
    }
}

#[test]
fn labels() {
    assert_eq!(Step::Euler.label(), "euler");
    assert_eq!(Step::FullTruncation.label(), "full-truncation");
    assert_eq!(Step::LogEuler.label(), "log-euler");
    assert_eq!(
        [Step::ExactOu, Step::ExactGbm, Step::ExactCir].map(|s| s.label()),
        ["exact-ou", "exact-gbm", "exact-cir"]
    );
    assert!(Step::ExactCir.is_exact() && !Step::FullTruncation.is_exact());
    assert_eq!(HESTON_SCHEME.step_kinds(), ["euler", "full-truncation"]);
}

#[test]
fn cholesky_of_a_definite_matrix() {
    let c = [[1.0, 0.5, -0.2], [0.5, 1.0, 0.3], [-0.2, 0.3, 1.0]];
    let l = cholesky(&c).unwrap();
    assert_close(&reconstruct(&l), &c);
    for (i, row) in l.iter().enumerate() {
        assert!(row[i + 1..].iter().all(|&v| v == 0.0), "lower triangular");
    }
}

#[test]
fn cholesky_tolerates_semi_definite_matrices() {
    for rho in [1.0, -1.0] {
        let c = [[1.0, rho], [rho, 1.0]];
        let l = cholesky(&c).unwrap();
        assert_eq!(l, [[1.0, 0.0], [rho, 0.0]]);
    }
    let ones = [[1.0; 3]; 3];
    assert_close(&reconstruct(&cholesky(&ones).unwrap()), &ones);
    // Rank 2: the third motion is the average of the first two.
    let r = 0.5_f64.sqrt();
    let c = [[1.0, 0.0, r], [0.0, 1.0, r], [r, r, 1.0]];
    assert_close(&reconstruct(&cholesky(&c).unwrap()), &c);
    assert_eq!(cholesky::<0>(&[]).unwrap(), [] as [[f64; 0]; 0]);
}

#[test]
fn cholesky_rejects_matrices_that_are_not_psd() {
    let not_psd = [[[1.0, 2.0], [2.0, 1.0]], [[1.0, 0.0], [0.0, -1.0]]];
    for c in not_psd {
        let err = cholesky(&c).unwrap_err();
        assert!(
            err.to_string().contains("not positive semi-definite"),
            "{err}"
        );
    }
    let c = [[1.0, 0.9, -0.9], [0.9, 1.0, 0.9], [-0.9, 0.9, 1.0]];
    assert!(cholesky(&c).is_err());
    // Singular leading block but inconsistent remainder.
    let c = [[1.0, 1.0, 0.0], [1.0, 1.0, 1.0], [0.0, 1.0, 1.0]];
    assert!(cholesky(&c).is_err());
    assert!(
        cholesky(&[[1.0, 0.5], [0.4, 1.0]])
            .unwrap_err()
            .to_string()
            .contains("symmetric")
    );
    assert!(cholesky(&[[1.0, f64::NAN], [f64::NAN, 1.0]]).is_err());
    assert!(correlation_factor(&[[2.0, 0.0], [0.0, 1.0]]).is_err());
}

#[test]
fn one_step_follows_the_documented_formulas() {
    let model = Heston::default();
    let stepper = Stepper::new(&HESTON_SCHEME, [[1.0, model.rho], [model.rho, 1.0]]).unwrap();
    let (h, z) = (0.01_f64, [0.3, -1.2]);
    let sqrt_h = h.sqrt();
    // A negative variance is evaluated at 0: no diffusion, drift κθ.
    let mut x = [0.5, -0.02];
    stepper.step(&model, 0.0, h, sqrt_h, &mut x, &z);
    assert_eq!(x, [0.5 + 0.0 * h, -0.02 + model.kappa * model.theta * h]);
    assert_eq!(stepper.observe(&x), [x[0], x[1].max(0.0)]);
    // A positive variance: correlated increments dW = √h L z.
    let v = 0.09_f64;
    let mut x = [0.5, v];
    stepper.step(&model, 0.0, h, sqrt_h, &mut x, &z);
    let dw = [
        sqrt_h * z[0],
        sqrt_h * (model.rho * z[0] + (1.0 - model.rho.powi(2)).sqrt() * z[1]),
    ];
    let want = [
        0.5 - 0.5 * v * h + v.sqrt() * dw[0],
        v + model.kappa * (model.theta - v) * h + model.xi * v.sqrt() * dw[1],
    ];
    assert!(
        (x[0] - want[0]).abs() < 1e-15 && (x[1] - want[1]).abs() < 1e-15,
        "{x:?} vs {want:?}"
    );
}

#[test]
fn log_euler_step_is_exact_for_gbm() {
    let model = Gbm::default();
    let stepper = Stepper::new(&GBM_SCHEME, [[1.0]]).unwrap();
    let (h, z) = (0.25_f64, [0.7]);
    let mut x = [model.s0];
    stepper.step(&model, 0.0, h, h.sqrt(), &mut x, &z);
    let want = model.s0
        * ((model.mu - model.sigma.powi(2) / 2.0) * h + model.sigma * h.sqrt() * z[0]).exp();
    assert!((x[0] - want).abs() < 1e-14 * want);
}

#[test]
fn log_euler_uses_the_correlated_quadratic_variation() {
    // d log S picks up −a/2 with a = s ρ sᵀ, here for S driven by two correlated motions.
    struct TwoFactor;
    impl Sde<1, 2> for TwoFactor {
        const NAME: &'static str = "two-factor";
        const STATE: [&'static str; 1] = ["s"];
        fn initial_state(&self) -> [f64; 1] {
            [1.0]
        }
        fn drift(&self, _t: f64, _x: &[f64; 1]) -> [f64; 1] {
            [0.0]
        }
        fn diffusion(&self, _t: f64, x: &[f64; 1]) -> [[f64; 2]; 1] {
            [[0.3 * x[0], 0.4 * x[0]]]
        }
        fn correlation(&self) -> [[f64; 2]; 2] {
            [[1.0, 0.5], [0.5, 1.0]]
        }
    }
    let stepper = Stepper::new(
        &Scheme::new("log", [Step::LogEuler]),
        TwoFactor.correlation(),
    )
    .unwrap();
    let mut x = [2.0];
    stepper.step(&TwoFactor, 0.0, 1.0, 1.0, &mut x, &[0.0, 0.0]);
    let a = 0.09 + 0.16 + 2.0 * 0.5 * 0.12;
    assert!((x[0] - 2.0 * (-a / 2.0_f64).exp()).abs() < 1e-15);
}

/// The plain step (no floor, `dW = √h z`) must be the general step bit for bit, so that the
/// engine may pick it for plain schemes without changing any result.
#[test]
fn plain_step_is_the_general_step_bit_for_bit() {
    let mut rng = architect_sdk::rng::path_rng(3, 0);
    let ou = Ou::default();
    let scheme = Scheme::new("euler-maruyama", [Step::Euler]);
    let stepper = Stepper::new(&scheme, [[1.0]]).unwrap();
    assert!(stepper.is_plain());
    let independent = Correlated {
        rho: 0.0,
        ..Correlated::default()
    };
    let pair = Stepper::new(&CORRELATED_SCHEME, independent.correlation()).unwrap();
    assert!(pair.is_plain());
    let special = [
        0.0,
        -1e-300,
        1e300,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NAN,
    ];
    for k in 0..10_000 {
        let z = [
            architect_sdk::ziggurat::sample(&mut rng),
            architect_sdk::ziggurat::sample(&mut rng),
        ];
        let x = special.get(k).copied().unwrap_or(3.0 * z[1]);
        let (h, sqrt_h) = (0.013, 0.013_f64.sqrt());
        let (mut a, mut b) = ([x], [x]);
        stepper.step_as::<false, true, false, _>(&ou, 0.1, h, sqrt_h, &mut a, &[z[0]]);
        stepper.step_as::<false, false, false, _>(&ou, 0.1, h, sqrt_h, &mut b, &[z[0]]);
        assert_eq!(a[0].to_bits(), b[0].to_bits(), "x = {x}, z = {z:?}");
        let (mut a, mut b) = ([x, -x], [x, -x]);
        pair.step_as::<false, true, false, _>(&independent, 0.1, h, sqrt_h, &mut a, &z);
        pair.step_as::<false, false, false, _>(&independent, 0.1, h, sqrt_h, &mut b, &z);
        assert_eq!(
            a.map(f64::to_bits),
            b.map(f64::to_bits),
            "x = {x}, z = {z:?}"
        );
    }
    // Truncation, correlation or log-Euler make a scheme not plain.
    let heston = Heston::default();
    let rho = [[1.0, heston.rho], [heston.rho, 1.0]];
    assert!(!Stepper::new(&HESTON_SCHEME, rho).unwrap().is_plain());
    let corr = Correlated::default();
    assert!(
        !Stepper::new(&CORRELATED_SCHEME, corr.correlation())
            .unwrap()
            .is_plain()
    );
    let log = Scheme::new("log-euler", [Step::LogEuler]);
    assert!(!Stepper::new(&log, [[1.0]]).unwrap().is_plain());
}

#[test]
fn the_registry_describes_every_step_once() {
    use architect_sdk::scheme::Components;
    let labels: Vec<&str> = Step::ALL.iter().map(|s| s.label()).collect();
    assert_eq!(
        labels,
        [
            "euler",
            "full-truncation",
            "log-euler",
            "exact-ou",
            "exact-gbm",
            "exact-cir"
        ]
    );
    for step in Step::ALL {
        let info = step.info();
        assert_eq!(info.step, step);
        assert_eq!(info.label, step.label());
        assert_eq!(format!("{step:?}"), info.variant);
        assert_eq!(info.components, Components::Own);
        assert_eq!(info.exact, step.is_exact());
        assert_eq!(info.weak_order.is_none(), info.exact);
        assert_eq!(info.jumps, step.admits_jumps());
        // Jumps are added per time step to the stepped state x.
        assert_eq!(
            info.jumps,
            matches!(step, Step::Euler | Step::FullTruncation)
        );
    }
}

/// A Wright–Fisher diffusion on `[0, 1]` whose noise is large enough to reach both ends.
struct WrightFisher {
    sigma: f64,
}

impl Sde<1, 1> for WrightFisher {
    const NAME: &'static str = "wright-fisher";
    const STATE: [&'static str; 1] = ["x"];
    const DOMAIN: [Domain; 1] = [Domain::Interval {
        lower: 0.0,
        upper: 1.0,
    }];

    fn initial_state(&self) -> [f64; 1] {
        [0.5]
    }

    fn drift(&self, _t: f64, x: &[f64; 1]) -> [f64; 1] {
        [0.5 * (0.5 - x[0])]
    }

    fn diffusion(&self, _t: f64, x: &[f64; 1]) -> [[f64; 1]; 1] {
        // NaN outside [0, 1]: a stepper that evaluated it there would poison the path.
        [[self.sigma * (x[0] * (1.0 - x[0])).sqrt()]]
    }
}

const TRUNCATED: Scheme<1> = Scheme::new("full-truncation", [Step::FullTruncation]);

#[test]
fn full_truncation_within_an_interval_clamps_at_both_ends() {
    let model = WrightFisher { sigma: 2.0 };
    let stepper = Stepper::new(&TRUNCATED, [[1.0]])
        .unwrap()
        .within(&WrightFisher::DOMAIN);
    let h = 0.01_f64;
    // Above 1: coefficients at 1 (drift -0.25, no noise); observed as 1.
    let mut x = [1.2];
    stepper.step(&model, 0.0, h, h.sqrt(), &mut x, &[0.8]);
    assert_eq!(x, [1.2 - 0.25 * h]);
    assert_eq!(stepper.observe(&x), [1.0]);
    // Below 0: coefficients at 0 (drift 0.25, no noise); observed as 0.
    let mut x = [-0.1];
    stepper.step(&model, 0.0, h, h.sqrt(), &mut x, &[-0.8]);
    assert_eq!(x, [-0.1 + 0.25 * h]);
    assert_eq!(stepper.observe(&x), [0.0]);
    // Non-finite values pass through, so that a diverged path is counted.
    assert!(stepper.observe(&[f64::NAN])[0].is_nan());
    assert_eq!(stepper.observe(&[f64::INFINITY]), [f64::INFINITY]);
    // Without the domain, the step is the classic one: floor 0, no ceiling.
    let classic = Stepper::new(&TRUNCATED, [[1.0]]).unwrap();
    assert_eq!(classic.observe(&[1.2]), [1.2]);
    assert_eq!(classic.observe(&[-0.1]), [0.0]);
}

#[test]
fn an_interval_domain_keeps_every_observed_state_inside() {
    let config = architect_sdk::RunConfig {
        paths: 2000,
        steps: 50,
        checkpoints: 5,
        keep_terminal: true,
        ..Default::default()
    };
    let out = architect_sdk::simulate(&WrightFisher { sigma: 2.0 }, &TRUNCATED, &config).unwrap();
    let terminal = out.terminal.unwrap();
    assert!(terminal.iter().all(|x| (0.0..=1.0).contains(&x[0])));
    // Both ends are reached with this much noise, and no path diverged.
    assert!(terminal.iter().any(|x| x[0] == 0.0) && terminal.iter().any(|x| x[0] == 1.0));
    let last = &out.checkpoints.last().unwrap().sums;
    assert_eq!((last.count, last.nonfinite), (config.paths, 0));
}

#[test]
fn domains_and_constraints_describe_themselves() {
    let unit = Domain::Interval {
        lower: 0.0,
        upper: 1.0,
    };
    assert_eq!(unit.label(), "[0, 1]");
    assert_eq!(
        Domain::Interval {
            lower: -0.5,
            upper: 2.25
        }
        .label(),
        "[-0.5, 2.25]"
    );
    assert_eq!(Domain::Nonnegative.label(), "nonnegative");
    let c = unit.constraint();
    assert!(c.admits(0.0) && c.admits(1.0) && c.admits(0.3));
    assert!(!c.admits(-1e-12) && !c.admits(1.0 + 1e-12) && !c.admits(f64::NAN));
    assert_eq!(c.requirement(), "must lie in [0, 1]");
    assert_eq!(unit.truncation(), (0.0, 1.0));
    assert_eq!(Domain::Positive.truncation(), (0.0, f64::INFINITY));
}
