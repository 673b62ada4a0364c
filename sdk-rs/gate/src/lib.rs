//! The static gate for model code.
//!
//! A generated crate has exactly one model-specific file, `src/model.rs`; everything else is
//! architect's own. That file may come from a language model or from a user's hand edit, so it
//! is untrusted. Before it is compiled, [`check_model_source`] parses it with `syn` and checks it
//! against a whitelist: the model may use what the SDK exposes for models (`Scheme`, `Sde`,
//! `Step`), core arithmetic on `f64` and plain Rust (functions, structs, `impl`s, closures,
//! `if`/`match`/`for`). Anything that could reach the filesystem, the network, processes, the
//! environment, threads or foreign code is rejected, with a line, a column and a reason:
//!
//! - `unsafe` and `extern` anywhere (so no FFI, no `static mut`, no raw memory);
//! - paths into `std`/`core`/`alloc` other than the `f64` constants, paths into the SDK other
//!   than the model-facing names, `crate::`/`super::`/`self::` and `::`-rooted paths;
//! - `use` of anything but those names; `mod`, `extern crate`, `static`, `union`, macro
//!   definitions and item-position macros;
//! - every macro but `vec!` and the panicking/asserting ones, whose arguments must parse as
//!   plain expressions (checked like any other code) — so no `include!`, `include_str!`,
//!   `env!`, `asm!`, `concat!`;
//! - attributes other than documentation, lint levels, `derive` of the standard traits,
//!   `inline`, `cold` and `must_use` (so no `#[path]`, `#[link]`, `#[no_mangle]`,
//!   `#[export_name]` or procedural-macro attributes);
//! - `loop` and `while` (a model never needs an unbounded loop; `for` is allowed, and the run's
//!   time limit is the backstop for anything slow), `async`/`await`, raw pointers.
//!
//! The gate is one layer: generated crates also carry `#![forbid(unsafe_code)]` and a fixed
//! manifest with no dependency but the SDK, and the binaries run under time, CPU, memory and
//! file-size limits (see `docs/security.md`).
#![forbid(unsafe_code)]

use std::fmt;

use proc_macro2::{Spacing, Span, TokenStream, TokenTree};
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::visit::{self, Visit};

/// Largest `model.rs` the gate accepts (generated ones are a few KiB).
pub const MAX_SOURCE_BYTES: usize = 128 * 1024;
/// Deepest nesting of brackets the gate accepts.
pub const MAX_NESTING: usize = 64;
/// Most tokens the gate accepts.
pub const MAX_TOKENS: usize = 32 * 1024;
/// Longest chain of tokens in one statement, counting the statements it is nested in (see
/// `Gate::scan_tokens`); a generated drift or diffusion is a few hundred.
pub const MAX_CHAIN: usize = 4096;
/// Stack of the thread that parses: deep but bounded input must never overflow it.
const PARSER_STACK_BYTES: usize = 256 * 1024 * 1024;

