"""architect: you do the math, we do the code."""
