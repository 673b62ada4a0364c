//! The static gate for model code.
//!
//! A generated crate has exactly one model-specific file, `src/model.rs`; everything else is
//! architect's own. That file may come from a language model or from a user's hand edit, so it
//! is untrusted. Before it is compiled, [`check_model_source`] checks it against a whitelist: the
//! model may use what the SDK exposes for models (`Scheme`, `Sde`, `Step`, `Jump`, `JumpSize`,
//! `Constraint`, `Domain`, and the functions `erf` and `sign` that `f64` has no method for),
//! core arithmetic on `f64` and plain Rust (functions, structs, `impl`s, closures,
//! `if`/`match`/`for`). Anything that could reach the filesystem, the network, processes, the
//! environment, threads or foreign code, at run time or at compile time, is rejected with a line,
//! a column and a reason.
//!
//! The check runs in two passes, and a file is accepted only if both accept it.
//!
//! **Tokens.** Every token of the file is scanned, wherever it sits: in code, types, array
//! lengths, const generics, patterns, attributes, macro arguments, and in syntax the parser does
//! not model. This pass refuses
//!
//! - raw identifiers (`r#std`, `r#include_str`): model code never needs them, and they would let
//!   a name slip past a comparison with a keyword or a path;
//! - the keywords `unsafe`, `extern`, `static`, `mod`, `macro`, `macro_rules`, `loop`, `while`,
//!   `async`, `await` and `union`;
//! - every macro invocation (an identifier, then `!`, then a bracket group or a name) whose name
//!   is not one of [`ALLOWED_MACROS`] — so no `include!`, `include_str!`, `include_bytes!`,
//!   `env!`, `option_env!`, `concat!`, `file!`, `line!`, `compile_error!`, `asm!`,
//!   `format_args!` anywhere, not even inside the arguments of an allowed macro or an attribute —
//!   and every path-qualified macro (`std::vec!`); an identifier that is a Rust keyword before a
//!   `!` is a negation (`if !x`, `return !x`), and `!=` is a comparison;
//! - input too large or too deeply nested to parse safely (see [`MAX_SOURCE_BYTES`],
//!   [`MAX_TOKENS`], [`MAX_NESTING`], [`MAX_CHAIN`]).
//!
//! **Syntax tree.** The file is parsed with `syn` and every node is visited. This pass refuses
//!
//! - anything `syn` keeps only as unparsed tokens (its `Verbatim` nodes: a function without a
//!   body in an `impl`, unstable syntax, unknown literals), in items, `impl` and trait bodies,
//!   expressions, types, patterns, bounds and literals — what the gate cannot see into it does
//!   not accept;
//! - paths into `std`/`core`/`alloc` other than the `f64` constants, paths into the SDK other
//!   than the model-facing names, `crate::`/`super::`/`self::` and `::`-rooted paths (raw
//!   identifiers are also normalised before these comparisons);
//! - `use` of anything but those names; `mod`, `extern crate`, `extern` blocks and ABIs,
//!   `static`, `union`, macro definitions and item-position macros (also in `impl` and trait
//!   bodies);
//! - macro calls other than `vec!` and the panicking/asserting ones; the arguments of those must
//!   parse as plain expressions and are checked like any other code;
//! - attributes other than these forms, whose values can only be literals:
//!   `#[doc = "…"]` (and `///` comments), `#[must_use]` or `#[must_use = "…"]`, `#[inline]`,
//!   `#[inline(always)]`, `#[inline(never)]`, `#[cold]`, lint levels
//!   (`allow`/`warn`/`deny`/`forbid`/`expect`) listing lint names and optionally
//!   `reason = "…"`, `#[derive(…)]` of [`ALLOWED_DERIVES`], and `#[rustfmt::skip]` — so no
//!   `#[path]`, `#[link]`, `#[no_mangle]`, `#[export_name]`, `#[cfg_attr]` or procedural-macro
//!   attributes;
//! - `loop` and `while` (a model never needs an unbounded loop; `for` is allowed, and the run's
//!   time limit is the backstop for anything slow), `async`/`await`, raw pointers.
//!
//! Together these mean model code cannot read a file, the environment or the build's paths at
//! compile time, cannot name anything in the standard library that reaches the filesystem, the
//! network, processes, the environment or threads at run time, and cannot hide code from the gate
//! in a form the gate does not parse. [`check_model_source`] never panics and never overflows its
//! stack, whatever the input.
//!
//! The gate is one layer: generated crates also carry `#![forbid(unsafe_code)]` and a fixed
//! manifest with no dependency but the SDK, and the binaries run under time, CPU, memory and
//! file-size limits (see `docs/security.md`).
#![forbid(unsafe_code)]

