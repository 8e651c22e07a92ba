import nbformat
import pytest

from course_utils.instructor.markers import (
    MarkerError,
    cell_marker,
    is_stub,
    solution_regions,
    solution_source,
    stub_source,
)

SOURCE = """# EXERCISE 04.2
def f(x):
    \"\"\"Doc.\"\"\"
    ### BEGIN SOLUTION
    y = x + 1
    return y
    ### END SOLUTION

### BEGIN SOLUTION
CONSTANT = 3
### END SOLUTION"""


@pytest.mark.parametrize("source, expected", [
    ("# EXERCISE 04.2\nx = 1", ("exercise", "04.2", 0)),
    ("\n#EXERCISE 12.10", ("exercise", "12.10", 0)),
    ("# CHECK 04.2 (2 points)\ncheck(f)", ("check", "04.2", 2)),
    ("# CHECK 01.1 (1 point)", ("check", "01.1", 1)),
    ("# CHECK 04.2\ncheck(f)", None),  # no points: not a check marker
    ("x = 1\n# EXERCISE 04.2", None),  # only the first line counts
    ("# EXERCISE 3.2", None),
])
def test_cell_marker(source, expected):
    marker = cell_marker(nbformat.v4.new_code_cell(source))
    assert (marker and (marker.kind, marker.exercise, marker.points)) == expected


def test_markdown_cells_have_no_marker():
    assert cell_marker(nbformat.v4.new_markdown_cell("# EXERCISE 04.2")) is None


def test_stub_keeps_indentation_and_everything_outside_regions():
    stub = stub_source(SOURCE, "04.2")
    assert stub.splitlines() == [
        "# EXERCISE 04.2", "def f(x):", '    """Doc."""',
        "    # YOUR CODE HERE", '    raise NotImplementedError("Exercise 04.2: write your code here")',
        "",
        "# YOUR CODE HERE", 'raise NotImplementedError("Exercise 04.2: write your code here")',
    ]
    assert is_stub(stub, "04.2") and not is_stub(stub, "04.1") and not is_stub(SOURCE, "04.2")


def test_solution_keeps_code_and_drops_marker_lines():
    sol = solution_source(SOURCE)
    assert "BEGIN SOLUTION" not in sol and "END SOLUTION" not in sol
    assert "    y = x + 1\n    return y" in sol and "CONSTANT = 3" in sol
    ns = {}
    exec(sol, ns)
    assert ns["f"](1) == 2


@pytest.mark.parametrize("source, message", [
    ("### BEGIN SOLUTION\nx", "'### BEGIN SOLUTION' at line 1 is never closed"),
    ("### END SOLUTION", "'### END SOLUTION' at line 1 has no '### BEGIN SOLUTION' before it"),
    ("### BEGIN SOLUTION\n  ### BEGIN SOLUTION\n### END SOLUTION", "nested '### BEGIN SOLUTION' at line 2"),
])
def test_bad_regions_name_the_place(source, message):
    with pytest.raises(MarkerError, match="cell 4: " + message):
        solution_regions(source, "cell 4")


def test_regions_found():
    assert solution_regions(SOURCE) == [(3, 6), (8, 10)]
