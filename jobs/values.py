"""How members write numbers, and the error a value they wrote raises."""

import re
from decimal import Decimal

NUMBER = re.compile(r"-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")
"""A decimal number as members write it (`2`, `-0.5`, `.5`); never nan, inf or an exponent."""


class BadValue(ValueError):
    """A value was given but cannot be used; str() is the reason."""


def format_number(x: float) -> str:
    """`x` as a member would write it: 2, 0.5, -1, 4294967295 (never 2.0 or 1e-05)."""
    return format(Decimal(repr(x + 0.0)).normalize(), "f")
