//! The model trait that generated crates implement.

use crate::error::SdkError;

/// A stochastic differential equation with `D` state variables driven by `M` Brownian motions:
///
/// `dX_i = drift_i(t, X) dt + Σ_k diffusion[i][k](t, X) dW_k (+ dJ_i)`, with `d<W_k, W_l> = correlation[k][l] dt`
/// and optional compound-Poisson jumps `J_i` ([`Sde::jumps`]).
///
/// Implementations must be cheap to call: the engine evaluates `drift` and `diffusion` once per
/// path and step. `Sync` because paths are simulated on several threads sharing one model.
pub trait Sde<const D: usize, const M: usize>: Sync {
    /// Model name, reported in the statistics JSON.
    const NAME: &'static str;
    /// Names of the state variables, in state order.
    const STATE: [&'static str; D];
    /// Where each state variable lives, in state order (default: anywhere); `--x0` checks it.
    const DOMAIN: [Domain; D] = [Domain::Real; D];
    /// The parameters that `--set` may change, by name, with the values each may take
    /// (default: none). Generated crates list every parameter of [`Sde::parameters`].
    const CONSTRAINTS: &'static [(&'static str, Constraint)] = &[];

    /// State at time 0.
    fn initial_state(&self) -> [f64; D];

    /// Parameter names and values, reported by `--describe` (default: none).
    fn parameters(&self) -> Vec<(&'static str, f64)> {
        Vec::new()
    }

    /// Sets the parameter `name` to `value`; `false` when the model has no such parameter (the
    /// default). The command line checks `value` against [`Sde::CONSTRAINTS`] first; values that
    /// are derived from others (`per_step`, jumps) are computed from the fields when the run starts.
    fn set_parameter(&mut self, name: &str, value: f64) -> bool {
        let _ = (name, value);
        false
    }

    /// Drift vector `b(t, x)`.
    fn drift(&self, t: f64, x: &[f64; D]) -> [f64; D];

    /// Diffusion matrix `σ(t, x)`; row `i` belongs to equation `i`, column `k` to `W_k`.
    fn diffusion(&self, t: f64, x: &[f64; D]) -> [[f64; M]; D];

    /// Instantaneous correlation `ρ` of the Brownian motions (default: independent).
    fn correlation(&self) -> [[f64; M]; M] {
        identity()
    }

    /// Compound-Poisson jumps added to state variables (default: none). Called once per run.
    fn jumps(&self) -> Vec<Jump> {
        Vec::new()
    }

    /// A copy of the model whose drift is this one's times `h` and whose diffusion is this
    /// one's times `sqrt_h` (= √h), or `None` (the default). Generated crates return one when
    /// the drift is linear in parameters that the diffusion does not use and the diffusion in
    /// parameters that the drift does not use (OU: `κ → κh`, `σ → σ√h`): then a plain Euler
    /// step is `x + b + σ z`, with the multiplications by `h` and `√h` made once per run
    /// instead of once per path and step. Called once per run, for plain schemes only
    /// ([`crate::scheme::Stepper::is_plain`]).
    fn per_step(&self, h: f64, sqrt_h: f64) -> Option<Self>
    where
        Self: Sized,
    {
        let _ = (h, sqrt_h);
        None
    }
}

/// The values a parameter may take (`architect.model.CONSTRAINTS`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Constraint {
    /// Any finite number.
    Real,
    /// A finite number > 0.
    Positive,
    /// A finite number ≥ 0.
    Nonnegative,
    /// A correlation, in `[-1, 1]`.
    Correlation,
    /// A finite number in the closed interval `[lower, upper]` (a state variable's
    /// [`Domain::Interval`]).
    Interval {
        /// The smallest value admitted.
        lower: f64,
        /// The largest value admitted.
        upper: f64,
    },
}

impl Constraint {
    /// Its name in architect's model files (`"positive"`, `"[0, 1]"`).
    pub fn label(self) -> String {
        match self {
            Constraint::Real => "real".into(),
            Constraint::Positive => "positive".into(),
            Constraint::Nonnegative => "nonnegative".into(),
            Constraint::Correlation => "correlation".into(),
            Constraint::Interval { lower, upper } => format!("[{lower}, {upper}]"),
        }
    }

    /// Whether `value` satisfies it.
    pub fn admits(self, value: f64) -> bool {
        value.is_finite()
            && match self {
                Constraint::Real => true,
                Constraint::Positive => value > 0.0,
                Constraint::Nonnegative => value >= 0.0,
                Constraint::Correlation => (-1.0..=1.0).contains(&value),
                Constraint::Interval { lower, upper } => (lower..=upper).contains(&value),
            }
    }

