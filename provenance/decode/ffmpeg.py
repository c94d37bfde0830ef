"""Stage decode: the ffmpeg command-line decoder (``PROVENANCE_DECODER=ffmpeg``, and the fallback without PyAV).

One ffmpeg run samples a file: the filter graph (built with ffmpeg-python)
takes a sample per tick, trims, scales with ``flags=area`` and, when asked,
splits off the colour samples into a file beside the grey ones on stdout.
Colour frames at given times come from one run that decodes up to the last
of them, or, when they lie far apart, from seeking inputs (up to
`INPUTS_PER_PROCESS` per run)::

    >>> decoder = FfmpegDecoder()
    >>> decoder.describe()
    'ffmpeg 5.1.9-0+deb12u1 command line'

Every run goes through `provenance.tools` (confined input, time limit, bounded output).
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

import numpy as np

from .. import tools
from ..errors import ProvenanceError
from . import SEQUENTIAL_MARGIN_S, Decoder, Job, Raw, decode_timeout, one_pass_pays, register

#: Most seeking inputs in one ffmpeg process (each holds a decoder's frames).
INPUTS_PER_PROCESS = 8


@register
class FfmpegDecoder(Decoder):
    """Samples and grabs with the ffmpeg command line, one process per file (or per batch of seeks)."""

    NAME = "ffmpeg"

    def _describe_video(self) -> str:
        return f"ffmpeg {tools.ffmpeg_version()} command line"

    def _sample_video(self, path: Path | str, job: Job) -> Raw:
        """Sample with one ffmpeg run."""
        import ffmpeg  # ffmpeg-python builds the filter graph; tools.run executes it

        fps = job.plan.fps
        w, h = job.size
        duration, colour_size, expected = job.duration, job.colour_size, job.expected
        # round=up: the sample for tick n/fps is the last frame at or before it. With
        # round=near the fps filter emits the last frame *before (n + 0.5)/fps*, so
        # labels ran late by half a sample period (0.24 s at 2 fps, 0.12 s at 4 fps),
        # and references and queries sampled at different rates disagreed.
        source = ffmpeg.input("pipe:")
        chosen = job.facts.video_stream
        stream = (source[str(chosen)] if chosen is not None else source.video).filter("fps", fps=fps, round="up")
        # trim right after fps: at the end of the stream fps repeats the last frame
        # up to the declared end (36000 s of one frame = 144000 copies at 4 fps),
        # and output -t alone still lets every copy through scale first.
        stream = stream.filter("trim", duration=f"{duration + 1:.3f}")
        keep_colour = colour_size is not None
        detail_ticks, detail_size = job.detail_ticks, job.detail_size
        sparse_size, every = job.sparse_size, job.plan.sparse.every if job.plan.sparse else 0
        with tempfile.TemporaryDirectory(prefix="provenance-colour-") as tmp:
            colour_file = os.path.join(tmp, "colour.rgb")
            detail_file = os.path.join(tmp, "detail.gray")
            sparse_file = os.path.join(tmp, "sparse.gray")
            branches = stream.split() if keep_colour or detail_ticks or sparse_size else None
            grey_branch = branches[0] if branches is not None else stream
            extra = []
            if colour_size is not None and branches is not None:
                cw, ch = colour_size
                extra.append(ffmpeg.output(
                    branches[1].filter("scale", cw, ch, flags="area"),
                    f"file:{colour_file}", format="rawvideo", pix_fmt="rgb24", t=f"{duration + 1:.3f}",
                    fs=str(cw * ch * 3 * expected),
                ))  # fmt: skip
            if detail_ticks and detail_size is not None and branches is not None:
                # The detail frames: the samples at these ticks (n counts the fps filter's output), large.
                dw, dh = detail_size
                picked = branches[2].filter("select", "+".join(f"eq(n,{k})" for k in detail_ticks))
                extra.append(ffmpeg.output(
                    picked.filter("scale", dw, dh, flags="area").filter("format", "gray"),
                    f"file:{detail_file}", format="rawvideo", pix_fmt="gray", fps_mode="passthrough",
                    fs=str(dw * dh * len(detail_ticks)),
                ))  # fmt: skip
            if sparse_size is not None and every > 0 and branches is not None:
                # The sparse frames: every `every`-th sample (n counts the fps filter's output), at their own size.
                sw, sh = sparse_size
                picked = branches[3].filter("select", f"not(mod(n,{every}))")
                extra.append(ffmpeg.output(
                    picked.filter("scale", sw, sh, flags="area").filter("format", "gray"),
                    f"file:{sparse_file}", format="rawvideo", pix_fmt="gray", fps_mode="passthrough",
                    fs=str(sw * sh * (expected // every + 1)),
                ))  # fmt: skip
            grey = ffmpeg.output(
                grey_branch.filter("scale", w, h, flags="area").filter("format", "gray"),
                "pipe:", format="rawvideo", pix_fmt="gray", t=f"{duration + 1:.3f}",
            )  # fmt: skip
            graph = ffmpeg.merge_outputs(grey, *extra) if extra else grey
            out_args = graph.get_args()
            # ffmpeg-python puts "-i pipe:" first; replace it with the confined input.
            i = out_args.index("-i")
            argv = [*job.plan.decoding.args(), *tools.input_args(path), *out_args[i + 2 :]]
            frame_bytes = w * h
            result = tools.run_ffmpeg(
                argv, timeout=decode_timeout(duration), max_stdout=frame_bytes * expected + frame_bytes
            )
            colour_samples = None
            if keep_colour and os.path.isfile(colour_file):
                data = np.fromfile(colour_file, dtype=np.uint8)
                n = len(data) // (cw * ch * 3)
                colour_samples = data[: n * cw * ch * 3].reshape(n, ch, cw, 3) if n else None
            detail: np.ndarray | None = None
            found: tuple[int, ...] = ()
            if detail_ticks and detail_size is not None and os.path.isfile(detail_file):
                data = np.fromfile(detail_file, dtype=np.uint8)
                n = min(len(detail_ticks), len(data) // (dw * dh))
                if n:
                    detail, found = data[: n * dw * dh].reshape(n, dh, dw), detail_ticks[:n]
            sparse: np.ndarray | None = None
            if sparse_size is not None and os.path.isfile(sparse_file):
                data = np.fromfile(sparse_file, dtype=np.uint8)
                n = len(data) // (sw * sh)
                sparse = data[: n * sw * sh].reshape(n, sh, sw) if n else None
        raw = result.stdout
        count = len(raw) // frame_bytes
        errors = len(re.findall(r"error|invalid|corrupt|missing", result.stderr, re.IGNORECASE))
        stopped = _last_line(result.stderr) if result.returncode != 0 and count else ""
        return Raw(count, raw, errors, _last_line(result.stderr), stopped, colour_samples, detail, found, sparse)

    def _grab_video(
        self,
        path: Path | str,
        wanted: list[float],
        size: tuple[int, int],
        duration_s: float,
        *,
        stream: int | None = None,
    ) -> list[np.ndarray | None]:
        """One pass up to the last wanted frame when that pays (`one_pass_pays`) and its frames tell the
        times apart; seeking inputs otherwise."""
        if one_pass_pays(wanted):
            found = self.grab_sequential(path, wanted, size, duration_s, stream=stream)
            if found is not None:
                return found
        return self.grab_seeking(path, wanted, size, stream=stream)

    def grab_sequential(
        self,
        path: Path | str,
        wanted: list[float],
        size: tuple[int, int],
        duration_s: float,
        *,
        stream: int | None = None,
    ) -> list[np.ndarray | None] | None:
        """One decode up to just past the last wanted time; None when the frames it gave cannot be told
        apart (the caller seeks instead)."""
        w, h = size
        targets = sorted(set(wanted))
        # The first frame at or after each target: selected when the last frame
        # kept came before that target (or none was kept yet).
        terms = "+".join(f"gte(t,{t:.3f})*(isnan(prev_selected_t)+lt(prev_selected_t,{t:.3f}))" for t in targets)
        frame_bytes = w * h * 3
        argv = [
            # No further than just past the last target.
            *("-t", f"{targets[-1] + SEQUENTIAL_MARGIN_S:.3f}"),
            *tools.input_args(path),
            "-map",
            f"0:{stream}" if stream is not None else "0:v:0",
            "-vf",
            f"select='gt({terms},0)',scale={w}:{h}:flags=area",
            "-vsync",
            "passthrough",
            "-f",
            "rawvideo",
            "-pix_fmt",
            "rgb24",
            "pipe:",
        ]
        raw = _run(argv, timeout=60 + duration_s, max_stdout=frame_bytes * (len(targets) + 1))
        if raw is None or len(raw) // frame_bytes != len(targets):
            return None  # a frame served two targets, or the end came early: seek for each instead
        frames = {t: np.frombuffer(raw[i * frame_bytes : (i + 1) * frame_bytes], np.uint8).reshape(h, w, 3)
                  for i, t in enumerate(targets)}  # fmt: skip
        return [frames[t] for t in wanted]

    def grab_seeking(
        self, path: Path | str, wanted: list[float], size: tuple[int, int], *, stream: int | None = None
    ) -> list[np.ndarray | None]:
        """A seeking input per wanted time, up to `INPUTS_PER_PROCESS` in one ffmpeg run, each its own output file."""
        w, h = size
        out: list[np.ndarray | None] = [None] * len(wanted)
        frame_bytes = w * h * 3
        for start in range(0, len(wanted), INPUTS_PER_PROCESS):
            batch = wanted[start : start + INPUTS_PER_PROCESS]
            with tempfile.TemporaryDirectory(prefix="provenance-frames-") as tmp:
                argv: list[str] = []
                for t in batch:
                    argv += tools.input_args(path, seek_s=t)
                for i in range(len(batch)):
                    which = f"{i}:{stream}" if stream is not None else f"{i}:v:0"
                    argv += ["-map", which, "-frames:v", "1", "-vf", f"scale={w}:{h}:flags=area"]
                    argv += ["-f", "rawvideo", "-pix_fmt", "rgb24", "-y", os.path.join(tmp, f"{i}.rgb")]
                if _run(argv, timeout=60 + 10 * len(batch), max_stdout=1 << 16) is None:
                    continue
                for i in range(len(batch)):
                    raw = Path(tmp, f"{i}.rgb")
                    if raw.is_file() and raw.stat().st_size >= frame_bytes:
                        data = raw.read_bytes()[:frame_bytes]
                        out[start + i] = np.frombuffer(data, dtype=np.uint8).reshape(h, w, 3)
        return out


def _run(argv: list[str], timeout: float, max_stdout: int) -> bytes | None:
    """ffmpeg's stdout, or None when it failed on this input (a missing ffmpeg still raises)."""
    try:
        return tools.run_ffmpeg(argv, timeout=timeout, max_stdout=max_stdout).stdout
    except ProvenanceError as exc:
        if exc.exit_code == 3:
            raise
        return None


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1][-200:] if lines else ""
