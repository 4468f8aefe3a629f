r"""Learning rules $F(A, \sigma_T)$ in one registry (docs/theory/model.md, eq. (9);
docs/theory/thermodynamics-and-bound.md, eq. (27)–(28)).

A learning rule is a pure function of the activation $A = \boldsymbol\omega\cdot\boldsymbol\xi/\sqrt N$
and the true label $\sigma_T = \pm1$. In batch mode the learning force is

$$\boldsymbol f(\boldsymbol\omega) = \frac{\nu}{\sqrt N}\sum_\mu \sigma_T^\mu F(A^\mu, \sigma_T^\mu)\,\boldsymbol\xi^\mu
 = \nu\nabla_{\boldsymbol\omega}\sum_\mu G_\mu(A^\mu),\qquad G_\mu(A) = \int_0^A\sigma_T^\mu F(a,\sigma_T^\mu)\,da,$$

so every rule is conservative in batch mode, with
$U_{tot} = \tfrac k2|\boldsymbol\omega|^2 - \nu\sum_\mu G_\mu(A^\mu)$.

=============  ==============================  ==========================================
rule           $F(A,\sigma_T)$                 $G(A)$
=============  ==============================  ==========================================
hebbian        $1$                             $\sigma_T A$
perceptron     $\Theta(-\sigma_T A)$           $-|A|\,\Theta(-\sigma_T A)$
adatron        $|A|\,\Theta(-\sigma_T A)$      $-\tfrac12 A^2\,\Theta(-\sigma_T A)$
=============  ==============================  ==========================================

A user rule registers the same way (:func:`register_rule`) and then works everywhere a built-in
rule does: simulation, thermodynamics, theory by quadrature, the CLI (``--rule-file``).
Ties: $\mathrm{sgn}(0)\to+1$, so $A = 0$ counts as the label $+1$ (docs/theory/units.md).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from types import MappingProxyType

import jax.numpy as jnp
import numpy as np

from .errors import InputError

__all__ = [
    "LearningRule",
    "RULES",
    "register_rule",
    "unregister_rule",
    "get_rule",
    "available_rules",
    "hebbian",
    "perceptron",
    "adatron",
]


@dataclasses.dataclass(frozen=True, eq=False)
class LearningRule:
    """A learning rule: the force factor $F(A,\\sigma_T)$ and its batch potential $G(A)$.

    Instances are immutable and hashable by identity, so they can be static arguments of
    ``jax.jit``.

    Attributes
    ----------
    name : str
        Registry name.
    force : callable
        ``force(activation, label) -> F`` (dimensionless), broadcasting, pure JAX.
    potential : callable
        ``potential(activation, label) -> G`` with $G(A)=\\int_0^A\\sigma_T F(a,\\sigma_T)da$
        (dimensionless). For a user rule registered without one it is computed by 64-point
        Gauss–Legendre quadrature on $[0, A]$ (exact for piecewise-polynomial $F$ whose only
        break is at $A = 0$).
    depends_on_activation : bool
        False only when $F$ does not depend on $A$ (Hebbian): online kicks are then not
        feedback (docs/theory/thermodynamics-and-bound.md, "Feedback and information flow").
    description : str
        One line for listings.
    builtin : bool
        True for the three rules of the papers.
    """

    name: str
    force: Callable
    potential: Callable
    depends_on_activation: bool = True
    description: str = ""
    builtin: bool = False

    def __call__(self, activation, label):
        """Evaluate $F(A, \\sigma_T)$."""
        return self.force(activation, label)

    def __repr__(self) -> str:
        return f"LearningRule({self.name!r})"


def _errors(activation, label):
    # misclassified iff sigma_T * A < 0, with sgn(0) -> +1: A = 0 is an error for label -1
    return jnp.where(label > 0, activation < 0, activation >= 0)


def _hebbian_force(activation, label):
    return jnp.ones(jnp.broadcast_shapes(jnp.shape(activation), jnp.shape(label)))


def _hebbian_potential(activation, label):
    return label * activation


def _perceptron_force(activation, label):
    return jnp.where(_errors(activation, label), 1.0, 0.0)


def _perceptron_potential(activation, label):
    return jnp.where(_errors(activation, label), -jnp.abs(activation), 0.0)


def _adatron_force(activation, label):
    return jnp.where(_errors(activation, label), jnp.abs(activation), 0.0)


def _adatron_potential(activation, label):
    return jnp.where(_errors(activation, label), -0.5 * activation**2, 0.0)


hebbian = LearningRule(
    "hebbian", _hebbian_force, _hebbian_potential, depends_on_activation=False,
    description="F = 1: Hebb's rule; the weights follow an Ornstein-Uhlenbeck process",
    builtin=True,
)
perceptron = LearningRule(
    "perceptron", _perceptron_force, _perceptron_potential,
    description="F = Theta(-sigma_T A): learn only from misclassified samples", builtin=True,
)
adatron = LearningRule(
    "adatron", _adatron_force, _adatron_potential,
    description="F = |A| Theta(-sigma_T A): update proportional to the error", builtin=True,
)

#: The built-in rules (read-only).
RULES: Mapping[str, LearningRule] = MappingProxyType(
    {"hebbian": hebbian, "perceptron": perceptron, "adatron": adatron}
)

_USER_RULES: dict[str, LearningRule] = {}

_GL_NODES, _GL_WEIGHTS = np.polynomial.legendre.leggauss(64)
_GL_S = 0.5 * (_GL_NODES + 1.0)
_GL_W = 0.5 * _GL_WEIGHTS


def _quadrature_potential(force: Callable) -> Callable:
    def potential(activation, label):
        activation = jnp.asarray(activation)
        label = jnp.asarray(label)
        s = jnp.asarray(_GL_S)
        w = jnp.asarray(_GL_W)
        a = activation[..., None] * s
        vals = label[..., None] * force(a, label[..., None])
        return activation * jnp.sum(w * vals, axis=-1)

    return potential


def register_rule(name: str, force: Callable, *, potential: Callable | None = None,
                  depends_on_activation: bool = True, description: str = "",
                  overwrite: bool = False) -> LearningRule:
    r"""Register a user-defined learning rule $F(A, \sigma_T)$ under ``name``.

    Parameters
    ----------
    name : str
        Registry name; must not shadow a built-in rule.
    force : callable
        ``force(activation, label) -> F``, pure JAX and broadcasting over its arguments.
    potential : callable, optional
        $G(A) = \int_0^A \sigma_T F(a, \sigma_T)\,da$ in closed form. If omitted it is computed
        by Gauss–Legendre quadrature (accurate when $F$ is smooth on each side of $A = 0$).
    depends_on_activation : bool
        Declare False only if $F$ does not depend on $A$; otherwise online kicks count as
        feedback (``feedback_uncorrected``).
    description : str
        One line for listings.
    overwrite : bool
        Replace an existing user rule of the same name.

    Returns
    -------
    LearningRule

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> rule = register_rule("hebb_clone", lambda a, s: jnp.ones_like(a * s),
    ...                      depends_on_activation=False, overwrite=True)
    >>> get_rule("hebb_clone") is rule
    True
    >>> unregister_rule("hebb_clone")
    """
    if not isinstance(name, str) or not name.isidentifier():
        raise InputError(
            f"rule name must be a Python identifier such as 'my_rule', got {name!r}."
        )
    if name in RULES:
        raise InputError(
            f"rule name {name!r} is a built-in rule; choose another name for your rule."
        )
    if name in _USER_RULES and not overwrite:
        raise InputError(
            f"a user rule named {name!r} is already registered; pass overwrite=True to replace it."
        )
    if not callable(force):
        raise InputError(f"force must be callable F(activation, label), got {force!r}.")
    pot = potential if potential is not None else _quadrature_potential(force)
    rule = LearningRule(name, force, pot, depends_on_activation=bool(depends_on_activation),
                        description=description or f"user rule {name}")
    _check_declarations(rule, potential is not None)
    _USER_RULES[name] = rule
    return rule


def _check_declarations(rule: LearningRule, check_potential: bool) -> None:
    r"""Refuse a rule whose declarations contradict its force (they would silently change the
    dynamics or the heat): ``depends_on_activation=False`` with an $A$-dependent $F$, or a
    potential $G$ with $G(0)\ne0$ or $dG/dA\ne\sigma_T F$."""
    if rule.depends_on_activation and not check_potential:
        return  # nothing declared that could contradict F (F itself is checked before a run)
    a = np.linspace(-4.0, 4.0, 801)
    try:
        for lab in (-1.0, 1.0):
            f = np.asarray(rule.force(jnp.asarray(a), jnp.full(a.shape, lab)), dtype=float)
            if not rule.depends_on_activation and f.shape == a.shape and np.ptp(f) > 0:
                raise InputError(
                    f"rule {rule.name!r} was declared depends_on_activation=False but F(A, "
                    f"{lab:+g}) varies with A (from {f.min():.3g} to {f.max():.3g}); drop the "
                    "declaration (the default True is always safe)."
                )
            if not check_potential:
                continue
            g = np.asarray(rule.potential(jnp.asarray(a), jnp.full(a.shape, lab)), dtype=float)
            g0 = float(np.asarray(rule.potential(jnp.asarray(0.0), jnp.asarray(lab))))
            if abs(g0) > 1e-9:
                raise InputError(f"potential of rule {rule.name!r} has G(0) = {g0:.3g}; it must be "
                                 "G(A) = integral from 0 to A of sigma_T F(a, sigma_T) da, so G(0) = 0.")
            mid = 0.5 * (a[1:] + a[:-1])
            slope = np.diff(g) / np.diff(a)
            want = lab * np.asarray(rule.force(jnp.asarray(mid), jnp.full(mid.shape, lab)), dtype=float)
            bad = np.abs(slope - want) > 1e-3 * (1.0 + np.abs(want))
            if bad.sum() > 2:  # a jump of F spoils the one interval that contains it
                i = int(np.argmax(bad))
                raise InputError(
                    f"potential of rule {rule.name!r} is not the integral of sigma_T F: at A = "
                    f"{mid[i]:.3g}, sigma_T = {lab:+g} dG/dA = {slope[i]:.4g} but sigma_T F = "
                    f"{want[i]:.4g}; fix G or omit it (it is then computed by quadrature)."
                )
    except InputError:
        unregister_rule(rule.name)
        raise
    except Exception as exc:  # noqa: BLE001 - the user's function failed: one line
        unregister_rule(rule.name)
        raise InputError(f"rule {rule.name!r} failed when called to check its declarations: "
                         f"{type(exc).__name__}: {exc}") from None


def unregister_rule(name: str) -> None:
    """Remove a user rule from the registry (built-in rules cannot be removed)."""
    if name in RULES:
        raise InputError(f"{name!r} is a built-in rule and cannot be unregistered.")
    _USER_RULES.pop(name, None)


def available_rules() -> dict[str, LearningRule]:
    """All rules by name: the built-ins, then the user rules registered so far."""
    return {**RULES, **_USER_RULES}


def get_rule(rule: str | LearningRule) -> LearningRule:
    """Look up a rule by name (or pass a :class:`LearningRule` through).

    Raises
    ------
    InputError
        If the name is unknown; the message lists the known rules and how to add one.
    """
    if isinstance(rule, LearningRule):
        return rule
    rules = available_rules()
    if isinstance(rule, str) and rule.lower() in rules:
        return rules[rule.lower()]
    if isinstance(rule, str) and rule in rules:
        return rules[rule]
    raise InputError(
        f"unknown learning rule {rule!r}; expected one of {sorted(rules)}. To add one, call "
        "thermoinfer.register_rule('name', F) with F(activation, label) (CLI: --rule-file FILE.py)."
    )