/// Names the SDK exports for model code (`architect_sdk::NAME`).
pub const SDK_NAMES: [&str; 5] = ["Jump", "JumpSize", "Scheme", "Sde", "Step"];
/// Macros model code may call.
pub const ALLOWED_MACROS: [&str; 9] = [
    "vec",
    "panic",
    "assert",
    "assert_eq",
    "assert_ne",
    "debug_assert",
    "debug_assert_eq",
    "debug_assert_ne",
    "unreachable",
];
/// Traits model code may derive (the compiler's built-in derives).
pub const ALLOWED_DERIVES: [&str; 7] = [
    "Clone",
    "Copy",
    "Debug",
    "Default",
    "PartialEq",
    "PartialOrd",
    "Eq",
];
/// Attributes model code may carry, besides `derive` and `rustfmt::skip`.
pub const ALLOWED_ATTRIBUTES: [&str; 9] = [
    "doc", "allow", "warn", "deny", "forbid", "expect", "inline", "cold", "must_use",
];
/// Keywords rejected wherever they appear as a token, with the reason.
const FORBIDDEN_KEYWORDS: [(&str, &str); 10] = [
    (
        "unsafe",
        "`unsafe` is not allowed in model code: generated crates are `#![forbid(unsafe_code)]`",
    ),
    (
        "extern",
        "`extern` is not allowed in model code (no FFI, no `extern crate`)",
    ),
    (
        "static",
        "`static` items are not allowed in model code (models have no global state; use `const`)",
    ),
    (
        "mod",
        "`mod` is not allowed in model code: the crate's layout is fixed",
    ),
    (
        "macro_rules",
        "macro definitions are not allowed in model code",
    ),
    (
        "loop",
        "`loop` is not allowed in model code (a model never needs an unbounded loop; use `for` over a range)",
    ),
    (
        "while",
        "`while` is not allowed in model code (a model never needs an unbounded loop; use `for` over a range)",
    ),
    ("async", "`async` is not allowed in model code"),
    ("await", "`await` is not allowed in model code"),
    (
        "union",
        "`union` is not allowed in model code (reading a union needs `unsafe`)",
    ),
];

/// One reason the gate rejects the source, at a 1-based line and column.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    pub line: usize,
    pub column: usize,
    pub reason: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.line, self.column, self.reason)
    }
}

/// Checks the source of a generated `src/model.rs`; an empty list means it is accepted.
///
/// Never panics and never overflows the stack: oversized or too deeply nested input is rejected
/// before it is parsed, and the parser runs on a thread with a large stack.
pub fn check_model_source(source: &str) -> Vec<Violation> {
    if source.len() > MAX_SOURCE_BYTES {
        return vec![at_start(format!(
            "the file is {} bytes; model code is limited to {MAX_SOURCE_BYTES} bytes",
            source.len()
        ))];
    }
    let owned = source.to_owned();
    let worker = std::thread::Builder::new()
        .name("architect-gate".into())
        .stack_size(PARSER_STACK_BYTES)
        .spawn(move || check_bounded(&owned));
    match worker.map(|handle| handle.join()) {
        Ok(Ok(violations)) => violations,
        Ok(Err(_)) => vec![at_start(
            "the gate could not analyse this file (internal error); it is rejected".into(),
        )],
        Err(e) => vec![at_start(format!(
            "the gate could not start its parser thread: {e}"
        ))],
    }
}

fn at_start(reason: String) -> Violation {
    Violation {
        line: 1,
        column: 1,
        reason,
    }
}

fn check_bounded(source: &str) -> Vec<Violation> {
    // The tokenizer is iterative, so it is safe on any input; the nesting limit then bounds the
    // recursion of the parser and of the visitor.
    let tokens: TokenStream = match source.parse() {
        Ok(tokens) => tokens,
        Err(e) => {
            return vec![violation(e.span(), format!("not valid Rust: {e}"))];
        }
    };
    let mut gate = Gate::default();
    if !gate.scan_tokens(tokens) {
        return gate.violations;
    }
    match syn::parse_file(source) {
        Ok(file) => gate.visit_file(&file),
        Err(e) => gate.report(e.span(), format!("not valid Rust: {e}")),
    }
    gate.violations.sort_by_key(|v| (v.line, v.column));
    // The token scan and the syntax tree can flag the same thing twice: keep the first one per
    // position and per line and reason.
    let mut seen = std::collections::HashSet::new();
    gate.violations.retain(|v| {
        let fresh = !seen.contains(&(v.line, v.column, String::new()))
            && !seen.contains(&(v.line, 0, v.reason.clone()));
        seen.insert((v.line, v.column, String::new()));
        seen.insert((v.line, 0, v.reason.clone()));
        fresh
    });
    gate.violations
}

fn violation(span: Span, reason: String) -> Violation {
    let start = span.start();
    Violation {
        line: start.line.max(1),
        column: start.column + 1,
        reason,
    }
}

