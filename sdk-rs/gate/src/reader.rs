//! Reading a model file back, for the proof that it is the model (architect's `architect/proof.py`).
//!
//! The gate says what a `src/model.rs` may *use*; the proof says what it *computes*. It needs two
//! things from the source, both read here with the gate's own parser:
//!
//! - [`model_slots`]: the model-specific expressions, the elements of the array each of the `Sde`
//!   impl's `drift`, `diffusion` and `correlation` functions returns, as their exact source text;
//! - [`code_tokens`]: the file's tokens (comments, doc comments and formatting dropped), so that the
//!   rest of the file can be compared, token for token, with architect's template rendered around
//!   those expressions.

use proc_macro2::{Delimiter, TokenStream, TokenTree};
use syn::spanned::Spanned;

/// One token of code and its 1-based line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CodeToken {
    pub text: String,
    pub line: usize,
}

/// The model-specific expressions of a model file, as source text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Slots {
    /// `drift`'s returned array, one text per state variable.
    pub drift: Vec<String>,
    /// `diffusion`'s returned matrix, row by row.
    pub diffusion: Vec<Vec<String>>,
    /// `correlation`'s returned matrix, when the impl defines it.
    pub correlation: Option<Vec<Vec<String>>>,
}

/// The tokens of `source` without comments and doc comments (`#[doc = …]` attributes, which is what
/// `///` and `//!` are), delimiters spelled out. Two files with the same tokens are the same code.
pub fn code_tokens(source: &str) -> Result<Vec<CodeToken>, String> {
    let stream: TokenStream = source.parse().map_err(|e| format!("not valid Rust: {e}"))?;
    let mut out = Vec::new();
    // An explicit stack, so that the depth of the input bounds no recursion: (trees of a group, the
    // next one to read, the group's closing delimiter and its line).
    type Frame = (Vec<TokenTree>, usize, Option<(char, usize)>);
    let mut stack: Vec<Frame> = vec![(stream.into_iter().collect(), 0, None)];
    while let Some(top) = stack.last_mut() {
        if top.1 >= top.0.len() {
            if let Some((_, _, Some((close, line)))) = stack.pop() {
                out.push(CodeToken {
                    text: close.to_string(),
                    line,
                });
            }
            continue;
        }
        let skip = doc_attribute_length(&top.0[top.1..]);
        if skip > 0 {
            top.1 += skip;
            continue;
        }
        let tree = top.0[top.1].clone();
        top.1 += 1;
        let line = tree.span().start().line;
        match tree {
            TokenTree::Group(group) => {
                let (open, close) = match group.delimiter() {
                    Delimiter::Parenthesis => ('(', ')'),
                    Delimiter::Bracket => ('[', ']'),
                    Delimiter::Brace => ('{', '}'),
                    Delimiter::None => (' ', ' '),
                };
                out.push(CodeToken {
                    text: open.to_string(),
                    line,
                });
                let end = group.span_close().start().line;
                stack.push((group.stream().into_iter().collect(), 0, Some((close, end))));
            }
            other => out.push(CodeToken {
                text: other.to_string(),
                line,
            }),
        }
    }
    Ok(out)
}

/// How many trees a doc attribute (`# [doc …]` or `# ! [doc …]`) at the start of `trees` spans; 0
/// when there is none.
fn doc_attribute_length(trees: &[TokenTree]) -> usize {
    let is_punct = |tree: Option<&TokenTree>, c: char| matches!(tree, Some(TokenTree::Punct(p)) if p.as_char() == c);
    if !is_punct(trees.first(), '#') {
        return 0;
    }
    let bang = usize::from(is_punct(trees.get(1), '!'));
    match trees.get(1 + bang) {
        Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Bracket => {
            let first = g.stream().into_iter().next();
            if matches!(first, Some(TokenTree::Ident(ref i)) if i == "doc") {
                2 + bang
            } else {
                0
            }
        }
        _ => 0,
    }
}

