//! Runtime of architect-generated SDE simulators.
//!
//! A generated crate implements [`Sde`] for its model, names a [`Scheme`], and hands both to
//! [`cli::run_jailed`] (which locks the process down before it builds the model, see [`jail`],
//! and compiles only the engine path that the scheme takes: exact transitions or time steps),
//! which parses the command line, simulates the paths in parallel and writes
//! the statistics JSON (power sums of the state at equally spaced checkpoints). The contract
//! is described in `docs/architecture.md`, section "The SDK contract".
// `unsafe` is denied everywhere but in `simd` (AVX-512 intrinsics) and in one function of `serve`
// (adopting a received file descriptor); docs/security.md.
#![deny(unsafe_code)]

pub mod cli;
pub mod engine;
pub mod error;
pub mod exact;
pub mod files;
pub mod functions;
pub mod jail;
pub mod jumps;
pub mod moments;
pub mod observers;
pub mod rng;
pub mod scheme;
pub mod sde;
#[cfg(unix)]
pub mod serve;
#[allow(unsafe_code)]
pub mod simd;
pub mod ziggurat;
mod ziggurat_tables;

pub use engine::{RunConfig, RunOutput, simulate, simulate_as, simulate_into, simulate_with};
pub use error::SdkError;
pub use functions::{erf, sign};
pub use jumps::{Jump, JumpSize};
pub use observers::Observer;
pub use scheme::{Scheme, Step, StepInfo};
pub use sde::{Constraint, Domain, Sde};

/// Version of this SDK, reported by every binary.
pub const SDK_VERSION: &str = env!("CARGO_PKG_VERSION");

/// The `format` tag of the statistics JSON.
pub const STATS_FORMAT: &str = "architect.stats/1";