#[derive(Default)]
struct Gate {
    violations: Vec<Violation>,
}

impl Gate {
    fn report(&mut self, span: Span, reason: impl Into<String>) {
        self.violations.push(violation(span, reason.into()));
    }

    /// Token-level checks: forbidden keywords anywhere (macro bodies included), and the limits
    /// that make parsing safe. Returns whether it is.
    ///
    /// The parser and the visitor recurse at most a bounded number of times per token, and only
    /// along one statement at a time (at a `;` the previous statement is finished). So the depth
    /// of recursion at any token is bounded by its *chain*: the tokens since the last `;` in its
    /// own bracket group plus, for every enclosing group, the tokens since the last `;` before
    /// that group opened. Limiting the chain and the nesting bounds the stack the parser needs.
    fn scan_tokens(&mut self, tokens: TokenStream) -> bool {
        // (tokens of the group, chain length at the group's start, chain length now)
        let mut stack = vec![(tokens.into_iter(), 0usize, 0usize)];
        // `'static` is a `'` followed by the identifier `static`: a lifetime, not the keyword.
        let mut after_apostrophe = false;
        let mut count = 0usize;
        while let Some((iter, base, chain)) = stack.last_mut() {
            let Some(tree) = iter.next() else {
                stack.pop();
                continue;
            };
            count += 1;
            *chain += 1;
            let (base, chain) = (*base, *chain);
            if count > MAX_TOKENS {
                self.report(
                    tree.span(),
                    format!("model code is limited to {MAX_TOKENS} tokens"),
                );
                return false;
            }
            if chain > MAX_CHAIN {
                self.report(
                    tree.span(),
                    format!(
                        "a statement longer than {MAX_CHAIN} tokens (counting the statements it is nested in); \
                         split it with `let`"
                    ),
                );
                return false;
            }
            let lifetime = std::mem::replace(
                &mut after_apostrophe,
                matches!(&tree, TokenTree::Punct(p) if p.as_char() == '\'' && p.spacing() == Spacing::Joint),
            );
            match tree {
                TokenTree::Group(group) => {
                    if stack.len() > MAX_NESTING {
                        self.report(
                            group.span_open(),
                            format!("brackets nested deeper than {MAX_NESTING} levels"),
                        );
                        return false;
                    }
                    stack.push((group.stream().into_iter(), chain, chain));
                }
                TokenTree::Punct(p) if p.as_char() == ';' => {
                    if let Some(top) = stack.last_mut() {
                        top.2 = base;
                    }
                }
                TokenTree::Ident(_) if lifetime => {}
                TokenTree::Ident(ident) => {
                    let text = ident.to_string();
                    if let Some((_, why)) = FORBIDDEN_KEYWORDS.iter().find(|(k, _)| *k == text) {
                        self.report(ident.span(), *why);
                    }
                }
                TokenTree::Punct(_) | TokenTree::Literal(_) => {}
            }
        }
        true
    }

    fn check_attribute(&mut self, attr: &syn::Attribute) {
        let path = attr.path();
        let name = path_string(path);
        if name == "rustfmt::skip" {
            return;
        }
        if path.segments.len() != 1 || path.leading_colon.is_some() {
            self.report(
                attr.span(),
                format!("attribute #[{name}] is not allowed in model code"),
            );
            return;
        }
        match (name.as_str(), &attr.meta) {
            ("doc", syn::Meta::NameValue(nv)) => {
                if !matches!(
                    &nv.value,
                    syn::Expr::Lit(syn::ExprLit {
                        lit: syn::Lit::Str(_),
                        ..
                    })
                ) {
                    self.report(
                        nv.value.span(),
                        "a doc attribute must be a plain string literal (no `include_str!`)",
                    );
                }
            }
            ("derive", syn::Meta::List(list)) => {
                let parsed = Punctuated::<syn::Path, syn::Token![,]>::parse_terminated
                    .parse2(list.tokens.clone());
                match parsed {
                    Ok(traits) => {
                        for t in traits {
                            let derived = path_string(&t);
                            if !ALLOWED_DERIVES.contains(&derived.as_str()) {
                                self.report(
                                    t.span(),
                                    format!(
                                        "#[derive({derived})] is not allowed in model code; allowed: {}",
                                        ALLOWED_DERIVES.join(", ")
                                    ),
                                );
                            }
                        }
                    }
                    Err(e) => self.report(list.span(), format!("malformed derive: {e}")),
                }
            }
            (n, _) if ALLOWED_ATTRIBUTES.contains(&n) && n != "doc" => {}
            _ => self.report(
                attr.span(),
                format!(
                    "attribute #[{name}] is not allowed in model code; allowed: {}, derive",
                    ALLOWED_ATTRIBUTES.join(", ")
                ),
            ),
        }
    }