    /// What it asks of a value, in words (`"must be positive (> 0)"`).
    pub fn requirement(self) -> String {
        match self {
            Constraint::Real => "must be a finite number (real)".into(),
            Constraint::Positive => "must be positive (> 0)".into(),
            Constraint::Nonnegative => "must be nonnegative (>= 0)".into(),
            Constraint::Correlation => "must be a correlation (in [-1, 1])".into(),
            Constraint::Interval { .. } => format!("must lie in {}", self.label()),
        }
    }
}

/// Where a state variable lives (`architect.model.DOMAINS`, and closed intervals `"[a, b]"`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Domain {
    /// Any finite number.
    Real,
    /// A finite number > 0.
    Positive,
    /// A finite number ≥ 0.
    Nonnegative,
    /// A finite number in `[lower, upper]`, both ends included (Jacobi, Wright–Fisher: `[0, 1]`).
    /// A full-truncation step keeps such a component inside: its coefficients and its observer
    /// see the state clamped to the interval ([`crate::scheme::Stepper`]).
    Interval {
        /// The lower end.
        lower: f64,
        /// The upper end.
        upper: f64,
    },
}

impl Domain {
    /// Its name in architect's model files (`"nonnegative"`, `"[0, 1]"`).
    pub fn label(self) -> String {
        self.constraint().label()
    }

    /// The same requirement as a parameter constraint.
    pub const fn constraint(self) -> Constraint {
        match self {
            Domain::Real => Constraint::Real,
            Domain::Positive => Constraint::Positive,
            Domain::Nonnegative => Constraint::Nonnegative,
            Domain::Interval { lower, upper } => Constraint::Interval { lower, upper },
        }
    }

    /// Where a full-truncation step clamps the state, `(floor, ceiling)`: `[lower, upper]` for an
    /// interval, `[0, ∞)` otherwise (the step's classic form, Lord, Koekkoek & van Dijk 2010).
    pub const fn truncation(self) -> (f64, f64) {
        match self {
            Domain::Interval { lower, upper } => (lower, upper),
            _ => (0.0, f64::INFINITY),
        }
    }
}

/// The `M × M` identity matrix.
pub fn identity<const M: usize>() -> [[f64; M]; M] {
    std::array::from_fn(|k| std::array::from_fn(|l| if k == l { 1.0 } else { 0.0 }))
}

/// The law of one jump's size.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum JumpSize {
    /// `N(mean, sd²)`: Merton (1976) log-normal price jumps when the state is a log-price.
    Normal {
        /// Mean size.
        mean: f64,
        /// Standard deviation (> 0).
        sd: f64,
    },
    /// Kou (2002): `+Exp(eta1)` with probability `p`, `−Exp(eta2)` otherwise (rates, means `1/eta`).
    DoubleExponential {
        /// Probability of an upward jump, in `[0, 1]`.
        p: f64,
        /// Rate of upward jumps (> 1, so that `E[e^Y]` is finite).
        eta1: f64,
        /// Rate of downward jumps (> 0).
        eta2: f64,
    },
}

/// A compound-Poisson part added to the state variable with index `variable`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Jump {
    /// Index of the state variable that jumps.
    pub variable: usize,
    /// Jump rate per unit time (≥ 0).
    pub intensity: f64,
    /// Law of the jump sizes.
    pub size: JumpSize,
}

impl Jump {
    /// Checks the parameters for a model with `dim` state variables.
    pub fn check(&self, dim: usize) -> Result<(), SdkError> {
        let fail = |msg: String| Err(SdkError::Model(msg));
        if self.variable >= dim {
            return fail(format!(
                "a jump part names state variable {} of {dim}",
                self.variable
            ));
        }
        if !(self.intensity.is_finite() && self.intensity >= 0.0) {
            return fail(format!(
                "jump intensity must be finite and non-negative, got {}",
                self.intensity
            ));
        }
        match self.size {
            JumpSize::Normal { mean, sd } if !(mean.is_finite() && sd.is_finite() && sd > 0.0) => {
                fail(format!(
                    "normal jump sizes need a finite mean and a positive sd, got mean {mean}, sd {sd}"
                ))
            }
            JumpSize::DoubleExponential { p, eta1, eta2 }
                if !(double_exponential_ok(p, eta1) && eta2.is_finite() && eta2 > 0.0) =>
            {
                fail(format!(
                    "double-exponential jumps need p in [0, 1], eta1 > 1 and eta2 > 0, got p {p}, eta1 {eta1}, eta2 {eta2}"
                ))
            }
            _ => Ok(()),
        }
    }
}

/// `p` a probability and `1 < eta1 < ∞` (so that `E[e^Y]` is finite).
fn double_exponential_ok(p: f64, eta1: f64) -> bool {
    (0.0..=1.0).contains(&p) && eta1.is_finite() && eta1 > 1.0
}
