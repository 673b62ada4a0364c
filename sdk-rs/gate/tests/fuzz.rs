//! Property tests: hostile fragments, in every position a model file can hold them, are refused
//! with a position on the fragment's line; and token soup never makes the gate panic.
//!
//! Deterministic: a fixed number of cases from a fixed seed, and no failure persistence.

mod common;

use architect_gate::check_model_source;
use common::model_with;
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, RngSeed};

fn config(cases: u32) -> Config {
    Config {
        cases,
        failure_persistence: None,
        rng_algorithm: RngAlgorithm::ChaCha,
        rng_seed: RngSeed::Fixed(0x6761_7465),
        max_shrink_iters: 256,
        ..Config::default()
    }
}

/// Macros that reach outside or evaluate at compile time, called with arguments that parse.
const FORBIDDEN_MACROS: [&str; 20] = [
    "include!(\"/tmp/x.rs\")",
    "include_str!(\"/etc/hostname\")",
    "include_bytes!(\"/etc/hostname\")",
    "env!(\"HOME\")",
    "option_env!(\"HOME\")",
    "concat!(\"a\", 1)",
    "concat_idents!(a, b)",
    "concat_bytes!(b\"a\")",
    "stringify!(x)",
    "file!()",
    "line!()",
    "column!()",
    "module_path!()",
    "compile_error!(\"x\")",
    "asm!(\"nop\")",
    "global_asm!(\"nop\")",
    "format_args!(\"{}\", 1)",
    "println!(\"x\")",
    "dbg!(1)",
    "todo!()",
];

/// Expressions that must be refused wherever they sit.
fn hostile_expr() -> impl Strategy<Value = String> {
    let macros = prop::sample::select(FORBIDDEN_MACROS.to_vec()).prop_map(str::to_owned);
    let qualified = (
        prop::sample::select(vec![
            "std::", "core::", "::std::", "alloc::", "self::", "Model::",
        ]),
        prop::sample::select(vec![
            "vec![1.0]",
            "panic!(\"x\")",
            "assert!(true)",
            "include_str!(\"/etc/hostname\")",
            "env!(\"HOME\")",
        ]),
    )
        .prop_map(|(path, mac)| format!("{path}{mac}"));
    let raw = prop::sample::select(vec![
        "r#std::fs::write(\"../owned\", \"x\")",
        "r#std::env::vars()",
        "r#std::fs::read_to_string(\"/etc/hostname\")",
        "r#std::process::Command::new(\"sh\").output()",
        "r#std::net::TcpStream::connect(\"1.2.3.4:80\")",
        "r#std::process::Command::new(\"setsid\").spawn()",
        "std::r#fs::read(\"x\")",
        "r#include_str!(\"/etc/hostname\")",
        "r#vec![1.0]",
        "r#kappa",
    ])
    .prop_map(str::to_owned);
    let std_paths = prop::sample::select(vec![
        "std::fs::read(\"x\")",
        "std::process::exit(0)",
        "std::env::var(\"HOME\")",
        "core::ptr::null::<u8>()",
        "std::thread::spawn(|| ())",
        "std::io::stdout()",
        "::std::fs::read(\"x\")",
        "architect_sdk::cli::run",
        "crate::Model::default()",
    ])
    .prop_map(str::to_owned);
    let leaf = prop_oneof![macros, qualified, raw, std_paths];
    // Nested in brackets and in the arguments of allowed macros.
    leaf.prop_recursive(3, 8, 1, |inner| {
        prop_oneof![
            inner.clone().prop_map(|e| format!("({e})")),
            inner.clone().prop_map(|e| format!("[{e}]")),
            inner.clone().prop_map(|e| format!("{{ {e} }}")),
            inner.clone().prop_map(|e| format!("vec![{e}]")),
            inner.clone().prop_map(|e| format!("vec![{e}; 2]")),
            inner
                .clone()
                .prop_map(|e| format!("{{ assert!(true, \"{{:?}}\", {e}); 0 }}")),
            inner.prop_map(|e| format!("{{ if false {{ panic!(\"{{}}\", {e}) }} 0 }}")),
        ]
    })
}

