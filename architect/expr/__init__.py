"""The expression core: one table of functions (`functions`), one reader of the safe expression
language with its bounds (`reader`), and the printers (`printers`: Rust, plain math, display, LaTeX)."""
