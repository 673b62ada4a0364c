//! The gate against a generated model and a battery of malicious or unsupported snippets.

use architect_gate::{
    MAX_CHAIN, MAX_NESTING, MAX_SOURCE_BYTES, MAX_TOKENS, Violation, check_model_source,
};

mod common;
use common::model_with;

const GENERATED: &str = include_str!("fixtures/heston_model.rs");

fn rejected(source: &str, needle: &str) -> Vec<Violation> {
    let found = check_model_source(source);
    assert!(
        found.iter().any(|v| v.reason.contains(needle)),
        "expected a violation mentioning {needle:?}, got {found:#?}\nfor:\n{source}"
    );
    found
}

#[test]
fn generated_model_passes() {
    assert_eq!(check_model_source(GENERATED), vec![]);
}

#[test]
fn ordinary_rust_in_a_model_passes() {
    let items = "const HALF: f64 = 0.5;\nfn helper(a: f64, b: f64) -> f64 { a.max(b).powi(2) + std::f64::consts::PI }";
    let body = "let mut s = 0.0; for k in 0..3 { s += (k as f64) * t; } \
                let f = |y: f64| y.exp().ln().abs().sqrt(); \
                let v = vec![1.0; 2]; assert!(v.len() == 2, \"len {}\", v.len()); \
                if x[0] > 0.0 { [helper(s, f(x[0])) * HALF * self.kappa + f64::EPSILON] } else { match 1 { _ => [0.0] } }";
    let source = model_with(items, body);
    assert_eq!(check_model_source(&source), vec![], "{source}");
    let consts = "use std::f64::consts::{PI, E};\nuse core::f64::consts::*;\n";
    assert_eq!(check_model_source(&model_with(consts, "[PI * E]")), vec![]);
}

#[test]
fn violations_carry_positions() {
    let source = model_with("", "let _ = std::fs::read(\"/etc/passwd\"); [0.0]");
    let found = rejected(&source, "filesystem");
    let v = found
        .iter()
        .find(|v| v.reason.contains("std::fs::read"))
        .unwrap();
    assert_eq!(v.line, 11);
    let line = source.lines().nth(v.line - 1).unwrap();
    assert!(
        line[v.column - 1..].starts_with("std::fs::read"),
        "{line} at {}",
        v.column
    );
}

#[test]
fn filesystem_network_processes_environment_threads_are_rejected() {
    for (body, needle) in [
        ("let _ = std::fs::remove_file(\"x\"); [0.0]", "filesystem"),
        ("let _ = std::path::Path::new(\"/\"); [0.0]", "filesystem"),
        (
            "let _ = std::net::TcpStream::connect(\"1.2.3.4:80\"); [0.0]",
            "network",
        ),
        (
            "let _ = std::process::Command::new(\"sh\").status(); [0.0]",
            "processes",
        ),
        ("std::process::exit(0)", "processes"),
        ("let _ = std::env::var(\"HOME\"); [0.0]", "environment"),
        ("std::thread::spawn(|| {}); [0.0]", "threads"),
        ("let _ = std::io::stdout(); [0.0]", "input and output"),
        ("let _ = core::ptr::null::<u8>(); [0.0]", "raw memory"),
        ("let _ = ::std::fs::read(\"x\"); [0.0]", "`::`-rooted"),
        ("let _ = alloc::vec::Vec::<u8>::new(); [0.0]", "not allowed"),
        (
            "let _ = <std::fs::File as std::io::Read>::read; [0.0]",
            "filesystem",
        ),
        ("let _: Option<std::fs::File> = None; [0.0]", "filesystem"),
        ("crate::main(); [0.0]", "`crate::`"),
        (
            "let _ = architect_sdk::files::write_atomic; [0.0]",
            "from the SDK only",
        ),
        (
            "let _ = architect_sdk::cli::run; [0.0]",
            "from the SDK only",
        ),
    ] {
        rejected(&model_with("", body), needle);
    }
}

#[test]
fn imports_are_limited_to_the_sdk_names_and_float_constants() {
    for (items, needle) in [
        ("use std::fs;", "`use std::fs`"),
        ("use std::fs::File as F;", "`use std::fs::File`"),
        ("use std::process::*;", "`use std::process::*`"),
        ("use architect_sdk::*;", "`use architect_sdk::*`"),
        ("use architect_sdk::files;", "`use architect_sdk::files`"),
        (
            "use architect_sdk::{Sde, cli::run};",
            "`use architect_sdk::cli::run`",
        ),
        ("use self::Model as M;", "`use self::Model`"),
        ("use ::std::env;", "`use ::"),
    ] {
        rejected(&model_with(items, "[0.0]"), needle);
    }
}

