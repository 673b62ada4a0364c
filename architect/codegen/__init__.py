"""Code generation: `SdeModel` -> Rust crate. `symbolic` is the trusted reference backend."""

from architect.codegen.rust_printer import UnsupportedExpression, rust_expr
from architect.codegen.symbolic import (
    GeneratedCrate,
    SchemeChoice,
    choose_scheme,
    fixed_files,
    render_model_rs,
    write_crate,
)

__all__ = [
    "GeneratedCrate",
    "SchemeChoice",
    "UnsupportedExpression",
    "choose_scheme",
    "fixed_files",
    "render_model_rs",
    "rust_expr",
    "write_crate",
]
