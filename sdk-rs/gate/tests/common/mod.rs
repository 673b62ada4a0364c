//! Helpers shared by the red-team and property tests.

#![allow(dead_code)]

use architect_gate::{Violation, check_model_source};

/// A well-formed model with `items` before its `Sde` impl and `body` as the drift's body (which
/// may use `self`, `t` and `x`). `items` starts on line 6, `body` is on line `11 + items.lines()`.
pub fn model_with(items: &str, body: &str) -> String {
    format!(
        r#"use architect_sdk::{{Scheme, Sde, Step}};
pub const SCHEME: Scheme<1> = Scheme::new("euler-maruyama", [Step::Euler]);
#[derive(Clone, Debug)]
pub struct Model {{ pub kappa: f64 }}
impl Default for Model {{ fn default() -> Self {{ Model {{ kappa: 1.0 }} }} }}
{items}
impl Sde<1, 1> for Model {{
    const NAME: &'static str = "m";
    const STATE: [&'static str; 1] = ["x"];
    fn initial_state(&self) -> [f64; 1] {{ [0.0] }}
    fn drift(&self, t: f64, x: &[f64; 1]) -> [f64; 1] {{ {body} }}
    fn diffusion(&self, _t: f64, _x: &[f64; 1]) -> [[f64; 1]; 1] {{ [[1.0]] }}
}}
"#
    )
}

/// The 1-based line and column of the first occurrence of `token` in `source`.
pub fn position_of(source: &str, token: &str) -> (usize, usize) {
    let offset = source
        .find(token)
        .unwrap_or_else(|| panic!("{token:?} is not in the source"));
    let before = &source[..offset];
    let line = before.matches('\n').count() + 1;
    let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
    (line, column)
}

/// Asserts that the gate refuses `source` with a reason containing `needle`, reported at the
/// first occurrence of `token`; returns every violation.
pub fn refused_at(source: &str, needle: &str, token: &str) -> Vec<Violation> {
    let found = check_model_source(source);
    let (line, column) = position_of(source, token);
    assert!(
        found
            .iter()
            .any(|v| v.reason.contains(needle) && v.line == line && v.column == column),
        "expected a violation mentioning {needle:?} at {line}:{column} ({token:?}), got {found:#?}\nfor:\n{source}"
    );
    found
}

/// Asserts that the gate accepts `source`.
pub fn accepted(source: &str) {
    let found = check_model_source(source);
    assert_eq!(found, vec![], "for:\n{source}");
}
