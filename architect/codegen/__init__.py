"""Code generation: `SdeModel` -> Rust crate. `symbolic` is the trusted reference backend."""

from architect.codegen.rust_printer import UnsupportedExpression, rust_expr
from architect.codegen.symbolic import (
    SCHEME_KINDS,
    GeneratedCrate,
    ModelBodies,
    SchemeChoice,
    choose_scheme,
    exact_law,
    fixed_files,
    model_identifiers,
    render_model_rs,
    symbolic_bodies,
    write_crate,
)

__all__ = [
    "SCHEME_KINDS",
    "GeneratedCrate",
    "ModelBodies",
    "SchemeChoice",
    "UnsupportedExpression",
    "choose_scheme",
    "exact_law",
    "fixed_files",
    "model_identifiers",
    "render_model_rs",
    "rust_expr",
    "symbolic_bodies",
    "write_crate",
]