/// The expressions of the `impl Sde<…> for …` block's `drift`, `diffusion` and `correlation`.
///
/// Each function's body must end in an array literal (a matrix: an array of array literals); an
/// error says what is not so. Call it on a file the gate accepted (which bounds its size and
/// nesting).
pub fn model_slots(source: &str) -> Result<Slots, String> {
    let file = syn::parse_file(source).map_err(|e| format!("not valid Rust: {e}"))?;
    let mut impls = file.items.iter().filter_map(|item| match item {
        syn::Item::Impl(imp) if implements_sde(imp) => Some(imp),
        _ => None,
    });
    let imp = impls
        .next()
        .ok_or("the file has no `impl Sde<…> for …` block")?;
    if impls.next().is_some() {
        return Err("the file has more than one `impl Sde` block".into());
    }
    let body = |name: &str| -> Option<&syn::Block> {
        imp.items.iter().find_map(|item| match item {
            syn::ImplItem::Fn(f) if f.sig.ident == name => Some(&f.block),
            _ => None,
        })
    };
    let text = |expr: &syn::Expr| -> String {
        let range = expr.span().byte_range();
        source.get(range).unwrap_or_default().trim().to_owned()
    };
    let vector = |name: &str| -> Result<Vec<String>, String> {
        let block = body(name).ok_or_else(|| format!("`fn {name}` is missing from `impl Sde`"))?;
        Ok(returned_array(block, name)?
            .elems
            .iter()
            .map(text)
            .collect())
    };
    let matrix = |name: &str| -> Result<Vec<Vec<String>>, String> {
        let block = body(name).ok_or_else(|| format!("`fn {name}` is missing from `impl Sde`"))?;
        returned_array(block, name)?
            .elems
            .iter()
            .map(|row| match row {
                syn::Expr::Array(inner) => Ok(inner.elems.iter().map(text).collect()),
                other => Err(format!(
                    "`fn {name}` must return a matrix written as an array of array literals; row `{}` is not one",
                    text(other)
                )),
            })
            .collect()
    };
    Ok(Slots {
        drift: vector("drift")?,
        diffusion: matrix("diffusion")?,
        correlation: match body("correlation") {
            Some(_) => Some(matrix("correlation")?),
            None => None,
        },
    })
}

fn implements_sde(imp: &syn::ItemImpl) -> bool {
    imp.trait_
        .as_ref()
        .and_then(|(path, _)| path.segments.last())
        .is_some_and(|segment| segment.ident == "Sde")
}

/// The array literal `block` ends with (its value).
fn returned_array<'a>(block: &'a syn::Block, name: &str) -> Result<&'a syn::ExprArray, String> {
    match block.stmts.last() {
        Some(syn::Stmt::Expr(syn::Expr::Array(array), None)) => Ok(array),
        _ => Err(format!(
            "`fn {name}` must end by returning an array literal of the model's expressions"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MODEL: &str = r#"
//! A model.
use architect_sdk::{Scheme, Sde, Step};
/// Parameters.
pub struct Model { pub kappa: f64 }
impl Sde<1, 1> for Model {
    /// The drift.
    fn drift(&self, _t: f64, state: &[f64; 1]) -> [f64; 1] {
        let x = state[0];
        [self.kappa * (1.0 - x)]
    }
    fn diffusion(&self, _t: f64, _state: &[f64; 1]) -> [[f64; 1]; 1] {
        [
            [std::f64::consts::PI.sqrt()],
        ]
    }
}
"#;

    #[test]
    fn slots_are_the_source_text_of_the_returned_arrays() {
        let slots = model_slots(MODEL).unwrap();
        assert_eq!(slots.drift, vec!["self.kappa * (1.0 - x)"]);
        assert_eq!(slots.diffusion, vec![vec!["std::f64::consts::PI.sqrt()"]]);
        assert_eq!(slots.correlation, None);
    }

    #[test]
    fn a_body_that_does_not_end_in_an_array_is_named() {
        let branching = MODEL.replace(
            "[self.kappa * (1.0 - x)]",
            "if x > 1.0 { [0.0] } else { [self.kappa] }",
        );
        let err = model_slots(&branching).unwrap_err();
        assert!(err.contains("`fn drift` must end"), "{err}");
    }

    #[test]
    fn tokens_ignore_comments_docs_and_layout_but_not_code() {
        let tokens = |s: &str| -> Vec<String> {
            code_tokens(s)
                .unwrap()
                .into_iter()
                .map(|t| t.text)
                .collect()
        };
        let relaid = MODEL
            .replace("/// The drift.", "// changed\n/// Other words.")
            .replace("(1.0 - x)", "( 1.0-x )");
        assert_eq!(tokens(MODEL), tokens(&relaid));
        assert_ne!(tokens(MODEL), tokens(&MODEL.replace("1.0 - x", "1.0 + x")));
        let line = code_tokens(MODEL)
            .unwrap()
            .into_iter()
            .find(|t| t.text == "kappa")
            .unwrap()
            .line;
        assert_eq!(line, 5);
    }
}
