//! Reproducers from the red team: each of these passed the gate once. Each must be refused, with
//! the line and column of the offending token and a reason.

mod common;

use common::{accepted, model_with, refused_at};

// ------------------------------------------------------------------ 1. raw identifiers

const RAW: &str = "raw identifiers (`r#std`) are not allowed";

#[test]
fn raw_std_fs_write_in_a_fn_body_is_refused() {
    let source = model_with("", "let _ = r#std::fs::write(\"../owned\", \"x\"); [0.0]");
    refused_at(&source, RAW, "r#std");
}

#[test]
fn raw_std_env_vars_is_refused() {
    let source = model_with("", "let _ = r#std::env::vars(); [0.0]");
    refused_at(&source, RAW, "r#std");
}

#[test]
fn raw_std_fs_read_to_string_is_refused() {
    let source = model_with(
        "",
        "let _ = r#std::fs::read_to_string(\"/etc/hostname\"); [0.0]",
    );
    refused_at(&source, RAW, "r#std");
}

#[test]
fn raw_std_process_command_output_is_refused() {
    let source = model_with(
        "",
        "let _ = r#std::process::Command::new(\"sh\").output(); [0.0]",
    );
    refused_at(&source, RAW, "r#std");
}

#[test]
fn raw_std_net_tcp_stream_connect_is_refused() {
    let source = model_with(
        "",
        "let _ = r#std::net::TcpStream::connect(\"1.2.3.4:80\"); [0.0]",
    );
    refused_at(&source, RAW, "r#std");
}

#[test]
fn raw_std_process_command_spawn_setsid_is_refused() {
    let source = model_with(
        "",
        "let _ = r#std::process::Command::new(\"setsid\").spawn(); [0.0]",
    );
    refused_at(&source, RAW, "r#std");
}

#[test]
fn raw_identifiers_anywhere_are_refused() {
    for (items, body, token) in [
        ("", "let _ = std::r#fs::read(\"x\"); [0.0]", "r#fs"),
        (
            "",
            "let _ = r#include_str!(\"/etc/hostname\"); [0.0]",
            "r#include_str",
        ),
        ("", "let r#x = 1.0; [r#x]", "r#x"),
        ("fn r#f() {}", "[0.0]", "r#f"),
        ("use r#std::fs::read;", "[0.0]", "r#std"),
        ("#[r#doc = \"x\"] fn f() {}", "[0.0]", "r#doc"),
        ("fn f<'r#a>(_x: &'r#a f64) {}", "[0.0]", "r#a"),
    ] {
        let source = model_with(items, body);
        let name = token.strip_prefix("r#").unwrap();
        refused_at(
            &source,
            &format!("raw identifiers (`r#{name}`) are not allowed"),
            token,
        );
    }
    // A use of a raw path is also refused as an import, seen through the raw identifier.
    refused_at(
        &model_with("use r#std::fs::read;", "[0.0]"),
        "`use std::fs::read` is not allowed",
        "read;",
    );
}

#[test]
fn raw_string_literals_are_not_raw_identifiers() {
    accepted(&model_with(
        "#[doc = r#\"a \"quoted\" doc\"#]\nconst S: &str = r#\"x\"#;\nconst B: &[u8] = br#\"y\"#;",
        "assert!(S.len() == 1 && B.len() == 1, r#\"{}\"#, S); [0.0]",
    ));
}

// ------------------------------------------------- 2. macros inside attribute values

#[test]
fn must_use_with_include_str_is_refused() {
    let source = model_with(
        "#[must_use = include_str!(\"/etc/hostname\")]\npub fn f() -> f64 { 1.0 }",
        "[0.0]",
    );
    refused_at(&source, "`include_str!` reads files", "include_str!");
}

#[test]
fn must_use_with_env_is_refused() {
    let source = model_with(
        "#[must_use = env!(\"HOME\")]\npub fn f() -> f64 { 1.0 }",
        "[0.0]",
    );
    refused_at(&source, "`env!` reads the environment", "env!");
}

#[test]
fn attribute_values_are_literals_only() {
    for (attr, needle, token) in [
        (
            "#[doc = concat!(\"a\", \"b\")]",
            "macro `concat!`",
            "concat!",
        ),
        ("#[doc = file!()]", "macro `file!`", "file!"),
        (
            "#[must_use = std::include_str!(\"/etc/hostname\")]",
            "reads files",
            "std::include_str",
        ),
        (
            "#[allow(dead_code, reason = include_str!(\"/etc/hostname\"))]",
            "reads files",
            "include_str!",
        ),
        (
            "#[allow(dead_code, reason = some_text())]",
            "lint names",
            "reason = some",
        ),
        ("#[allow(dead_code = \"x\")]", "lint names", "dead_code ="),
        ("#[allow(lint(x))]", "lint names", "lint(x)"),
        (
            "#[inline(include_str!(\"/etc/hostname\"))]",
            "reads files",
            "include_str!",
        ),
        ("#[inline(sometimes)]", "`always` or `never`", "sometimes"),
        ("#[cold = \"x\"]", "only as #[cold]", "#[cold"),
        ("#[must_use(x)]", "only as #[must_use]", "#[must_use"),
        ("#[doc(hidden)]", "only as #[doc", "#[doc"),
        ("#[rustfmt::skip(x)]", "#[rustfmt::skip]", "#[rustfmt"),
        ("#[derive(Clone<u8>)]", "plain trait names", "Clone<u8>"),
        (
            "#[cfg_attr(all(), doc = include_str!(\"/etc/hostname\"))]",
            "reads files",
            "include_str!",
        ),
    ] {
        let source = model_with(&format!("{attr}\npub fn f() -> f64 {{ 1.0 }}"), "[0.0]");
        refused_at(&source, needle, token);
    }
    accepted(&model_with(
        "#[must_use]\n#[must_use = \"the value\"]\n#[inline]\n#[inline(always)]\n#[cold]\n\
         #[allow(dead_code, clippy::all, reason = \"a reason\")]\n#[expect(unused)]\n\
         #[warn(missing_docs)]\n#[deny(unused_mut)]\n#[forbid(unsafe_code)]\n#[rustfmt::skip]\n\
         /// docs\n#[doc = \"more docs\"]\npub fn f() -> f64 { 1.0 }\n\
         #[inline(never)] fn g() {}",
        "#[allow(unused_variables)] let y = f(); g(); [y]",
    ));
}

