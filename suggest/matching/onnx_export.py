"""Export a sentence-transformers model to ONNX once per installation, however many processes start at once."""
from __future__ import annotations

import fcntl
import os
import secrets
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on `path` (created if missing) against every other process and thread on the host."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # flock locks belong to the open file, so two threads of one process exclude each other too.
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def export_once(model_dir: Path, target: Path) -> None:
    """Export the model to `target` unless it is there, with every gunicorn worker and CLI command starting at once
    on a fresh install: one exports, the others wait for it and then open its file."""
    with file_lock(target.with_name(target.name + ".lock")):
        if not target.is_file():
            export_onnx(model_dir, target)


def export_onnx(model_dir: Path, target: Path) -> None:
    """Export a BERT-style sentence-transformers model with mean pooling and L2 normalisation to ONNX."""
    import torch
    from transformers import AutoModel
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()
    model = AutoModel.from_pretrained(str(model_dir)).eval()

    class Pooled(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask, token_type_ids):  # type: ignore[no-untyped-def]
            hidden = self.model(input_ids=input_ids, attention_mask=attention_mask,
                                token_type_ids=token_type_ids).last_hidden_state
            weights = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * weights).sum(1) / weights.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, p=2, dim=1)

    target.parent.mkdir(parents=True, exist_ok=True)
    # A name of this process's own: two exports never write into one file, whatever the caller holds.
    partial = target.with_name(f"{target.name}.{os.getpid()}.{secrets.token_hex(4)}.partial")
    sample = torch.ones(1, 8, dtype=torch.long)
    dynamic = {name: {0: "batch", 1: "tokens"} for name in ("input_ids", "attention_mask", "token_type_ids")}
    dynamic["embedding"] = {0: "batch"}

    try:
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")  # the exporter warns about tracing details that do not apply here
            torch.onnx.export(Pooled(), (sample, sample, torch.zeros_like(sample)), str(partial),
                              input_names=["input_ids", "attention_mask", "token_type_ids"],
                              output_names=["embedding"], dynamic_axes=dynamic, opset_version=17, dynamo=False)
        partial.replace(target)  # atomic: a reader sees no model or the whole model, never half of one
    finally:
        partial.unlink(missing_ok=True)