/// A hostile fragment `e` placed in one of the positions a model file can hold it: `(items,
/// body)` for `model_with`, all on one line.
fn placed(e: &str, position: usize) -> (String, String) {
    let item = |s: String| (s, "[0.0]".to_owned());
    let body = |s: String| (String::new(), s);
    match position {
        0 => body(format!("let _ = {e}; [0.0]")),
        1 => item(format!("#[must_use = {e}] pub fn f() {{}}")),
        2 => item(format!("#[doc = {e}] pub fn f() {{}}")),
        3 => item(format!(
            "trait Leak {{ fn f() -> [u8; {{ let _ = {e}; 0 }}]; }}"
        )),
        4 => item(format!(
            "impl Model {{ fn f() -> [u8; {{ let _ = {e}; 0 }}]; }}"
        )),
        5 => item(format!(
            "impl Model {{ fn f() -> [u8; {{ let _ = {e}; 0 }}] {{ [] }} }}"
        )),
        6 => item(format!(
            "struct W<const N: usize>; fn h() -> W<{{ let _ = {e}; 0 }}> {{ W }}"
        )),
        7 => item(format!("const C: usize = {{ let _ = {e}; 0 }};")),
        8 => body(format!("let _: [u8; {{ let _ = {e}; 0 }}] = []; [0.0]")),
        9 => body(format!("panic!(\"{{}}\", {e})")),
        10 => body(format!("assert_eq!({e}, {e}); [0.0]")),
        11 => body(format!(
            "match 0 {{ _ if {{ let _ = {e}; true }} => [0.0], _ => [1.0] }}"
        )),
        12 => item(format!("#[allow(dead_code, reason = {e})] fn f() {{}}")),
        13 => item(format!("#[inline({e})] fn f() {{}}")),
        14 => body(format!("#[allow(unused)] let _ = {e}; [0.0]")),
        15 => item(format!(
            "trait T {{ const N: usize = {{ let _ = {e}; 0 }}; }}"
        )),
        _ => item(format!("enum E {{ A = {{ let _ = {e}; 0 }} }}")),
    }
}

const POSITIONS: usize = 17;
/// Positions refused whatever the fragment: a function without a body in an `impl`, and
/// `#[inline(…)]` with anything but `always` or `never`.
const REFUSED_ANYWAY: [usize; 2] = [4, 13];

/// The control: with a harmless fragment, every other position passes the gate, so what the
/// property test finds there is the fragment's doing.
#[test]
fn a_harmless_fragment_passes_in_the_same_positions() {
    for position in 0..POSITIONS {
        let (items, body) = placed("\"ok\"", position);
        let found = check_model_source(&model_with(&items, &body));
        assert_eq!(
            found.is_empty(),
            !REFUSED_ANYWAY.contains(&position),
            "position {position}: {found:#?}"
        );
    }
}

proptest! {
    #![proptest_config(config(384))]

    #[test]
    fn hostile_fragments_are_refused_in_every_position(
        e in hostile_expr(),
        position in 0..POSITIONS,
    ) {
        let (items, body) = placed(&e, position);
        let source = model_with(&items, &body);
        let line = if items.is_empty() { 11 } else { 6 };
        let found = check_model_source(&source);
        prop_assert!(!found.is_empty(), "accepted:\n{}", source);
        prop_assert!(
            found.iter().any(|v| v.line == line),
            "no violation on line {}: {:#?}\n{}", line, found, source
        );
        // Refused for what it does, not because the generator wrote something unparsable.
        prop_assert!(
            !found.iter().any(|v| v.reason.contains("not valid Rust")
                || v.reason.contains("internal error")),
            "{:#?}\n{}", found, source
        );
    }
}

/// Tokens for soup: identifiers (raw ones, keywords and macro names among them), punctuation,
/// literals and the three kinds of bracket.
fn soup() -> impl Strategy<Value = String> {
    let atom = prop::sample::select(vec![
        "x",
        "r#x",
        "r#std",
        "std",
        "fs",
        "include_str",
        "env",
        "vec",
        "panic",
        "macro_rules",
        "if",
        "return",
        "match",
        "impl",
        "fn",
        "let",
        "unsafe",
        "while",
        "static",
        "'a",
        "'static",
        "!",
        "!=",
        "::",
        ":",
        ";",
        ",",
        "=",
        "#",
        "#!",
        "->",
        "=>",
        "<",
        ">",
        "&",
        "|",
        "+",
        "*",
        ".",
        "?",
        "$",
        "\"s\"",
        "r#\"s\"#",
        "1",
        "1.0",
        "b'a'",
        "'c'",
        "f64",
        "Self",
        "self",
    ])
    .prop_map(str::to_owned);
    prop::collection::vec(atom, 0..12)
        .prop_map(|v| v.join(" "))
        .prop_recursive(4, 64, 6, |inner| {
            prop::collection::vec(
                prop_oneof![
                    inner.clone().prop_map(|s| format!("({s})")),
                    inner.clone().prop_map(|s| format!("[{s}]")),
                    inner.clone().prop_map(|s| format!("{{{s}}}")),
                    inner,
                ],
                0..6,
            )
            .prop_map(|v| v.join(" "))
        })
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn token_soup_never_crashes_the_gate(s in soup(), position in 0..4usize) {
        let source = match position {
            0 => s.clone(),
            1 => model_with("", &format!("{s} [0.0]")),
            2 => model_with(&format!("#[doc = {s}] fn f() {{}}"), "[0.0]"),
            _ => model_with(&format!("impl Model {{ {s} }}"), "[0.0]"),
        };
        let found = check_model_source(&source);
        prop_assert!(
            !found.iter().any(|v| v.reason.contains("internal error")),
            "{:#?}\n{}", found, source
        );
        for v in &found {
            prop_assert!(v.line >= 1 && v.column >= 1, "{:?}", v);
        }
        // A raw identifier anywhere is refused (by the scan, or as unparsable).
        if s.split(' ').any(|t| t.starts_with("r#") && !t.starts_with("r#\"")) {
            prop_assert!(!found.is_empty(), "accepted:\n{}", source);
        }
    }
}