    fn check_path(&mut self, path: &syn::Path) {
        if path.leading_colon.is_some() {
            self.report(
                path.span(),
                format!(
                    "`{}`: `::`-rooted paths are not allowed in model code",
                    path_string(path)
                ),
            );
            return;
        }
        let names: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
        if let Some(reason) = path_problem(&names) {
            self.report(path.span(), reason);
        }
    }

    fn check_use(&mut self, tree: &syn::UseTree, prefix: &mut Vec<String>) {
        match tree {
            syn::UseTree::Path(p) => {
                prefix.push(p.ident.to_string());
                self.check_use(&p.tree, prefix);
                prefix.pop();
            }
            syn::UseTree::Name(n) => self.check_import(prefix, &n.ident.to_string(), n.span()),
            syn::UseTree::Rename(r) => self.check_import(prefix, &r.ident.to_string(), r.span()),
            syn::UseTree::Glob(g) => {
                if !is_float_consts(prefix) {
                    self.report(
                        g.span(),
                        format!(
                            "`use {}::*` is not allowed in model code; import names one by one (allowed: {})",
                            prefix.join("::"),
                            allowed_imports()
                        ),
                    );
                }
            }
            syn::UseTree::Group(g) => {
                for item in &g.items {
                    self.check_use(item, prefix);
                }
            }
        }
    }

    fn check_import(&mut self, prefix: &[String], name: &str, span: Span) {
        let mut full = prefix.to_vec();
        full.push(name.to_owned());
        let sdk = full.len() == 2 && full[0] == "architect_sdk" && SDK_NAMES.contains(&name);
        let consts = full.len() >= 4 && is_float_consts(&full[..full.len() - 1]);
        if !(sdk || consts) {
            self.report(
                span,
                format!(
                    "`use {}` is not allowed in model code; allowed: {}",
                    full.join("::"),
                    allowed_imports()
                ),
            );
        }
    }

    /// Macro arguments are parsed as expressions and checked like any other code.
    fn check_macro(&mut self, mac: &syn::Macro) {
        let name = path_string(&mac.path);
        if mac.path.segments.len() != 1 || !ALLOWED_MACROS.contains(&name.as_str()) {
            let reason = match name.as_str() {
                "include" | "include_str" | "include_bytes" => {
                    format!(
                        "`{name}!` reads files at compile time and is not allowed in model code"
                    )
                }
                "env" | "option_env" => {
                    format!("`{name}!` reads the environment and is not allowed in model code")
                }
                "asm" | "global_asm" | "naked_asm" => {
                    format!("`{name}!` (inline assembly) is not allowed in model code")
                }
                _ => format!(
                    "macro `{name}!` is not allowed in model code; allowed: {}",
                    ALLOWED_MACROS.map(|m| format!("{m}!")).join(", ")
                ),
            };
            self.report(mac.path.span(), reason);
            return;
        }
        let tokens = mac.tokens.clone();
        let repeat = |input: syn::parse::ParseStream| {
            let value: syn::Expr = input.parse()?;
            input.parse::<syn::Token![;]>()?;
            let count: syn::Expr = input.parse()?;
            Ok(vec![value, count])
        };
        let list = |input: syn::parse::ParseStream| {
            Ok(
                Punctuated::<syn::Expr, syn::Token![,]>::parse_terminated(input)?
                    .into_iter()
                    .collect::<Vec<_>>(),
            )
        };
        let parsed = if name == "vec" {
            repeat
                .parse2(tokens.clone())
                .or_else(|_| list.parse2(tokens))
        } else {
            list.parse2(tokens)
        };
        match parsed {
            Ok(args) => {
                for arg in &args {
                    self.visit_expr(arg);
                }
            }
            Err(e) => self.report(
                mac.span(),
                format!("the arguments of `{name}!` must be plain expressions: {e}"),
            ),
        }
    }
}

