"""Explicit equations: ``dX = kappa*(theta - X)*dt + sigma*sqrt(X)*dW, kappa=2, theta=0.04, sigma=0.3, X0=0.04``.

The reader works in passes, each with its own errors and carets: statements; state variables
(one equation each); the dt/dW split of every right-hand side (`read_system`, shared with the
catalog); values; symbols without a value; correlations; constraints; initial values; domains.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import sympy as sp

from architect.errors import ParseError
from architect.model import JUMP_LAWS, TIME, JumpPart, Parameter, SdeModel, exact_value, symbol
from architect.parser.domains import defined_region, domain_problem, infer_domain, region_problem, undefined_part
from architect.parser.lexer import Token, check_brackets, check_characters, check_numbers, renamed_keywords
from architect.parser.linear import DT, Differential, Linear, Resolver, evaluate, evaluate_constant
from architect.parser.names import inferred_constraint, natural_key, reserved_reason, suggestion
from architect.parser.statements import (
    JUMP_DIFFERENTIAL,
    JUMP_NAME,
    NOISE_DIFFERENTIAL,
    Assignment,
    Correlation,
    Equation,
    InitialValue,
    JumpLawStatement,
    Statement,
    classify,
    is_equation_left_side,
    noise_of,
    prose_to_statements,
    split_statements,
    strip_time_suffix,
)
from architect.parser.syntax import Group, Name, Node, Sum, names_in
from architect.parser.values import numeric_value

IMPLICIT_CORRELATION = "rho"
INDEXED_CORRELATION = re.compile(r"rho_?(\d)_?(\d)|rho_(\d+)_(\d+)")


@dataclass(frozen=True)
class System:
    """The equations alone: what multiplies dt and each dW, per state variable."""

    state: tuple[str, ...]
    noises: tuple[str, ...]
    drift: tuple[sp.Expr, ...]
    diffusion: tuple[tuple[sp.Expr, ...], ...]
    jump_terms: tuple[tuple[str, str, sp.Expr], ...] = ()  # (state variable, jump process J, coefficient of dJ)

    def canonical(self) -> System:
        """The same system in the form the model's JSON reader gives back (see `canonical`)."""
        return System(
            state=self.state,
            noises=self.noises,
            drift=tuple(canonical(e) for e in self.drift),
            diffusion=tuple(tuple(canonical(e) for e in row) for row in self.diffusion),
            jump_terms=self.jump_terms,
        )


def canonical(expr: sp.Expr) -> sp.Expr:
    """``expr`` as `SdeModel.from_json` would read it back, so a parsed model round-trips exactly.

    Printing and re-reading can restructure an expression (``2*(a + b)/c`` comes back as
    ``(2*a + 2*b)/c``: sympy distributes a number over a sum as it builds the product); doing it
    once here, to a fixed point, makes the parsed model equal to its own JSON form.
    """
    names = {str(s): s for s in expr.free_symbols}
    for _ in range(3):
        try:
            again = sp.sympify(sp.sstr(expr), locals=names, rational=True)
        except (sp.SympifyError, TypeError, ValueError, SyntaxError):
            return expr
        if again == expr:
            break
        expr = again
    return expr


@dataclass(frozen=True)
class Value:
    name: str
    value: float
    node: Node  # the value's expression, for carets
    position: int  # of the name


def read_statements(text: str, tokens: Sequence[Token]) -> list[Statement]:
    tokens = prose_to_statements(tokens)
    check_characters(tokens, text)
    check_brackets(tokens, text)
    check_numbers(tokens, text)
    return [classify(chunk, text) for chunk in split_statements(tokens)]


def parse_equations(text: str, tokens: Sequence[Token]) -> SdeModel:
    """An `SdeModel` from explicit equations, values, initial values and correlations."""
    tokens = prose_to_statements(tokens)  # first, so that words it consumes ("from") need no renaming note
    return _Reader(text, read_statements(text, tokens), renamed_keywords(tokens, text)).model()


