"""The autograd graph as Graphviz DOT text (no graphviz dependency)."""


def to_dot(tensor, name="loss"):
    """DOT source for the graph that produced ``tensor``: op nodes and leaf tensors with shapes.

    Render with ``dot -Tpng graph.dot -o graph.png`` where Graphviz is installed.
    """
    from minigrad.tensor import Tensor
    lines = ["digraph minigrad {", "  rankdir=BT;", '  node [fontname="monospace"];']
    ids = {}

    def node_id(obj):
        if id(obj) not in ids:
            ids[id(obj)] = f"n{len(ids)}"
        return ids[id(obj)]

    root = node_id(tensor)
    lines.append(f'  {root} [label="{name}\\n{tuple(tensor.shape)}", shape=box, '
                 'style=filled, fillcolor=lightblue];')
    if tensor.grad_fn is None:
        lines.append("}")
        return "\n".join(lines)
    seen, stack = set(), [tensor.grad_fn]
    lines.append(f"  {node_id(tensor.grad_fn)} -> {root};")
    while stack:
        fn = stack.pop()
        if id(fn) in seen:
            continue
        seen.add(id(fn))
        fid = node_id(fn)
        lines.append(f'  {fid} [label="{type(fn).__name__}", shape=ellipse];')
        for inp in fn.inputs or ():
            if not isinstance(inp, Tensor):
                continue
            if inp.grad_fn is not None:  # the edge carries the intermediate tensor's shape
                lines.append(f'  {node_id(inp.grad_fn)} -> {fid} [label="{tuple(inp.shape)}"];')
                stack.append(inp.grad_fn)
            else:
                tid = node_id(inp)
                style = ("style=filled, fillcolor=lightyellow" if inp.requires_grad
                         else "style=dashed")
                lines.append(f'  {tid} [label="{tuple(inp.shape)} {inp.dtype.name}", shape=box, '
                             f'{style}];')
                lines.append(f"  {tid} -> {fid};")
    lines.append("}")
    return "\n".join(lines)
