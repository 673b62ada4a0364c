//! Python bindings of the architect SDK (`architect._native`): thin type conversions only.
#![forbid(unsafe_code)]

use pyo3::prelude::*;
use pyo3::types::PyDict;

/// The SDK version string.
#[pyfunction]
fn sdk_version() -> &'static str {
    architect_sdk::SDK_VERSION
}

/// The first `n` standard normals drawn by path `path` of a run seeded with `seed`.
#[pyfunction]
fn standard_normals(seed: u64, path: u64, n: usize) -> Vec<f64> {
    architect_sdk::rng::standard_normals(seed, path, n)
}

/// Every exponent multi-index of length `dim` and total degree 1..=`degree`, in reporting order.
#[pyfunction]
fn exponents(dim: usize, degree: usize) -> Vec<Vec<u32>> {
    architect_sdk::moments::exponents(dim, degree)
}

/// The SDK's step kinds, one dict per kind in declaration order (`architect_sdk::Step::info`):
/// `variant`, `label`, `scheme_name` (str), `components` (str, `"own"`), `weak_order` (int, or
/// `None` for exact steps), `exact` and `jumps` (bool), `exact_on` (list of law families).
/// `architect/schemes.py` is the Python table built from it.
#[pyfunction]
fn schemes(py: Python<'_>) -> PyResult<Vec<Bound<'_, PyDict>>> {
    architect_sdk::Step::ALL
        .iter()
        .map(|step| {
            let info = step.info();
            let d = PyDict::new(py);
            d.set_item("variant", info.variant)?;
            d.set_item("label", info.label)?;
            d.set_item("scheme_name", info.scheme_name)?;
            d.set_item("components", info.components.label())?;
            d.set_item("weak_order", info.weak_order)?;
            d.set_item("exact", info.exact)?;
            d.set_item("jumps", info.jumps)?;
            d.set_item("exact_on", info.exact_on.to_vec())?;
            Ok(d)
        })
        .collect()
}

/// The static gate on a generated `src/model.rs`: `(line, column, reason)` for every violation,
/// an empty list when the code is accepted (see the `architect-gate` crate for the rules).
#[pyfunction]
fn check_model_source(py: Python<'_>, source: &str) -> Vec<(usize, usize, String)> {
    let source = source.to_owned();
    py.detach(move || architect_gate::check_model_source(&source))
        .into_iter()
        .map(|v| (v.line, v.column, v.reason))
        .collect()
}

/// A model file read back for the proof that it is the model: `(drift, diffusion, correlation,
/// tokens)` — the source text of the expressions each function returns (`correlation` is `None`
/// when the file does not define it) and the file's code tokens as `(text, line)`. Raises
/// `ValueError` with the reason for a file the gate refuses or whose functions do not end in array
/// literals.
#[pyfunction]
#[allow(clippy::type_complexity)]
fn read_model_source(
    py: Python<'_>,
    source: &str,
) -> PyResult<(
    Vec<String>,
    Vec<Vec<String>>,
    Option<Vec<Vec<String>>>,
    Vec<(String, usize)>,
)> {
    let source = source.to_owned();
    let (slots, tokens) = py
        .detach(move || architect_gate::read_model_source(&source))
        .map_err(pyo3::exceptions::PyValueError::new_err)?;
    let tokens = tokens.into_iter().map(|t| (t.text, t.line)).collect();
    Ok((slots.drift, slots.diffusion, slots.correlation, tokens))
}

/// The `architect._native` extension module.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(sdk_version, m)?)?;
    m.add_function(wrap_pyfunction!(standard_normals, m)?)?;
    m.add_function(wrap_pyfunction!(exponents, m)?)?;
    m.add_function(wrap_pyfunction!(schemes, m)?)?;
    m.add_function(wrap_pyfunction!(check_model_source, m)?)?;
    m.add_function(wrap_pyfunction!(read_model_source, m)?)?;
    Ok(())
}