# ---------------------------------------------------------------------------- the dt/dW split
def resolver(states: Iterable[str]) -> Resolver:
    """Names in a right-hand side: differentials, t, pi, state variables (``X_t`` = ``X``), other symbols."""
    state_set = set(states)

    def resolve(name: Name) -> sp.Expr | Differential:
        text = name.name
        if text == DT:
            return Differential(DT)
        if NOISE_DIFFERENTIAL.fullmatch(text):
            return Differential(noise_of(text))
        if (jump := JUMP_DIFFERENTIAL.fullmatch(text)) is not None:
            return Differential(jump.group(1))
        if text == "t":
            return TIME
        if text == "pi":
            return sp.pi
        base = strip_time_suffix(text)
        return symbol(base if base in state_set else text)

    return resolve


def read_system(equations: Sequence[Equation], text: str) -> System:
    """Split each right-hand side into its dt and dW coefficients; ParseError at any other term."""
    state = tuple(eq.variable for eq in equations)
    resolve = resolver(state)
    forms: list[Linear] = []
    for eq in equations:
        check_every_term_has_a_differential(eq.rhs, resolve, text)
        form = evaluate(eq.rhs, resolve, text)
        forms.append(form.scaled(symbol(eq.variable)) if eq.relative else form)
    noises = tuple(
        sorted(
            {key for form in forms for key in form.parts if key != DT and not JUMP_NAME.fullmatch(key)}, key=natural_key
        )
    )
    jump_terms = tuple(
        (variable, key, coefficient)
        for variable, form in zip(state, forms, strict=True)
        for key, coefficient in form.parts.items()
        if JUMP_NAME.fullmatch(key)
    )
    if not noises:
        raise ParseError("no Brownian motion: at least one term must be multiplied by dW", text, equations[0].position)
    zero = sp.Integer(0)
    return System(
        state=state,
        noises=noises,
        drift=tuple(form.parts.get(DT, zero) for form in forms),
        diffusion=tuple(tuple(form.parts.get(w, zero) for w in noises) for form in forms),
        jump_terms=jump_terms,
    )


def check_every_term_has_a_differential(node: Node, resolve: Resolver, text: str) -> None:
    if isinstance(node, Sum):
        for term in node.terms:
            check_every_term_has_a_differential(term.node, resolve, text)
    elif isinstance(node, Group):
        check_every_term_has_a_differential(node.inner, resolve, text)
    elif evaluate(node, resolve, text).constant != 0:
        snippet = text[node.start : node.end]
        reason = (
            f"the term {snippet!r} has neither dt nor dW: every term must be multiplied by dt or by a dW (or be a dJ)"
        )
        raise ParseError(reason, text, node.start)


