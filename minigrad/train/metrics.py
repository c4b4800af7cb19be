"""Metrics computed on raw arrays inside the training loop (no graph, no host sync)."""

METRICS = ("accuracy",)


def check_metrics(metrics):
    metrics = tuple(metrics or ())
    for m in metrics:
        if m not in METRICS:
            raise ValueError(f"Unknown metric {m!r}; available: {', '.join(METRICS)}")
    return metrics


def uses_logits(loss_fn):
    """True when the model's outputs are logits (BCEWithLogitsLoss, CrossEntropyLoss)."""
    return type(loss_fn).__name__ in ("BCEWithLogitsLoss", "CrossEntropyLoss")


def correct_count(xp, out, y, logits):
    """Number of correct predictions in a batch, as a device scalar.

    Binary (one output column): the prediction is out >= 0.5 for probabilities (sigmoid outputs)
    or out >= 0 for logits, against y >= 0.5. Multi-class: argmax of the outputs against class
    indices, or against the argmax of one-hot / probability targets.
    """
    if out.ndim <= 1 or out.shape[-1] == 1:
        pred = out.reshape(-1) >= (0.0 if logits else 0.5)
        return (pred == (y.reshape(-1) >= 0.5)).sum()
    pred = out.argmax(axis=-1)
    target = y.argmax(axis=-1) if y.shape == out.shape else y.reshape(pred.shape)
    return (pred == target).sum()