#[test]
fn the_sdk_functions_pass_and_their_look_alikes_do_not() {
    let calls = "[architect_sdk::erf(x[0]) * architect_sdk::sign(t - 1.0) + x[0].tanh().atan() \
                 + x[0].sin() * t.cos() + x[0].tan() + x[0].sinh() - x[0].cosh()]";
    assert_eq!(check_model_source(&model_with("", calls)), vec![]);
    let imported = "use architect_sdk::{erf, sign};\nuse architect_sdk::Domain;\n";
    assert_eq!(
        check_model_source(&model_with(imported, "[erf(x[0]) + sign(x[0])]")),
        vec![]
    );
    for (items, body, needle) in [
        ("", "[architect_sdk::erfc(x[0])]", "`architect_sdk::erfc`"),
        (
            "",
            "[architect_sdk::signum(x[0])]",
            "`architect_sdk::signum`",
        ),
        (
            "",
            "[architect_sdk::erf::inner(x[0])]",
            "`architect_sdk::erf::inner`",
        ),
        (
            "",
            "[architect_sdk::functions::erf(x[0])]",
            "`architect_sdk::functions::erf`",
        ),
        ("", "[::architect_sdk::erf(x[0])]", "`::architect_sdk::erf`"),
        ("", "[std::f64::erf(x[0])]", "`std::f64::erf`"),
        (
            "use architect_sdk::functions;",
            "[0.0]",
            "`use architect_sdk::functions`",
        ),
        (
            "use architect_sdk::erf::*;",
            "[0.0]",
            "`use architect_sdk::erf::*`",
        ),
        ("use libm::erf;", "[0.0]", "`use libm::erf`"),
    ] {
        rejected(&model_with(items, body), needle);
    }
}

#[test]
fn unsafe_ffi_and_globals_are_rejected() {
    for (items, body, needle) in [
        ("", "unsafe { [0.0] }", "`unsafe`"),
        ("unsafe fn f() {}", "[0.0]", "`unsafe`"),
        ("unsafe impl Send for Model {}", "[0.0]", "`unsafe`"),
        (
            "extern \"C\" { fn system(c: *const u8) -> i32; }",
            "[0.0]",
            "`extern`",
        ),
        ("extern \"C\" fn f() {}", "[0.0]", "`extern`"),
        ("extern crate std as s;", "[0.0]", "`extern`"),
        ("static mut COUNT: u64 = 0;", "[0.0]", "`static`"),
        ("static COUNT: u64 = 0;", "[0.0]", "`static`"),
        ("union U { a: u64, b: f64 }", "[0.0]", "`union`"),
        (
            "",
            "let p = &raw const self.kappa; let _ = p; [0.0]",
            "raw pointers",
        ),
        ("fn f(_p: *const u8) {}", "[0.0]", "raw pointers"),
        ("#[unsafe(no_mangle)] fn f() {}", "[0.0]", "`unsafe`"),
    ] {
        rejected(&model_with(items, body), needle);
    }
}

#[test]
fn macros_that_reach_outside_are_rejected() {
    for (body, needle) in [
        (
            "let _ = include_str!(\"/etc/passwd\"); [0.0]",
            "reads files",
        ),
        (
            "let _ = include_bytes!(\"/etc/passwd\"); [0.0]",
            "reads files",
        ),
        ("include!(\"/tmp/evil.rs\")", "reads files"),
        ("let _ = env!(\"HOME\"); [0.0]", "reads the environment"),
        (
            "let _ = option_env!(\"AWS_SECRET_ACCESS_KEY\"); [0.0]",
            "reads the environment",
        ),
        ("let _ = concat!(\"a\", \"b\"); [0.0]", "macro `concat!`"),
        ("println!(\"hi\"); [0.0]", "macro `println!`"),
        ("std::arch::asm!(\"nop\"); [0.0]", "not allowed"),
        ("asm!(\"nop\"); [0.0]", "inline assembly"),
        ("let _ = format!(\"{}\", 1); [0.0]", "macro `format!`"),
        // Allowed macros are checked inside: their arguments are code too.
        (
            "assert!(std::fs::remove_dir_all(\"/\").is_ok()); [0.0]",
            "filesystem",
        ),
        ("let _ = vec![std::env::args(); 1]; [0.0]", "environment"),
        ("let _ = vec![unsafe { 1 }]; [0.0]", "`unsafe`"),
        ("panic!(\"{}\", { std::process::exit(1) })", "processes"),
        ("let _ = vec!{ fn f() {} }; [0.0]", "plain expressions"),
    ] {
        rejected(&model_with("", body), needle);
    }
    for (items, needle) in [
        ("macro_rules! m { () => {} }", "macro definitions"),
        ("std::include!(\"/tmp/x.rs\");", "not allowed"),
        ("include!(\"/tmp/x.rs\");", "not allowed"),
    ] {
        rejected(&model_with(items, "[0.0]"), needle);
    }
}