// -------------------------------------------------------- 3. compile-time evaluation

const PANIC_LEN: &str = "fn f() -> [u8; { panic!(\"{}\", include_str!(\"/etc/hostname\")) }];";

#[test]
fn array_length_with_include_str_in_a_trait_is_refused() {
    let source = model_with(&format!("trait Leak {{ {PANIC_LEN} }}"), "[0.0]");
    refused_at(&source, "`include_str!` reads files", "include_str!");
}

#[test]
fn array_length_with_include_str_in_an_impl_is_refused() {
    // `syn` parses a function without a body in an `impl` as unparsed tokens: refused as such, and
    // the macro inside by the token scan.
    let source = model_with(&format!("impl Model {{ {PANIC_LEN} }}"), "[0.0]");
    refused_at(&source, "`include_str!` reads files", "include_str!");
    refused_at(
        &source,
        "the gate does not parse this syntax",
        "fn f() -> [u8",
    );
}

#[test]
fn forbidden_macros_are_refused_in_every_position() {
    for (items, body, needle, token) in [
        // Const generics, types, patterns and nested macro arguments.
        (
            "struct W<const N: usize>;\nfn h() -> W<{ include_bytes!(\"/etc/hostname\").len() }> { W }",
            "[0.0]",
            "`include_bytes!` reads files",
            "include_bytes!",
        ),
        (
            "",
            "let _: [u8; { option_env!(\"HOME\").is_some() as usize }] = []; [0.0]",
            "`option_env!` reads the environment",
            "option_env!",
        ),
        (
            "",
            "match \"\" { include_str!(\"/etc/hostname\") => [0.0], _ => [1.0] }",
            "reads files",
            "include_str!",
        ),
        (
            "",
            "assert!(true, \"{}\", vec![line!()].len()); [0.0]",
            "macro `line!`",
            "line!",
        ),
        (
            "",
            "panic!(\"{}\", module_path!())",
            "macro `module_path!`",
            "module_path!",
        ),
        (
            "",
            "compile_error!(\"x\")",
            "macro `compile_error!`",
            "compile_error!",
        ),
        ("", "let _ = column!(); [0.0]", "macro `column!`", "column!"),
        (
            "",
            "let _ = format_args!(\"x\"); [0.0]",
            "macro `format_args!`",
            "format_args!",
        ),
        (
            "",
            "let _ = concat_idents!(a, b); [0.0]",
            "macro `concat_idents!`",
            "concat_idents!",
        ),
        (
            "global_asm!(\"nop\");",
            "[0.0]",
            "inline assembly",
            "global_asm!",
        ),
        // Path-qualified macros, even allowed ones.
        (
            "",
            "let _ = std::vec![1.0]; [0.0]",
            "path-qualified",
            "std::vec",
        ),
        (
            "",
            "::core::panic!(\"x\")",
            "path-qualified",
            "::core::panic",
        ),
        (
            "",
            "let _ = std::include_str!(\"/etc/hostname\"); [0.0]",
            "reads files",
            "std::include_str",
        ),
        // Macro definitions.
        (
            "macro_rules! m { () => { include_str!(\"/etc/hostname\") } }",
            "[0.0]",
            "macro definitions",
            "macro_rules",
        ),
        ("macro m() {}", "[0.0]", "macro definitions", "macro m"),
        // Macros in trait and impl bodies, where only items go.
        (
            "trait T { vec![]; }",
            "[0.0]",
            "macro calls in a trait body",
            "vec![]",
        ),
        (
            "impl Model { vec![]; }",
            "[0.0]",
            "macro calls in an `impl` body",
            "vec![]",
        ),
    ] {
        refused_at(&model_with(items, body), needle, token);
    }
}

#[test]
fn negation_and_never_are_not_macros() {
    accepted(&model_with(
        "fn never() -> ! { panic!(\"never\") }\n\
         fn neg(a: bool, b: f64) -> bool { if !(b < 0.0) { return !a; } match !a { x => x != (b != 1.0) } }",
        "let y = ! neg(true, x[0]);; let z = [!y]; let w = {!y} ; if !z[0] && w { never() }; \
         let _ = |b: bool| !b; for _ in 0..1 {} [if y { t } else { x[0] }]",
    ));
}
