//! Geometric Brownian motion with the plain Euler–Maruyama step, written the way a generated
//! crate writes it (the benchmarks compare Euler steps across libraries).
//!
//! `cargo run --release --example gbm -- --paths 100000 --steps 200`

use architect_sdk::{Scheme, Sde, Step};

/// `dS = μS dt + σS dW`.
#[derive(Clone, Debug)]
pub struct Model {
    pub mu: f64,
    pub sigma: f64,
}

impl Default for Model {
    fn default() -> Self {
        Model {
            mu: 0.05,
            sigma: 0.2,
        }
    }
}

pub const SCHEME: Scheme<1> = Scheme::new("euler-maruyama", [Step::Euler]);

impl Sde<1, 1> for Model {
    const NAME: &'static str = "gbm";
    const STATE: [&'static str; 1] = ["s"];

    fn initial_state(&self) -> [f64; 1] {
        [1.0]
    }

    fn drift(&self, _t: f64, state: &[f64; 1]) -> [f64; 1] {
        [self.mu * state[0]]
    }

    fn diffusion(&self, _t: f64, state: &[f64; 1]) -> [[f64; 1]; 1] {
        [[self.sigma * state[0]]]
    }
}

// As a generated crate's main: only the engine path that SCHEME takes is compiled.
fn main() -> std::process::ExitCode {
    architect_sdk::cli::run_as::<{ SCHEME.is_exact() }, _, _, _>(Model::default(), SCHEME)
}
