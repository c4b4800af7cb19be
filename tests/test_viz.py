"""viz.to_dot: the graph as Graphviz DOT text with op names and shapes."""
import re

import minigrad
from minigrad import viz


def test_to_dot_names_ops_and_shapes():
    x = minigrad.randn(4, 3, requires_grad=True)
    w = minigrad.randn(2, 3, requires_grad=True)
    b = minigrad.randn(2, requires_grad=True)
    loss = minigrad.linear(x, w, b).relu().sum()
    dot = viz.to_dot(loss)
    assert dot.startswith("digraph minigrad {") and dot.rstrip().endswith("}")
    for op in ("Linear", "Relu", "Sum"):
        assert f'label="{op}"' in dot
    for shape in ("(4, 3)", "(2, 3)", "(2,)"):
        assert shape in dot
    assert "loss\\n()" in dot
    # every edge joins two declared nodes
    declared = set(re.findall(r"^\s*(n\d+) \[", dot, re.M))
    edges = re.findall(r"^\s*(n\d+) -> (n\d+)(?: \[label=\"([^\"]*)\"\])?;", dot, re.M)
    assert len(edges) == 6
    for a, c, _ in edges:
        assert a in declared and c in declared
    # intermediate tensors: Linear's and Relu's outputs, both (4, 2), label their edges
    assert sorted(label for _, _, label in edges if label) == ["(4, 2)", "(4, 2)"]
    # the three leaves and three ops each appear once
    assert len(declared) == 7


def test_to_dot_shared_node_listed_once_and_constants_dashed():
    x = minigrad.ones(2, requires_grad=True)
    c = minigrad.ones(2)
    h = x.exp()
    y = (h * h + c).sum()
    dot = viz.to_dot(y, name="y")
    assert dot.count('label="Exp"') == 1
    assert "style=dashed" in dot  # the constant c
    assert dot.count("fillcolor=lightyellow") == 1  # the leaf x
    assert "y\\n()" in dot


def test_to_dot_of_a_leaf():
    dot = viz.to_dot(minigrad.ones(3))
    assert "(3,)" in dot and "->" not in dot


def test_to_dot_is_lazy_attribute_of_minigrad():
    assert minigrad.viz.to_dot is viz.to_dot


def test_to_dot_attribute_lists_are_well_formed():
    x = minigrad.ones(2, 3, requires_grad=True)
    dot = viz.to_dot((x.exp() * minigrad.ones(3)).sum())
    pair = r'\w+=(?:"[^"]*"|[\w.]+)'
    lists = re.findall(r"\[(.*)\];$", dot, re.M)
    assert lists
    for attrs in lists:
        assert re.fullmatch(rf"{pair}(?:, {pair})*", attrs), attrs
