"""Time the sample hospital generator: ``python -m benchmarks.bench_generate --scale large``.

Prints wall-clock seconds per step, total wall and CPU time, peak resident memory and file sizes.
"""

from __future__ import annotations

import resource
import tempfile
import time

import click

from sample_data.generate import SCALES, generate


@click.command()
@click.option("--scale", type=click.Choice(list(SCALES)), default="medium", show_default=True)
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default=None,
              help="Output folder (default: a temporary folder, deleted afterwards).")
def main(scale: str, out_dir: str | None) -> None:
    with tempfile.TemporaryDirectory(prefix=f"hygie-{scale}-") as tmp:
        started = time.perf_counter()
        result = generate(out_dir or tmp, scale)
        total = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_SELF)
    peak_mb = usage.ru_maxrss / 1024
    cpu = usage.ru_utime + usage.ru_stime  # the machine may be shared: CPU time says what we used
    size_mb = sum(result["bytes"].values()) / 1e6  # type: ignore[union-attr]
    click.echo(f"scale={scale} patients={result['patients']:,} documents={result['documents']:,} "
               f"audit_events={result['audit_events']:,}")
    click.echo(f"total {total:.1f} s wall, {cpu:.1f} s CPU, peak RSS {peak_mb:.0f} MB, files {size_mb:.0f} MB")
    click.echo(f"seconds by step: {result['seconds']}")


if __name__ == "__main__":
    main()
