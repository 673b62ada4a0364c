//! The SDK's error type.

use std::fmt;

/// Why a run could not start or finish.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SdkError {
    /// A run setting is out of range (bad usage).
    Config(String),
    /// The model cannot be simulated as given (e.g. a correlation matrix that is not PSD).
    Model(String),
    /// Writing an output failed, or the thread pool could not start.
    Runtime(String),
}

impl fmt::Display for SdkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SdkError::Config(msg) => write!(f, "invalid run configuration: {msg}"),
            SdkError::Model(msg) => write!(f, "invalid model: {msg}"),
            SdkError::Runtime(msg) => f.write_str(msg),
        }
    }
}

impl std::error::Error for SdkError {}
