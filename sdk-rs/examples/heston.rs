//! The Heston model with full truncation, written the way a generated crate writes it.
//!
//! `cargo run --release --example heston -- --paths 100000 --steps 200`

use architect_sdk::{Scheme, Sde, Step};

/// `dx = −v/2 dt + √v dW₁`, `dv = κ(θ − v) dt + ξ√v dW₂`, `d⟨W₁, W₂⟩ = ρ dt` (log-price `x`).
#[derive(Clone, Debug)]
pub struct Model {
    pub kappa: f64,
    pub theta: f64,
    pub xi: f64,
    pub rho: f64,
}

impl Default for Model {
    fn default() -> Self {
        Model {
            kappa: 2.0,
            theta: 0.04,
            xi: 0.3,
            rho: -0.7,
        }
    }
}

pub const SCHEME: Scheme<2> = Scheme::new(
    "euler-maruyama+full-truncation",
    [Step::Euler, Step::FullTruncation],
);

impl Sde<2, 2> for Model {
    const NAME: &'static str = "heston";
    const STATE: [&'static str; 2] = ["x", "v"];

    fn initial_state(&self) -> [f64; 2] {
        [0.0, 0.04]
    }

    fn drift(&self, _t: f64, state: &[f64; 2]) -> [f64; 2] {
        let v = state[1];
        [-0.5 * v, self.kappa * (self.theta - v)]
    }

    fn diffusion(&self, _t: f64, state: &[f64; 2]) -> [[f64; 2]; 2] {
        let v = state[1];
        [[v.sqrt(), 0.0], [0.0, self.xi * v.sqrt()]]
    }

    fn correlation(&self) -> [[f64; 2]; 2] {
        [[1.0, self.rho], [self.rho, 1.0]]
    }
}

// As a generated crate's main: only the engine path that SCHEME takes is compiled.
fn main() -> std::process::ExitCode {
    architect_sdk::cli::run_as::<{ SCHEME.is_exact() }, _, _, _>(Model::default(), SCHEME)
}