use std::fmt;

pub mod reader;

use proc_macro2::{Spacing, Span, TokenStream, TokenTree};
use syn::ext::IdentExt;
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

/// Names the SDK exports for model code (`architect_sdk::NAME`): its model types and
/// [`SDK_FUNCTIONS`].
pub const SDK_NAMES: [&str; 9] = [
    "Constraint",
    "Domain",
    "Jump",
    "JumpSize",
    "Scheme",
    "Sde",
    "Step",
    "erf",
    "sign",
];
/// The SDK's pure functions of `f64` among [`SDK_NAMES`] (`architect_sdk::erf(x)`): named
/// whole, never as a path prefix (`architect_sdk::erf::x`).
pub const SDK_FUNCTIONS: [&str; 2] = ["erf", "sign"];
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
const FORBIDDEN_KEYWORDS: [(&str, &str); 11] = [
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
    ("macro", "macro definitions are not allowed in model code"),
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
/// Why an item `syn` keeps as unparsed tokens is refused.
const VERBATIM_ITEM: &str = "this item is not allowed in model code: the gate does not parse this syntax \
     (a function in an `impl` needs a body)";
/// Strict and reserved Rust keywords (edition 2024). Before a `!` one of these is never a macro
/// name: `if !x`, `return !x`, `impl !Send`.
const RUST_KEYWORDS: [&str; 52] = [
    "as", "break", "const", "continue", "crate", "else", "enum", "extern", "false", "fn", "for",
    "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub", "ref", "return",
    "self", "Self", "static", "struct", "super", "trait", "true", "type", "unsafe", "use", "where",
    "while", "async", "await", "dyn", "abstract", "become", "box", "do", "final", "macro",
    "override", "priv", "typeof", "unsized", "virtual", "yield", "try", "gen",
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

/// Reads a model file back for the proof that it is the model ([`reader`]): its expression slots
/// and its code tokens. A file the gate refuses is not read; the parser runs on the gate's large
/// stack, so no input can overflow it.
pub fn read_model_source(source: &str) -> Result<(reader::Slots, Vec<reader::CodeToken>), String> {
    if let Some(first) = check_model_source(source).first() {
        return Err(format!("the gate refuses it: {first}"));
    }
    let owned = source.to_owned();
    std::thread::Builder::new()
        .name("architect-reader".into())
        .stack_size(PARSER_STACK_BYTES)
        .spawn(move || Ok((reader::model_slots(&owned)?, reader::code_tokens(&owned)?)))
        .map_err(|e| format!("could not start the parser thread: {e}"))?
        .join()
        .map_err(|_| "the file could not be read (internal error)".to_owned())?
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

/// One bracket group being scanned by `Gate::scan_tokens`.
struct Frame {
    tokens: Vec<TokenTree>,
    /// Index of the next token to scan.
    next: usize,
    /// Chain length at the group's start, and now.
    base: usize,
    chain: usize,
}

impl Frame {
    fn new(tokens: TokenStream, chain: usize) -> Self {
        Frame {
            tokens: tokens.into_iter().collect(),
            next: 0,
            base: chain,
            chain,
        }
    }
}

fn is_punct(tree: Option<&TokenTree>, c: char) -> bool {
    matches!(tree, Some(TokenTree::Punct(p)) if p.as_char() == c)
}

/// Whether `tokens[i]`, an identifier named `name`, starts a macro invocation: `name!(…)`,
/// `name![…]`, `name!{…}`, or `macro_rules! name`. A keyword before a `!` is a negation
/// (`if !x`, `return !x`, `impl !Send`), and `a != b` has an `=` after the `!`.
fn is_macro_call(tokens: &[TokenTree], i: usize, name: &str) -> bool {
    !RUST_KEYWORDS.contains(&name)
        && is_punct(tokens.get(i + 1), '!')
        && matches!(
            tokens.get(i + 2),
            Some(TokenTree::Group(_) | TokenTree::Ident(_))
        )
}

/// The position and reason to refuse the macro invocation that `tokens[i]` (named `name`) starts,
/// if it is one and it is not allowed.
fn macro_call_problem(tokens: &[TokenTree], i: usize, name: &str) -> Option<(Span, String)> {
    if !is_macro_call(tokens, i, name) {
        return None;
    }
    // Walk back over `a::b::` to where the macro's path starts.
    let mut start = i;
    while start >= 2 && is_punct(tokens.get(start - 1), ':') && is_punct(tokens.get(start - 2), ':')
    {
        if start >= 3 && matches!(tokens.get(start - 3), Some(TokenTree::Ident(_))) {
            start -= 3;
        } else {
            start -= 2;
            break;
        }
    }
    let path: String = tokens[start..=i].iter().map(ToString::to_string).collect();
    macro_problem(name, &path, start != i).map(|why| (tokens[start].span(), why))
}

/// Why a call of the macro `name` (written `path!`; `qualified` when `path` is more than the
/// name) is refused, or `None` when it is allowed.
fn macro_problem(name: &str, path: &str, qualified: bool) -> Option<String> {
    let reason = match name {
        "include" | "include_str" | "include_bytes" => {
            format!("`{name}!` reads files at compile time and is not allowed in model code")
        }
        "env" | "option_env" => {
            format!("`{name}!` reads the environment and is not allowed in model code")
        }
        "asm" | "global_asm" | "naked_asm" => {
            format!("`{name}!` (inline assembly) is not allowed in model code")
        }
        "macro_rules" => "macro definitions are not allowed in model code".to_owned(),
        "concat" | "concat_idents" | "concat_bytes" | "stringify" => format!(
            "macro `{name}!` builds literals or identifiers at compile time and is not allowed in model code"
        ),
        "file" | "line" | "column" | "module_path" => format!(
            "macro `{name}!` reveals where the source is built and is not allowed in model code"
        ),
        "compile_error" => format!(
            "macro `{name}!` is not allowed in model code (it aborts the build with a message of the model's choosing)"
        ),
        "format_args" | "format" | "print" | "println" | "eprint" | "eprintln" | "write"
        | "writeln" | "dbg" => format!(
            "macro `{name}!` formats or prints (input and output) and is not allowed in model code; \
             allowed: {}",
            allowed_macros()
        ),
        _ if !ALLOWED_MACROS.contains(&name) => format!(
            "macro `{name}!` is not allowed in model code; allowed: {}",
            allowed_macros()
        ),
        _ if qualified => format!(
            "`{path}!`: path-qualified macros are not allowed in model code; call `{name}!` by its bare name"
        ),
        _ => return None,
    };
    Some(reason)
}

fn allowed_macros() -> String {
    ALLOWED_MACROS.map(|m| format!("{m}!")).join(", ")
}

#[derive(Default)]
struct Gate {
    violations: Vec<Violation>,
}

impl Gate {
    fn report(&mut self, span: Span, reason: impl Into<String>) {
        self.violations.push(violation(span, reason.into()));
    }

    /// Token-level checks, on every token wherever it sits (attributes, types, array lengths,
    /// macro arguments and syntax `syn` keeps unparsed included): raw identifiers, forbidden
    /// keywords, macro invocations, and the limits that make parsing safe. Returns whether it is
    /// safe to parse.
    ///
    /// The parser and the visitor recurse at most a bounded number of times per token, and only
    /// along one statement at a time (at a `;` the previous statement is finished). So the depth
    /// of recursion at any token is bounded by its *chain*: the tokens since the last `;` in its
    /// own bracket group plus, for every enclosing group, the tokens since the last `;` before
    /// that group opened. Limiting the chain and the nesting bounds the stack the parser needs.
    fn scan_tokens(&mut self, tokens: TokenStream) -> bool {
        let mut stack = vec![Frame::new(tokens, 0)];
        // `'static` is a `'` followed by the identifier `static`: a lifetime, not the keyword.
        let mut after_apostrophe = false;
        let mut count = 0usize;
        while let Some(frame) = stack.last_mut() {
            let index = frame.next;
            let Some(tree) = frame.tokens.get(index).cloned() else {
                stack.pop();
                continue;
            };
            frame.next += 1;
            frame.chain += 1;
            let (base, chain) = (frame.base, frame.chain);
            count += 1;
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
                    stack.push(Frame::new(group.stream(), chain));
                }
                TokenTree::Punct(p) if p.as_char() == ';' => frame.chain = base,
                TokenTree::Ident(ident) => {
                    let text = ident.to_string();
                    if text.starts_with("r#") {
                        self.report(
                            ident.span(),
                            format!("raw identifiers (`{text}`) are not allowed in model code"),
                        );
                        continue;
                    }
                    if lifetime {
                        continue;
                    }
                    if let Some((_, why)) = FORBIDDEN_KEYWORDS.iter().find(|(k, _)| *k == text) {
                        self.report(ident.span(), *why);
                    }
                    if let Some((span, why)) = macro_call_problem(&frame.tokens, index, &text) {
                        self.report(span, why);
                    }
                }
                TokenTree::Punct(_) | TokenTree::Literal(_) => {}
            }
        }
        true
    }

    /// Attributes are a fixed set of forms whose values are literals; nothing in them is code.
    fn check_attribute(&mut self, attr: &syn::Attribute) {
        let path = attr.path();
        let name = path_string(path);
        let plain =
            path.leading_colon.is_none() && path.segments.iter().all(|s| s.arguments.is_none());
        let form = match (plain, name.as_str(), &attr.meta) {
            (false, ..) => None,
            (_, "rustfmt::skip", syn::Meta::Path(_)) => return,
            (_, "doc", syn::Meta::NameValue(nv)) => {
                if !is_string_literal(&nv.value) {
                    self.report(
                        nv.value.span(),
                        "a doc attribute must be a plain string literal (no `include_str!`)",
                    );
                }
                return;
            }
            (_, "must_use", syn::Meta::NameValue(nv)) => {
                if !is_string_literal(&nv.value) {
                    self.report(
                        nv.value.span(),
                        "the message of #[must_use] must be a plain string literal",
                    );
                }
                return;
            }
            (_, "must_use" | "inline" | "cold", syn::Meta::Path(_)) => return,
            (_, "inline", syn::Meta::List(list)) => {
                let hint = syn::parse2::<syn::Ident>(list.tokens.clone());
                if !matches!(hint, Ok(h) if h == "always" || h == "never") {
                    let at = list.tokens.clone().into_iter().next();
                    self.report(
                        at.map_or_else(|| list.span(), |t| t.span()),
                        "#[inline(…)] takes `always` or `never` in model code",
                    );
                }
                return;
            }
            (_, "allow" | "warn" | "deny" | "forbid" | "expect", syn::Meta::List(list)) => {
                self.check_lints(&name, list);
                return;
            }
            (_, "derive", syn::Meta::List(list)) => {
                self.check_derive(list);
                return;
            }
            (_, n, _) if ALLOWED_ATTRIBUTES.contains(&n) => Some(match n {
                "doc" => "#[doc = \"…\"]",
                "must_use" => "#[must_use] or #[must_use = \"…\"]",
                "inline" => "#[inline], #[inline(always)] or #[inline(never)]",
                "cold" => "#[cold]",
                _ => "a list of lint names, optionally with `reason = \"…\"`",
            }),
            _ => None,
        };
        let reason = match form {
            Some(form) => format!("attribute #[{name}] is allowed in model code only as {form}"),
            None => format!(
                "attribute #[{name}] is not allowed in model code; allowed: {}, derive",
                ALLOWED_ATTRIBUTES.join(", ")
            ),
        };
        self.report(attr.span(), reason);
    }

    /// `#[allow(…)]` and the other lint levels: lint names, and optionally `reason = "…"`.
    fn check_lints(&mut self, level: &str, list: &syn::MetaList) {
        let parsed =
            Punctuated::<syn::Meta, syn::Token![,]>::parse_terminated.parse2(list.tokens.clone());
        let Ok(items) = parsed else {
            self.report(
                list.span(),
                format!("#[{level}(…)] takes lint names and optionally `reason = \"…\"`"),
            );
            return;
        };
        for item in items {
            let ok = match &item {
                syn::Meta::Path(lint) => {
                    lint.leading_colon.is_none()
                        && lint.segments.iter().all(|s| s.arguments.is_none())
                }
                syn::Meta::NameValue(nv) => {
                    nv.path.is_ident("reason") && is_string_literal(&nv.value)
                }
                syn::Meta::List(_) => false,
            };
            if !ok {
                self.report(
                    item.span(),
                    format!(
                        "#[{level}(…)] takes lint names and optionally `reason = \"…\"` (a string literal)"
                    ),
                );
            }
        }
    }

    fn check_derive(&mut self, list: &syn::MetaList) {
        let parsed =
            Punctuated::<syn::Path, syn::Token![,]>::parse_terminated.parse2(list.tokens.clone());
        match parsed {
            Ok(traits) => {
                for t in traits {
                    let derived = path_string(&t);
                    let plain = t.segments.iter().all(|s| s.arguments.is_none());
                    if !plain {
                        self.report(
                            t.span(),
                            format!(
                                "#[derive] takes plain trait names in model code; allowed: {}",
                                ALLOWED_DERIVES.join(", ")
                            ),
                        );
                    } else if !ALLOWED_DERIVES.contains(&derived.as_str()) {
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
        let names: Vec<String> = path
            .segments
            .iter()
            .map(|s| s.ident.unraw().to_string())
            .collect();
        if let Some(reason) = path_problem(&names) {
            self.report(path.span(), reason);
        }
    }

    fn check_use(&mut self, tree: &syn::UseTree, prefix: &mut Vec<String>) {
        match tree {
            syn::UseTree::Path(p) => {
                prefix.push(p.ident.unraw().to_string());
                self.check_use(&p.tree, prefix);
                prefix.pop();
            }
            syn::UseTree::Name(n) => {
                self.check_import(prefix, &n.ident.unraw().to_string(), n.span());
            }
            syn::UseTree::Rename(r) => {
                self.check_import(prefix, &r.ident.unraw().to_string(), r.span());
            }
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
        let path = &mac.path;
        let Some(last) = path.segments.last() else {
            return;
        };
        let name = last.ident.unraw().to_string();
        let qualified = path.segments.len() != 1 || path.leading_colon.is_some();
        if let Some(reason) = macro_problem(&name, &path_string(path), qualified) {
            self.report(path.span(), reason);
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

fn is_string_literal(expr: &syn::Expr) -> bool {
    matches!(
        expr,
        syn::Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Str(_),
            attrs,
        }) if attrs.is_empty()
    )
}

/// `a::b::c`, raw identifiers normalised (`r#std` is `std`).
fn path_string(path: &syn::Path) -> String {
    let names: Vec<String> = path
        .segments
        .iter()
        .map(|s| s.ident.unraw().to_string())
        .collect();
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
                && (names.len() == 2
                    || (names.len() == 3
                        && names[1] != "Sde"
                        && !SDK_FUNCTIONS.contains(&names[1].as_str())));
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
            syn::Item::Verbatim(_) => Some(VERBATIM_ITEM),
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
            syn::Expr::Verbatim(_) => Some(
                "this expression is not allowed in model code (the gate does not parse this syntax)",
            ),
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
            syn::Type::Verbatim(_) => self.report(
                ty.span(),
                "this type is not allowed in model code (the gate does not parse this syntax)",
            ),
            _ => visit::visit_type(self, ty),
        }
    }

    fn visit_stmt(&mut self, stmt: &'ast syn::Stmt) {
        // `syn` keeps an empty statement (a stray `;`) as an empty verbatim expression.
        match stmt {
            syn::Stmt::Expr(syn::Expr::Verbatim(tokens), Some(_)) if tokens.is_empty() => {}
            _ => visit::visit_stmt(self, stmt),
        }
    }

    fn visit_impl_item(&mut self, item: &'ast syn::ImplItem) {
        match item {
            syn::ImplItem::Verbatim(_) => self.report(item.span(), VERBATIM_ITEM),
            syn::ImplItem::Macro(_) => self.report(
                item.span(),
                "macro calls in an `impl` body are not allowed in model code",
            ),
            _ => visit::visit_impl_item(self, item),
        }
    }

    fn visit_trait_item(&mut self, item: &'ast syn::TraitItem) {
        match item {
            syn::TraitItem::Verbatim(_) => self.report(item.span(), VERBATIM_ITEM),
            syn::TraitItem::Macro(_) => self.report(
                item.span(),
                "macro calls in a trait body are not allowed in model code",
            ),
            _ => visit::visit_trait_item(self, item),
        }
    }

    fn visit_foreign_item(&mut self, item: &'ast syn::ForeignItem) {
        self.report(
            item.span(),
            "`extern` blocks (FFI) are not allowed in model code",
        );
    }

    fn visit_pat(&mut self, pat: &'ast syn::Pat) {
        match pat {
            syn::Pat::Verbatim(_) => self.report(
                pat.span(),
                "this pattern is not allowed in model code (the gate does not parse this syntax)",
            ),
            _ => visit::visit_pat(self, pat),
        }
    }

    fn visit_type_param_bound(&mut self, bound: &'ast syn::TypeParamBound) {
        match bound {
            syn::TypeParamBound::Verbatim(_) => self.report(
                bound.span(),
                "this bound is not allowed in model code (the gate does not parse this syntax)",
            ),
            _ => visit::visit_type_param_bound(self, bound),
        }
    }

    fn visit_lit(&mut self, lit: &'ast syn::Lit) {
        match lit {
            syn::Lit::Verbatim(_) => self.report(
                lit.span(),
                "this literal is not allowed in model code (the gate does not parse it)",
            ),
            _ => visit::visit_lit(self, lit),
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

    /// The token scan refuses raw identifiers outright; behind it, the path and import checks
    /// compare names with raw identifiers normalised, so `r#std::fs` is still `std::fs`.
    #[test]
    fn raw_identifiers_are_normalised_in_path_checks() {
        let mut gate = Gate::default();
        let path: syn::Path = syn::parse_str("r#std::r#fs::write").unwrap();
        gate.check_path(&path);
        let item: syn::ItemUse = syn::parse_str("use r#std::r#env::vars;").unwrap();
        gate.visit_item_use(&item);
        let mac: syn::Macro = syn::parse_str("r#include_str!(\"/etc/hostname\")").unwrap();
        gate.check_macro(&mac);
        let mac: syn::Macro = syn::parse_str("r#std::r#vec![]").unwrap();
        gate.check_macro(&mac);
        let attr = syn::Attribute::parse_outer
            .parse_str("#[r#must_use = r#include_str!(\"x\")]")
            .unwrap();
        gate.check_attribute(&attr[0]);
        let reasons: Vec<&str> = gate.violations.iter().map(|v| v.reason.as_str()).collect();
        assert!(
            reasons[0].contains("`std::fs::write` (the filesystem)"),
            "{reasons:?}"
        );
        assert!(reasons[1].contains("`use std::env::vars`"), "{reasons:?}");
        assert!(
            reasons[2].contains("`include_str!` reads files"),
            "{reasons:?}"
        );
        assert!(
            reasons[3].contains("`std::vec!`: path-qualified"),
            "{reasons:?}"
        );
        assert!(
            reasons[4].contains("#[must_use] must be a plain string"),
            "{reasons:?}"
        );
        assert_eq!(reasons.len(), 5, "{reasons:?}");
    }

    #[test]
    fn macro_calls_are_told_from_negations() {
        let call = |s: &str| {
            let tokens: Vec<TokenTree> = s.parse::<TokenStream>().unwrap().into_iter().collect();
            let TokenTree::Ident(first) = &tokens[0] else {
                panic!("{s}")
            };
            is_macro_call(&tokens, 0, &first.to_string())
        };
        for s in [
            "vec![]",
            "env!(\"x\")",
            "m ! {}",
            "macro_rules! m",
            "union!()",
            "foo!bar",
        ] {
            assert!(call(s), "{s}");
        }
        for s in [
            "if !x",
            "return !x",
            "match !x",
            "x != y",
            "x !",
            "x ! 1",
            "impl !Send",
            "mut !x",
        ] {
            assert!(!call(s), "{s}");
        }
    }
}
