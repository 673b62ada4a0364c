//! An Ornstein–Uhlenbeck model written the way a generated crate writes it.
//!
//! `cargo run --release --example ou -- --paths 10000`

use architect_sdk::{Constraint, Domain, Scheme, Sde, Step};

/// `dX = κ(θ − X) dt + σ dW`.
#[derive(Clone, Debug)]
pub struct Model {
    pub kappa: f64,
    pub theta: f64,
    pub sigma: f64,
    pub x0: f64,
}

impl Default for Model {
    fn default() -> Self {
        Model {
            kappa: 2.0,
            theta: 1.0,
            sigma: 0.5,
            x0: 0.0,
        }
    }
}

pub const SCHEME: Scheme<1> = Scheme::new("euler-maruyama", [Step::Euler]);

impl Sde<1, 1> for Model {
    const NAME: &'static str = "ornstein-uhlenbeck";
    const STATE: [&'static str; 1] = ["x"];
    const DOMAIN: [Domain; 1] = [Domain::Real];
    const CONSTRAINTS: &'static [(&'static str, Constraint)] = &[
        ("kappa", Constraint::Positive),
        ("theta", Constraint::Real),
        ("sigma", Constraint::Positive),
    ];

    fn parameters(&self) -> Vec<(&'static str, f64)> {
        vec![
            ("kappa", self.kappa),
            ("theta", self.theta),
            ("sigma", self.sigma),
        ]
    }

    fn set_parameter(&mut self, name: &str, value: f64) -> bool {
        match name {
            "kappa" => self.kappa = value,
            "theta" => self.theta = value,
            "sigma" => self.sigma = value,
            _ => return false,
        }
        true
    }

    fn initial_state(&self) -> [f64; 1] {
        [self.x0]
    }

    fn drift(&self, _t: f64, x: &[f64; 1]) -> [f64; 1] {
        [self.kappa * (self.theta - x[0])]
    }

    fn diffusion(&self, _t: f64, _x: &[f64; 1]) -> [[f64; 1]; 1] {
        [[self.sigma]]
    }

    fn per_step(&self, h: f64, sqrt_h: f64) -> Option<Self> {
        Some(Model {
            kappa: self.kappa * h,
            sigma: self.sigma * sqrt_h,
            ..self.clone()
        })
    }
}

// As a generated crate's main: only the engine path that SCHEME takes is compiled.
fn main() -> std::process::ExitCode {
    architect_sdk::cli::run_as::<{ SCHEME.is_exact() }, _, _, _>(Model::default(), SCHEME)
}