#[test]
fn attributes_outside_the_whitelist_are_rejected() {
    for (items, needle) in [
        ("#[path = \"/etc/passwd\"] mod evil;", "`mod`"),
        ("#[path = \"/etc/passwd\"] fn f() {}", "#[path]"),
        ("mod evil;", "`mod`"),
        ("mod inline { pub fn f() {} }", "`mod`"),
        ("#[link(name = \"c\")] fn f() {}", "#[link]"),
        ("#[no_mangle] pub fn f() {}", "#[no_mangle]"),
        ("#[export_name = \"main\"] pub fn f() {}", "#[export_name]"),
        (
            "#[link_section = \".init_array\"] pub fn f() {}",
            "#[link_section]",
        ),
        ("#[serde::serialize] pub fn f() {}", "#[serde::serialize]"),
        ("#[my_proc_macro] pub fn f() {}", "#[my_proc_macro]"),
        ("#[derive(Serialize)] pub struct S;", "#[derive(Serialize)]"),
        (
            "#[derive(serde::Serialize)] pub struct S;",
            "#[derive(serde::Serialize)]",
        ),
        (
            "#[cfg_attr(all(), path = \"x\")] pub fn f() {}",
            "#[cfg_attr]",
        ),
        (
            "#[doc = include_str!(\"/etc/passwd\")] pub fn f() {}",
            "reads files",
        ),
        (
            "#[doc = some_literal_builder(\"/etc/passwd\")] pub fn f() {}",
            "plain string literal",
        ),
        (
            "#[global_allocator] const A: u8 = 0;",
            "#[global_allocator]",
        ),
    ] {
        rejected(&model_with(items, "[0.0]"), needle);
    }
    assert_eq!(
        check_model_source(&model_with(
            "#[inline]\n#[allow(clippy::all)]\n#[rustfmt::skip]\n/// docs\npub fn f() -> f64 { 1.0 }",
            "[f()]"
        )),
        vec![]
    );
}

#[test]
fn unbounded_loops_and_async_are_rejected() {
    rejected(&model_with("", "loop {}"), "`loop`");
    rejected(&model_with("", "while true {} [0.0]"), "`while`");
    rejected(&model_with("async fn f() {}", "[0.0]"), "`async`");
}

#[test]
fn malformed_and_hostile_input_is_rejected_without_crashing() {
    rejected("this is not rust", "not valid Rust");
    rejected("fn f() { ", "not valid Rust");
    rejected(&"x".repeat(MAX_SOURCE_BYTES + 1), "limited to");
    rejected(&"- ".repeat(MAX_TOKENS + 1), "tokens");
    let deep = format!(
        "const X: f64 = {}1.0{};",
        "(".repeat(10_000),
        ")".repeat(10_000)
    );
    rejected(&deep, &format!("deeper than {MAX_NESTING}"));
    // Deep recursion without brackets, just under the chain limit: prefix-operator, closure,
    // `return`, assignment, type, generic and else-if chains, and a long sum (a deep tree for the
    // visitor). Each must come back with an answer; past the limit each is rejected.
    let chains = [
        ("-", 1),
        ("!", 1),
        ("&", 1),
        ("*", 1),
        ("|_| ", 3),
        ("return ", 1),
        ("x = ", 2),
        ("x + ", 2),
        ("x as f64 as ", 4),
        ("|_: A<x, ", 7),
    ];
    for (chain, tokens) in chains {
        for (n, ok) in [
            ((MAX_CHAIN - 40) / tokens, true),
            (MAX_CHAIN / tokens + 1, false),
        ] {
            let source = format!("fn f(x: f64) -> f64 {{ {}x }}", chain.repeat(n));
            let found = check_model_source(&source);
            let limited = found
                .iter()
                .any(|v| v.reason.contains("statement longer than"));
            assert_eq!(limited, !ok, "{chain:?} x {n}: {found:?}");
        }
    }
    let types = [("&", 1), ("fn() -> ", 4), ("Vec<", 2), ("A<x, ", 4)];
    for (chain, tokens) in types {
        for (n, ok) in [
            ((MAX_CHAIN - 40) / tokens, true),
            (MAX_CHAIN / tokens + 1, false),
        ] {
            let found = check_model_source(&format!("type T = {}f64;", chain.repeat(n)));
            let limited = found
                .iter()
                .any(|v| v.reason.contains("statement longer than"));
            assert_eq!(limited, !ok, "{chain:?} x {n}");
        }
    }
    let elses = format!(
        "fn f() {{ if true {{}} {} }}",
        "else if true {} ".repeat(MAX_CHAIN / 4 - 10)
    );
    let _ = check_model_source(&elses);
    // Nested groups carry their statement's chain with them.
    let nested = format!("const X: f64 = {}1.0{};", "-(".repeat(40), ")".repeat(40));
    assert_eq!(check_model_source(&nested), vec![]);
    let nested = format!(
        "const X: f64 = {}{}1.0{};",
        "-".repeat(MAX_CHAIN - 40),
        "-(".repeat(40),
        ")".repeat(40)
    );
    rejected(&nested, "statement longer than");
    // Statements separated by `;` do not add up.
    let many = "let y = - - - - - - - - x; ".repeat(MAX_CHAIN / 8);
    assert_eq!(
        check_model_source(&format!("fn f(x: f64) {{ {many} }}")),
        vec![]
    );
}
