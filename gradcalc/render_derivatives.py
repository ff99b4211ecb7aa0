"""What --order, --hessian, --jacobian, --jvp and --hvp add to each output format, and --diff's
formulas. The renderers in render.py and render_table.py call these; they never decide exit codes."""

from gradcalc.higher_order import column, distinct, symbol


def _plain(value):
    return value.tolist() if hasattr(value, "tolist") else value


def _plain_tree(tree):
    """A nested dict of derivatives with arrays as nested lists (JSON)."""
    return {name: (_plain_tree(value) if isinstance(value, dict) else _plain(value)) for name, value in tree.items()}


def json_fields(result) -> dict:
    """The JSON keys beyond the gradient: derivatives, jacobian, jvp, hvp."""
    fields = {}
    if result.derivatives:
        fields["derivatives"] = {str(order): _plain_tree(tree) for order, tree in result.derivatives.items()}
    if result.jacobian is not None:
        fields["jacobian"] = {name: _plain(value) for name, value in result.jacobian.items()}
    if result.jvp is not None:
        fields["jvp"] = _plain(result.jvp)
    if result.hvp is not None:
        fields["hvp"] = {name: _plain(value) for name, value in result.hvp.items()}
    return fields


def columns(result) -> dict:
    """{column name: value} of the CSV/TSV columns after the gradients: d2_x_y ..., jvp, hvp_x ..."""
    found = {}
    for order, tree in (result.derivatives or {}).items():
        for index, value in distinct(tree, order):
            found[column(index)] = value
    if result.jvp is not None:
        found["jvp"] = result.jvp
    for name, value in (result.hvp or {}).items():
        found[f"hvp_{name}"] = value
    for name, value in (result.jacobian or {}).items():
        found[f"jacobian_{name}"] = value
    return found


def column_order(name: str):
    """Sort key of extra columns: derivatives by order, then jvp, hvp, jacobian."""
    if name.startswith("d") and name[1:].split("_", 1)[0].isdigit():
        return 0, int(name[1:].split("_", 1)[0]), name
    return {"jvp": 1, "hvp": 2, "jacobian": 3}[name.split("_", 1)[0]], 0, name


def expected_columns(names, order: int, jvp: bool, hvp: bool, jacobian: bool) -> list:
    """The extra columns when the variables are known in advance (--wrt)."""
    from itertools import combinations_with_replacement

    found = [column(index) for k in range(2, order + 1) for index in combinations_with_replacement(names, k)]
    found += ["jvp"] if jvp else []
    found += [f"hvp_{name}" for name in names] if hvp else []
    found += [f"jacobian_{name}" for name in names] if jacobian else []
    return found


def bare(result, name: str):
    """With -o plain and one --wrt: the highest-order derivative in `name` (the gradient at order 1)."""
    if not result.derivatives:
        return None
    order = max(result.derivatives)
    value = result.derivatives[order]
    for _ in range(order):
        value = value[name]
    return value


def plain_tokens(result, number) -> list:
    """name=value tokens for -o plain after the gradients."""
    return [f"{name}={number(value)}" for name, value in columns(result).items()]


def print_tables(console, result, number, prefix: str = "") -> None:
    """The Hessian as a matrix, higher orders one row per distinct derivative, then J, Jv and Hv,
    fitted to the console as every table is (gradcalc/render_tables.py); `number(value, width)`
    writes a value, an array's lines wrapped at `width`."""
    from gradcalc.render_tables import Column, print_table
    from gradcalc.render_text import print_line

    for order, tree in (result.derivatives or {}).items():
        names = list(tree)
        matrix = order == 2 and all(not getattr(tree[a][b], "shape", ()) for a in names for b in names)
        if matrix:
            columns = [Column("", "left"), *(Column(name) for name in names)]  # row names are never cut
            rows = [[row, *(number(tree[row][col]) for col in names)] for row in names]
            print_table(console, columns, rows, title=prefix + "Hessian: ∂²f/∂row∂column")
        else:
            columns = [Column("derivative", "left"), Column("value")]
            rows = [[symbol(index), value] for index, value in distinct(tree, order)]
            print_table(console, columns, rows, title=prefix + f"derivatives of order {order}", number=number)
    if result.jacobian is not None:
        columns = [Column("variable", "left", "shorten"), Column("shape", "left"), Column("value")]
        rows = [[name, "×".join(map(str, getattr(value, "shape", ()))) or "scalar", value]
                for name, value in result.jacobian.items()]
        print_table(console, columns, rows, title=prefix + "Jacobian: ∂output/∂variable", number=number)
    if result.jvp is not None:
        print_line(console, f"{prefix}directional derivative (jvp) = {number(result.jvp)}")
    if result.hvp is not None:
        columns = [Column("variable", "left", "shorten"), Column("(H v)")]
        rows = [[name, value] for name, value in result.hvp.items()]
        print_table(console, columns, rows, title=prefix + "Hessian-vector product (hvp)", number=number)


class Formula:
    """--diff's answer for one job: the expression, the variable and the derivative's text."""

    __slots__ = ("expression", "wrt", "order", "text")

    def __init__(self, expression: str, wrt: str, order: int, text: str):
        self.expression, self.wrt, self.order, self.text = expression, wrt, order, text

    def record(self, line=None) -> dict:
        record = {} if line is None else {"line": line}
        record.update(expression=self.expression, wrt=self.wrt, derivative=self.text)
        if self.order > 1:
            record["order"] = self.order
        return record
