//! The model trait that generated crates implement.

use crate::jumps::Jump;

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

    /// State at time 0.
    fn initial_state(&self) -> [f64; D];

    /// Parameter names and values, reported by `--describe` (default: none).
    fn parameters(&self) -> Vec<(&'static str, f64)> {
        Vec::new()
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

/// The `M × M` identity matrix.
pub fn identity<const M: usize>() -> [[f64; M]; M] {
    std::array::from_fn(|k| std::array::from_fn(|l| if k == l { 1.0 } else { 0.0 }))
}