fn allowed_imports() -> String {
    format!(
        "`use architect_sdk::{{{}}}` and `use std::f64::consts::NAME`",
        SDK_NAMES.join(", ")
    )
}

fn is_float_consts(prefix: &[String]) -> bool {
    prefix.len() == 3
        && matches!(prefix[0].as_str(), "std" | "core")
        && prefix[1] == "f64"
        && prefix[2] == "consts"
}

fn path_string(path: &syn::Path) -> String {
    let names: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
    let joined = names.join("::");
    if path.leading_colon.is_some() {
        format!("::{joined}")
    } else {
        joined
    }
}

/// Why a path may not appear in model code, or `None` when it may.
///
/// Without `use` (restricted above), the only names in scope are the model's own items, the
/// prelude, primitive types and the extern crates `std`, `core`, `alloc` and `architect_sdk`; so a
/// path is safe unless it starts at one of those crates or at a module keyword.
fn path_problem(names: &[String]) -> Option<String> {
    let joined = names.join("::");
    let first = names.first()?.as_str();
    match first {
        "std" | "core" | "alloc" => {
            let consts = names.len() == 4 && names[1] == "f64" && names[2] == "consts";
            if consts {
                return None;
            }
            let area = names.get(1).map(String::as_str).unwrap_or("");
            let what = match area {
                "fs" | "path" => " (the filesystem)",
                "net" => " (the network)",
                "process" => " (processes)",
                "env" => " (the environment)",
                "thread" | "sync" => " (threads)",
                "ffi" | "os" | "ptr" | "mem" | "alloc" | "arch" | "intrinsics" => {
                    " (raw memory and FFI)"
                }
                "io" => " (input and output)",
                _ => "",
            };
            Some(format!(
                "`{joined}`{what} is not allowed in model code; from the standard library only `std::f64::consts::NAME` is"
            ))
        }
        "architect_sdk" => {
            let ok = names.len() >= 2
                && SDK_NAMES.contains(&names[1].as_str())
                && (names.len() == 2 || (names.len() == 3 && names[1] != "Sde"));
            (!ok).then(|| {
                format!(
                    "`{joined}` is not allowed in model code; from the SDK only {} are",
                    SDK_NAMES.join(", ")
                )
            })
        }
        "crate" | "super" => Some(format!(
            "`{joined}`: `{first}::` paths are not allowed in model code (it only sees its own items)"
        )),
        "self" if names.len() > 1 => Some(format!(
            "`{joined}`: `self::` paths are not allowed in model code"
        )),
        _ => None,
    }
}

impl<'ast> Visit<'ast> for Gate {
    fn visit_attribute(&mut self, attr: &'ast syn::Attribute) {
        // Attribute arguments are checked here, not visited as code.
        self.check_attribute(attr);
    }

