"""The fictional sample hospital: a seeded generator and the shipped small sample.

``generate(out_dir, scale, seed=42)`` writes the French-dialect CSV files and the ground truth;
``SMALL_DIR`` is where the committed small sample lives.
"""

from pathlib import Path

SMALL_DIR = Path(__file__).resolve().parent / "small"

__all__ = ["SMALL_DIR", "generate"]


def generate(out_dir, scale: str = "small", seed: int = 42):  # noqa: ANN001, ANN201 - re-export
    """Write the sample hospital (see :func:`sample_data.generate.generate`)."""
    from sample_data.generate import generate as _generate

    return _generate(out_dir, scale, seed)
