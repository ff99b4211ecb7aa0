"""The text of a number wherever gradcalc reads one outside an expression (--NAME values, ± values,
CSV cells, a bare number after a flag): the grammar's NUMBER with an optional sign.

Digits are ASCII only, as the grammar's: Python's float() and regular expressions' \\d also take
'١' and '１', which an expression refuses. The groups are non-capturing so that a pattern embedding
this one (`5 ± 0.2`, a number or nan/inf in a text file) keeps its own group numbers.
"""

import re

UNSIGNED_NUMBER_PATTERN = r"(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"  # grammar/gradcalc.lark NUMBER
SIGNED_NUMBER_PATTERN = rf"[+-]?{UNSIGNED_NUMBER_PATTERN}"
SIGNED_NUMBER = re.compile(SIGNED_NUMBER_PATTERN)  # a whole value's text: use fullmatch