    fn visit_item(&mut self, item: &'ast syn::Item) {
        let rejected = match item {
            syn::Item::Const(_)
            | syn::Item::Enum(_)
            | syn::Item::Fn(_)
            | syn::Item::Impl(_)
            | syn::Item::Struct(_)
            | syn::Item::Trait(_)
            | syn::Item::Type(_)
            | syn::Item::Use(_) => None,
            syn::Item::ExternCrate(_) => Some("`extern crate` is not allowed in model code"),
            syn::Item::ForeignMod(_) => Some("`extern` blocks (FFI) are not allowed in model code"),
            syn::Item::Macro(_) => {
                Some("macro definitions and item-level macro calls are not allowed in model code")
            }
            syn::Item::Mod(_) => {
                Some("`mod` is not allowed in model code: the crate's layout is fixed")
            }
            syn::Item::Static(_) => {
                Some("`static` items are not allowed in model code; use `const`")
            }
            syn::Item::Union(_) => Some("`union` is not allowed in model code"),
            _ => Some("this kind of item is not allowed in model code"),
        };
        match rejected {
            Some(reason) => self.report(item.span(), reason),
            None => visit::visit_item(self, item),
        }
    }

    fn visit_item_use(&mut self, item: &'ast syn::ItemUse) {
        for attr in &item.attrs {
            self.check_attribute(attr);
        }
        if item.leading_colon.is_some() {
            self.report(item.span(), "`use ::…` is not allowed in model code");
            return;
        }
        self.check_use(&item.tree, &mut Vec::new());
    }

    fn visit_expr(&mut self, expr: &'ast syn::Expr) {
        let rejected = match expr {
            syn::Expr::Unsafe(_) => Some("`unsafe` blocks are not allowed in model code"),
            syn::Expr::Loop(_) | syn::Expr::While(_) => {
                Some("`loop`/`while` are not allowed in model code (use `for` over a range)")
            }
            syn::Expr::Async(_) | syn::Expr::Await(_) => {
                Some("`async` code is not allowed in model code")
            }
            syn::Expr::RawAddr(_) => Some("raw pointers are not allowed in model code"),
            syn::Expr::Verbatim(_) => Some("this expression is not allowed in model code"),
            _ => None,
        };
        match rejected {
            Some(reason) => self.report(expr.span(), reason),
            None => visit::visit_expr(self, expr),
        }
    }

    fn visit_type(&mut self, ty: &'ast syn::Type) {
        match ty {
            syn::Type::Ptr(_) => {
                self.report(ty.span(), "raw pointers are not allowed in model code")
            }
            syn::Type::Verbatim(_) => {
                self.report(ty.span(), "this type is not allowed in model code")
            }
            _ => visit::visit_type(self, ty),
        }
    }

    fn visit_signature(&mut self, sig: &'ast syn::Signature) {
        if sig.abi.is_some() {
            self.report(
                sig.span(),
                "`extern` functions are not allowed in model code",
            );
        }
        if sig.variadic.is_some() {
            self.report(
                sig.span(),
                "variadic functions are not allowed in model code",
            );
        }
        visit::visit_signature(self, sig);
    }

    fn visit_abi(&mut self, abi: &'ast syn::Abi) {
        self.report(abi.span(), "`extern` ABIs are not allowed in model code");
    }

    fn visit_path(&mut self, path: &'ast syn::Path) {
        self.check_path(path);
        visit::visit_path(self, path);
    }

    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        self.check_macro(mac);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_into_std_are_rejected_except_float_constants() {
        let p = |s: &str| path_problem(&s.split("::").map(str::to_owned).collect::<Vec<_>>());
        assert!(p("std::f64::consts::PI").is_none());
        assert!(p("core::f64::consts::E").is_none());
        assert!(p("std::fs::read").unwrap().contains("filesystem"));
        assert!(p("std::process::Command").unwrap().contains("processes"));
        assert!(p("architect_sdk::Step::Euler").is_none());
        assert!(p("architect_sdk::files::write_atomic").is_some());
        assert!(p("architect_sdk::Sde::drift").is_some());
        assert!(p("Self::NAME").is_none());
        assert!(p("f64::EPSILON").is_none());
        assert!(p("crate::main").is_some());
    }
}