# ---------------------------------------------------------------------------- the reader
class _Reader:
    def __init__(self, text: str, statements: list[Statement], renamed: dict[str, str]) -> None:
        self.text = text
        self.equations = [s for s in statements if isinstance(s, Equation)]
        self.assignments = [s for s in statements if isinstance(s, Assignment)]
        self.initial_statements = [s for s in statements if isinstance(s, InitialValue)]
        self.correlations = [s for s in statements if isinstance(s, Correlation)]
        self.jump_laws = [s for s in statements if isinstance(s, JumpLawStatement)]
        self.notes: list[str] = [
            f"{typed} is a Python keyword, so it is called {used}" for typed, used in renamed.items()
        ]

    def fail(self, reason: str, position: int | None) -> ParseError:
        return ParseError(reason, self.text, position)

    def model(self) -> SdeModel:
        self.check_state_variables()
        system = read_system(self.equations, self.text)
        self.check_noise_names(system)
        parameters, initials = self.read_values(system)
        self.check_symbols_have_values(system, parameters)
        self.check_euler_number_clash(system, parameters)
        system = system.canonical()  # after the E/exp(1) check: printed, exp(1) and a symbol E look alike
        correlation, correlated = self.correlation_matrix(system, parameters)
        jumps = self.jump_parts(system, parameters)
        self.check_unused(system, parameters, correlated, jumps)
        constraints = {name: "correlation" if name in correlated else inferred_constraint(name) for name in parameters}
        self.check_constraints(parameters, constraints)
        self.check_defined(system, parameters)
        initial = self.initial_state(system, initials)
        values = {name: v.value for name, v in parameters.items()}
        domain = self.domains(system, initial, initials, {j.variable for j in jumps}, constraints, values)
        return SdeModel(
            name=("custom SDE in " if len(system.state) == 1 else "custom system in ") + ", ".join(system.state),
            state=system.state,
            noises=system.noises,
            drift=system.drift,
            diffusion=system.diffusion,
            correlation=correlation,
            parameters=tuple(
                Parameter(v.name, v.value, constraints[v.name], correlated.get(v.name, "")) for v in parameters.values()
            ),
            initial=initial,
            domain=domain,
            source=self.text,
            notes=tuple(self.notes),
            jumps=jumps,
        )

    # ------------------------------------------------------------ state variables and noises
    def check_state_variables(self) -> None:
        if not self.equations:
            for statement in self.assignments:
                if is_equation_left_side(statement.name):
                    reason = f"{statement.name} = ... has no dt or dW term: write {statement.name} = ... dt + ... dW"
                    raise self.fail(reason, statement.value.start)
            raise self.fail("no equation found: write one like 'dX = mu*X*dt + sigma*X*dW'", 0)
        seen: set[str] = set()
        for eq in self.equations:
            if (why := reserved_reason(eq.variable)) is not None:
                raise self.fail(f"{why}; it cannot have an equation d{eq.variable} = ...", eq.position)
            if eq.variable in seen:
                raise self.fail(f"a second equation for {eq.variable}: each variable needs exactly one", eq.position)
            seen.add(eq.variable)

    def check_noise_names(self, system: System) -> None:
        for eq in self.equations:
            for name in names_in(eq.rhs):
                if NOISE_DIFFERENTIAL.fullmatch(name.name) and noise_of(name.name) in system.state:
                    reason = f"{noise_of(name.name)} is both a state variable and a Brownian motion; rename one"
                    raise self.fail(reason, name.start)

    # ------------------------------------------------------------ values
    def read_values(self, system: System) -> tuple[dict[str, Value], dict[str, Value]]:
        """Split value statements into parameters and initial values (``X0``, ``X_0``, ``X(0)``), in text order."""
        states = set(system.state)
        parameters: dict[str, Value] = {}
        initials: dict[str, Value] = {}
        statements = sorted([*self.assignments, *self.initial_statements], key=lambda s: s.position)
        for statement in statements:
            if isinstance(statement, InitialValue):
                self.check_initial_variable(statement, states)
                self.add_initial(initials, statement.variable, statement.value, statement.position)
            elif (variable := _initial_value_of(statement.name, states)) is not None:
                self.add_initial(initials, variable, statement.value, statement.position)
            else:
                self.check_parameter_name(statement, system)
                if statement.name in parameters:
                    raise self.fail(f"{statement.name} is given twice", statement.position)
                value = numeric_value(statement.value, self.text, statement.name)
                parameters[statement.name] = Value(statement.name, value, statement.value, statement.position)
        return parameters, initials

    def check_initial_variable(self, statement: InitialValue, states: set[str]) -> None:
        if statement.variable not in states:
            reason = f"{statement.variable}(0) is given but there is no equation d{statement.variable} = ..."
            raise self.fail(reason, statement.position)

    def add_initial(self, initials: dict[str, Value], variable: str, node: Node, position: int) -> None:
        if variable in initials:
            raise self.fail(f"the initial value of {variable} is given twice", position)
        initials[variable] = Value(variable, numeric_value(node, self.text, f"{variable}0"), node, position)

    def check_parameter_name(self, statement: Assignment, system: System) -> None:
        name, position = statement.name, statement.position
        if (why := reserved_reason(name)) is not None:
            raise self.fail(f"{why}; it cannot be given a value", position)
        if name in system.state:
            raise self.fail(f"{name} is a state variable: give its initial value as {name}0 = ...", position)
        if name in system.noises:
            raise self.fail(f"{name} is a Brownian motion; it cannot be given a value", position)
        if is_equation_left_side(name) and strip_time_suffix(name[1:]) in system.state:
            raise self.fail(f"{name} = ... has no dt or dW term", statement.value.start)

    # ------------------------------------------------------------ symbols
    def check_symbols_have_values(self, system: System, parameters: dict[str, Value]) -> None:
        """Every symbol needs a value; several missing values (initial values too) are listed in one error."""
        known = {*parameters, "t", "pi"}
        missing: dict[str, int] = {}
        for eq in self.equations:
            for name in names_in(eq.rhs):
                if name.name == DT or NOISE_DIFFERENTIAL.fullmatch(name.name) or JUMP_DIFFERENTIAL.fullmatch(name.name):
                    continue
                if strip_time_suffix(name.name) not in system.state and name.name not in known:
                    reason = self.unknown_symbol_reason(name.name, system, parameters)
                    if not reason.startswith("unknown symbol"):
                        raise self.fail(reason, name.start)
                    missing.setdefault(name.name, name.start)
        if not missing:
            return
        given = {s.variable for s in self.initial_statements} | {
            v for a in self.assignments if (v := _initial_value_of(a.name, set(system.state))) is not None
        }
        no_start = [f"{v}0" for v in system.state if v not in given]
        if len(missing) == 1 and not no_start:
            only, position = next(iter(missing.items()))
            raise self.fail(self.unknown_symbol_reason(only, system, parameters), position)
        wanted = [*missing, *no_start]
        listed = ", ".join(wanted[:-1]) + f" and {wanted[-1]}"
        reason = f"missing values for {listed}: add {', '.join(f'{n}=...' for n in wanted)}"
        raise self.fail(reason, next(iter(missing.values())))

    def check_euler_number_clash(self, system: System, parameters: dict[str, Value]) -> None:
        """exp(1) prints as E in the JSON form, so a symbol named E and Euler's number cannot both appear."""
        if "E" not in parameters and "E" not in system.state:
            return
        expressions = (*system.drift, *(e for row in system.diffusion for e in row))
        if any(expr.has(sp.E) for expr in expressions):
            position = next((n.start for eq in self.equations for n in names_in(eq.rhs) if n.name == "E"), None)
            raise self.fail("E is a name here but exp(1) also appears; rename E", position)

    def unknown_symbol_reason(self, name: str, system: System, parameters: dict[str, Value]) -> str:
        if name in system.noises:
            return f"{name} is a Brownian motion: only its increment d{name} can appear in an equation"
        if name.startswith("d") and name[1:] in system.state:
            return f"{name} cannot appear on a right-hand side"
        if (variable := _initial_value_of(name, set(system.state))) is not None:
            return f"{name} is the initial value of {variable} and cannot appear in an equation; use a parameter"
        if self.has_orphan_initial_value(name):
            return f"{name} has an initial value but no equation: add d{name} = ... dt + ... dW"
        if (why := reserved_reason(name)) is not None:
            return f"{why} and cannot be used here"
        unused = [p for p in parameters if p != name]
        return f"unknown symbol {name!r} has no value; add {name}=...{suggestion(name, unused)}"

    def has_orphan_initial_value(self, name: str) -> bool:
        assigned = {a.name for a in self.assignments}
        return any(s.variable == name for s in self.initial_statements) or bool({f"{name}0", f"{name}_0"} & assigned)

    def check_unused(
        self, system: System, parameters: dict[str, Value], correlated: dict[str, str], jumps: tuple[JumpPart, ...]
    ) -> None:
        jump_expressions = (e for j in jumps for e in j.expressions())
        expressions = (*system.drift, *(e for row in system.diffusion for e in row), *jump_expressions)
        used = {str(s) for expr in expressions for s in expr.free_symbols}
        for value in parameters.values():
            if value.name not in used and value.name not in correlated:
                raise self.fail(self.unused_reason(value.name, system), value.position)

    def unused_reason(self, name: str, system: System) -> str:
        if name == IMPLICIT_CORRELATION and len(system.noises) != 2 and not self.correlations:
            motions = ", ".join(system.noises)
            if len(system.noises) == 1:
                return f"rho is given, but the model has only one Brownian motion ({motions}); a correlation needs two"
            return f"rho is given, but with {len(system.noises)} Brownian motions ({motions}) write corr(W1, W2) = rho"
        match = re.fullmatch(r"(.+?)(?:_t)?_?0", name)
        if match and match.group(1) not in system.state and reserved_reason(match.group(1)) is None:
            variable = match.group(1)
            states = ", ".join(system.state)
            return f"{name} looks like an initial value, but there is no equation d{variable} = ... (states: {states})"
        return f"{name} is given a value but appears in no equation"

    # ------------------------------------------------------------ jumps
    def jump_parts(self, system: System, parameters: dict[str, Value]) -> tuple[JumpPart, ...]:
        """Each ``+ dJ`` term with the law of its ``J ~ CompoundPoisson(...)`` line; ParseError with a caret at a J
        used but never defined (or twice), a law no equation uses, a scaled dJ, or values that make no law."""
        laws: dict[str, JumpLawStatement] = {}
        for statement in self.jump_laws:
            if statement.name in laws:
                raise self.fail(f"the law of {statement.name} is given twice", statement.position)
            laws[statement.name] = statement
        parts, used = [], {}
        for variable, name, coefficient in system.jump_terms:
            where = self.jump_position(variable, name)
            if name in used:
                raise self.fail(f"d{name} appears in the equations of {used[name]} and {variable}: one each", where)
            if variable in used.values():
                raise self.fail(f"{variable} has two jump terms: give it one dJ", where)
            used[name] = variable
            if coefficient != 1:
                reason = (
                    f"write the jump term as + d{name}, not ({coefficient})*d{name}: the jump sizes carry the scale"
                )
                raise self.fail(reason, where)
            if name not in laws:
                reason = f"d{name} is used but {name} is never defined: add {name} ~ CompoundPoisson(lam, Normal(m, s))"
                raise self.fail(reason, where)
            parts.append(self.jump_part(variable, laws[name], system, parameters))
        for name, statement in laws.items():
            if name not in used:
                raise self.fail(f"{name} is defined but no equation has a d{name} term", statement.position)
        return tuple(parts)

    def jump_position(self, variable: str, name: str) -> int | None:
        equation = next(eq for eq in self.equations if eq.variable == variable)
        found = (
            n.start for n in names_in(equation.rhs) if (m := JUMP_DIFFERENTIAL.fullmatch(n.name)) and m.group(1) == name
        )
        return next(found, equation.position)

    def jump_part(
        self, variable: str, statement: JumpLawStatement, system: System, parameters: dict[str, Value]
    ) -> JumpPart:
        resolve = resolver(system.state)
        nodes = (statement.intensity, *statement.args)
        exprs = []
        for node in nodes:
            for name in names_in(node):
                if strip_time_suffix(name.name) in system.state:
                    reason = (
                        f"the law of {statement.name} cannot depend on the state variable {name.name}: jumps have a "
                    )
                    raise self.fail(reason + "constant rate and sizes independent of the state", name.start)
                if name.name not in parameters and name.name != "pi":
                    reason = self.unknown_symbol_reason(name.name, system, parameters)
                    raise self.fail(f"in the law of {statement.name}: {reason}", name.start)
            exprs.append(canonical(evaluate_constant(node, resolve, self.text, f"the law of {statement.name}")))
        part = JumpPart(variable, exprs[0], statement.law, tuple(exprs[1:]))
        subs = {symbol(v.name): exact_value(float(v.value)) for v in parameters.values()}
        if (found := part.first_problem(subs)) is not None:
            field, reason = found
            index = ("intensity", *JUMP_LAWS[statement.law]).index(field)
            raise self.fail(reason, nodes[index].start)
        return part

    # ------------------------------------------------------------ correlation
    def correlation_matrix(
        self, system: System, parameters: dict[str, Value]
    ) -> tuple[tuple[tuple[sp.Expr, ...], ...], dict[str, str]]:
        """The correlation matrix, and a description for each parameter that is a correlation."""
        noises = system.noises
        entries: dict[frozenset[str], sp.Expr] = {}
        for statement in self.correlations:
            pair = self.correlation_pair(statement, noises)
            if pair in entries:
                raise self.fail("this correlation is given twice", statement.first_position)
            entries[pair] = self.correlation_entry(statement, system, parameters)
        for pair, name in _correlations_by_name(noises, parameters, entries).items():
            entries[pair] = symbol(name)
            self.notes.append(f"{name} is the correlation between " + " and ".join(sorted(pair, key=natural_key)))
        matrix = tuple(
            tuple(sp.Integer(1) if a == b else entries.get(frozenset((a, b)), sp.Integer(0)) for b in noises)
            for a in noises
        )
        correlated = {
            str(s): "correlation between " + " and ".join(sorted(pair, key=natural_key))
            for pair, entry in entries.items()
            for s in entry.free_symbols
        }
        return matrix, correlated

    def correlation_pair(self, statement: Correlation, noises: tuple[str, ...]) -> frozenset[str]:
        for name, position in (
            (statement.first, statement.first_position),
            (statement.second, statement.second_position),
        ):
            if name not in noises:
                listed = ", ".join(noises)
                raise self.fail(
                    f"{name} appears in a correlation but in no equation (the Brownian motions are {listed})", position
                )
        if statement.first == statement.second:
            raise self.fail(f"the correlation of {statement.first} with itself is always 1", statement.second_position)
        return frozenset((statement.first, statement.second))

    def correlation_entry(self, statement: Correlation, system: System, parameters: dict[str, Value]) -> sp.Expr:
        node = statement.value
        for name in names_in(node):
            if (
                name.name not in parameters
                and name.name not in ("pi", DT)
                and not NOISE_DIFFERENTIAL.fullmatch(name.name)
            ):
                raise self.fail(self.unknown_symbol_reason(name.name, system, parameters), name.start)
        form = evaluate(node, resolver(()), self.text)
        entry = self.entry_of(form, statement)
        if entry.is_Rational and not -1 <= entry <= 1:
            reason = (
                f"the correlation between {statement.first} and {statement.second} is {float(entry):g}, outside [-1, 1]"
            )
            raise self.fail(reason, node.start)
        if not entry.is_Rational and not (isinstance(entry, sp.Symbol) or isinstance(-entry, sp.Symbol)):
            raise self.fail("a correlation must be a number such as -0.7 or a parameter name such as rho", node.start)
        return entry

    def entry_of(self, form: Linear, statement: Correlation) -> sp.Expr:
        node = statement.value
        keys = set(form.parts)
        if statement.per_dt:
            if keys != {DT} or form.constant != 0:
                raise self.fail(f"write d{statement.first}*d{statement.second} = rho*dt", node.start)
            return form.parts[DT]
        if keys:
            raise self.fail("a correlation cannot contain dt or dW", node.start)
        return form.constant

    # ------------------------------------------------------------ constraints, initial values, domains
    def check_constraints(self, parameters: dict[str, Value], constraints: dict[str, str]) -> None:
        for value in parameters.values():
            why = Parameter(value.name, value.value, constraints[value.name]).violation()
            if why is not None:
                raise self.fail(why, value.node.start)

    def check_defined(self, system: System, parameters: dict[str, Value]) -> None:
        """Every coefficient is defined at the parameters' values: ``log(lam/X)`` with lam = 0 is ``log(0)``."""
        values = {symbol(v.name): exact_value(float(v.value)) for v in parameters.values()}
        several = len(system.noises) > 1
        for eq, drift, row in zip(self.equations, system.drift, system.diffusion, strict=True):
            name = eq.variable
            coefficients = [(f"the drift of {name}", drift)]
            coefficients += [
                (f"the diffusion of {name}" + (f" (its d{w} term)" if several else ""), entry)
                for w, entry in zip(system.noises, row, strict=True)
            ]
            coefficients += [(f"the d{key} term of {name}", c) for v, key, c in system.jump_terms if v == name]
            for what, expr in coefficients:
                if (undefined := undefined_part(expr, values)) is not None:
                    reason = f"{what} is undefined at the given parameter values: {undefined}"
                    raise self.fail(reason, eq.position)

    def initial_state(self, system: System, initials: dict[str, Value]) -> tuple[float, ...]:
        for eq in self.equations:
            if eq.variable not in initials:
                reason = f"no initial value for {eq.variable}: add {eq.variable}0 = ... (or {eq.variable}(0) = ...)"
                raise self.fail(reason, eq.position)
        return tuple(initials[name].value for name in system.state)

    def domains(
        self,
        system: System,
        initial: tuple[float, ...],
        initials: dict[str, Value],
        jumping: set[str],
        constraints: dict[str, str],
        values: dict[str, float],
    ) -> tuple[str, ...]:
        result = []
        everything = (*system.drift, *(e for row in system.diffusion for e in row))
        for i, name in enumerate(system.state):
            others = [e for j, e in enumerate(everything) if j != i and j < len(system.drift)]
            others += [e for j, row in enumerate(system.diffusion) if j != i for e in row]
            domain, why = infer_domain(name, system.drift[i], system.diffusion[i], others, constraints, values)
            region, _ = defined_region(symbol(name), everything, constraints, values)
            if name in jumping:
                # Additive jumps can take it anywhere: no sign is kept (write the log of a positive variable).
                domain = "real"
            if (problem := domain_problem(name, domain, why, initial[i])) is not None:
                raise self.fail(problem, initials[name].node.start)
            if (outside := region_problem(name, region, initial[i])) is not None:
                raise self.fail(outside, initials[name].node.start)
            if domain != "real":
                self.notes.append(f"{name} is {_domain_words(domain)}: {why}")
            elif why:
                self.notes.append(f"{name} is not constrained: {why}")
            result.append(domain)
        return tuple(result)


def _correlations_by_name(
    noises: tuple[str, ...], parameters: dict[str, Value], entries: dict[frozenset[str], sp.Expr]
) -> dict[frozenset[str], str]:
    """Correlations given only by a parameter's name: ``rho`` for two Brownian motions, ``rho12`` or
    ``rho_1_2`` for W1 and W2 of several; never for a pair or parameter an explicit statement uses."""
    taken = {str(s) for entry in entries.values() for s in entry.free_symbols}
    found: dict[frozenset[str], str] = {}
    if len(noises) == 2 and IMPLICIT_CORRELATION in parameters and IMPLICIT_CORRELATION not in taken:
        found[frozenset(noises)] = IMPLICIT_CORRELATION
    by_index = {match.group(1): w for w in noises if (match := re.search(r"(\d+)$", w))}
    for name in parameters:
        match = INDEXED_CORRELATION.fullmatch(name)
        if match and name not in taken:
            i, j = (match.group(1), match.group(2)) if match.group(1) else (match.group(3), match.group(4))
            if i != j and i in by_index and j in by_index:
                found[frozenset((by_index[i], by_index[j]))] = name
    return {pair: name for pair, name in found.items() if pair not in entries}


def _initial_value_of(name: str, states: set[str]) -> str | None:
    """``X0`` or ``X_0`` (``X_t0`` too) name the initial value of state X."""
    for suffix in ("_0", "0"):
        if name.endswith(suffix) and strip_time_suffix(name[: -len(suffix)]) in states:
            return strip_time_suffix(name[: -len(suffix)])
    return None


def _domain_words(domain: str) -> str:
    return {"positive": "kept positive", "nonnegative": "kept non-negative"}.get(
        domain, f"kept in {domain}, both ends included"
    )
