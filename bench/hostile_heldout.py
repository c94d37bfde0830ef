"""Held-out hostile cases for issue 24: built with other parameters than the tests, never tuned on.

Each case runs the real command line on inputs made here (other references,
frame rates, stream counts, file names and values than tests/test_hostile_*)
and prints one Markdown row: the case, what must hold, and whether it held::

    python bench/hostile_heldout.py

Needs the sample references (samples/refs). Takes a few minutes (one case
ingests three long clips and stops them).
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import unicodedata
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
REFS = ROOT / "samples" / "refs"
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}
ENV.pop("PROVENANCE_DEBUG", None)


def cli(*args: object, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "provenance", *map(str, args)],
        capture_output=True, text=True, timeout=timeout, env=ENV, cwd=ROOT,
    )  # fmt: skip


def ffmpeg(*args: object) -> None:
    subprocess.run(["ffmpeg", "-v", "error", "-y", *map(str, args)], check=True, timeout=300)


def digest(folder: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(folder.rglob("*")):
        h.update(p.name.encode())
        if p.is_file() and not p.is_symlink():
            h.update(p.read_bytes())
    return h.hexdigest()


def rgb_frames(src: Path, start: float, seconds: float, fps: float, size: tuple[int, int]) -> list[np.ndarray]:
    w, h = size
    raw = subprocess.run(
        ["ffmpeg", "-v", "error", "-ss", str(start), "-t", str(seconds), "-i", str(src),
         "-vf", f"fps={fps},scale={w}:{h}", "-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:"],
        capture_output=True, check=True,
    ).stdout  # fmt: skip
    n = len(raw) // (w * h * 3)
    return [np.frombuffer(raw[i * w * h * 3 : (i + 1) * w * h * 3], np.uint8).reshape(h, w, 3) for i in range(n)]


def invisible(text: str) -> bool:
    return any(unicodedata.category(c) in ("Cf", "Cc") and c not in "\n\t\r" for c in text)


class Cases:
    def __init__(self, work: Path) -> None:
        self.work = work
        self.index = work / "refs.sqlite"
        run = cli("index", "add", "-q", REFS, "--index", self.index)
        assert run.returncode == 0, run.stderr

    def animated_gif_of_another_reference(self) -> tuple[bool, str]:
        size = (360, 264)
        life = self.work / "life.mp4"
        ffmpeg("-f", "lavfi", "-i", f"life=s={size[0]}x{size[1]}:mold=10:r=8", "-t", "1", "-pix_fmt", "yuv420p", life)
        frames = rgb_frames(life, 0, 1, 8, size) + rgb_frames(REFS / "animated_dinner.mp4", 1.0, 6.0, 8, size)
        gif = self.work / "dinner.gif"
        images = [Image.fromarray(f) for f in frames]
        images[0].save(gif, "GIF", save_all=True, append_images=images[1:], duration=125, loop=0)
        run = cli("check", gif, "--index", self.index)
        report = json.loads(run.stdout) if run.returncode == 0 else {}
        names = [Path(m["reference"]["path"]).name for m in report.get("matches", [])]
        ok = run.returncode == 0 and names[:1] == ["animated_dinner.mp4"] and run.stderr == ""
        return ok, f"exit {run.returncode}, matches {names}, {report.get('input', {}).get('duration_s')} s"

    def third_stream_marked_default(self) -> tuple[bool, str]:
        a = self.work / "a.mp4"
        b = self.work / "b.mp4"
        ffmpeg("-f", "lavfi", "-i", "mandelbrot=s=320x240:r=25", "-t", "10", "-pix_fmt", "yuv420p", a)
        ffmpeg("-f", "lavfi", "-i", "testsrc2=s=352x288:r=30", "-t", "10", "-pix_fmt", "yuv420p", b)
        out = self.work / "three.mkv"
        ffmpeg("-i", a, "-i", b, "-i", REFS / "storm_road_panzoom.mp4", "-map", "0:v", "-map", "1:v", "-map", "2:v",
               "-c", "copy", "-disposition:v:0", "0", "-disposition:v:1", "0", "-disposition:v:2", "default", out)  # fmt: skip
        run = cli("check", out, "--index", self.index)
        report = json.loads(run.stdout) if run.returncode == 0 else {}
        names = [Path(m["reference"]["path"]).name for m in report.get("matches", [])]
        warned = [w for w in report.get("warnings", []) if "video stream" in w]
        ok = names[:1] == ["storm_road_panzoom.mp4"] and bool(warned) and "#0" in warned[0] and "#1" in warned[0]
        return ok, f"matches {names}; warning: {warned[0][:90] if warned else None}"

    def symlinks_in_output_folders(self) -> tuple[bool, str]:
        out = self.work / "unpacked"
        out.mkdir()
        victim = self.work / "victim.txt"
        victim.write_bytes(b"keep")
        saved = self.work / "saved.json"
        assert cli("check", REFS.parent / "viral.mp4", "--index", self.index, "-o", saved).returncode == 0
        (out / "case.html").symlink_to(victim)
        (out / "refs.jsonl.gz").symlink_to(victim)
        (out / "note_files").symlink_to(self.work, target_is_directory=True)
        runs = [
            cli("report", saved, "-o", out / "case.html"),
            cli("index", "export", out / "refs.jsonl.gz", "--index", self.index),
            cli("report", saved, "--format", "md", "-o", out / "note.md"),
        ]
        codes = [r.returncode for r in runs]
        ok = codes == [2, 2, 2] and victim.read_bytes() == b"keep" and not (out / "note.md").exists()
        ok = ok and not any(p.name.endswith(".jpg") for p in self.work.iterdir())
        return ok, f"exits {codes}; outside file unchanged: {victim.read_bytes() == b'keep'}"

    def pipes_and_zero_as_report_and_claim(self) -> tuple[bool, str]:
        fifo = self.work / "r.fifo"
        os.mkfifo(fifo)
        results = []
        for args in (("report", fifo), ("report", "/dev/zero"),
                     ("check", REFS / "tree_window.mp4", "--index", self.index, "--claim", fifo),
                     ("check", REFS / "tree_window.mp4", "--index", self.index, "--claim", "/dev/zero")):  # fmt: skip
            start = time.monotonic()
            run = cli(*args, timeout=60)
            results.append((run.returncode, round(time.monotonic() - start, 1), run.stderr.count("\n")))
        ok = all(code == 2 and secs < 15 and lines == 1 for code, secs, lines in results)
        return ok, f"(exit, seconds, stderr lines): {results}"

    def foreign_wal_database_and_empty_file(self) -> tuple[bool, str]:
        db = self.work / "crm.db"
        script = (
            "import os, sqlite3, sys\n"
            "c = sqlite3.connect(sys.argv[1]); c.execute('PRAGMA journal_mode=WAL')\n"
            "c.execute('PRAGMA wal_autocheckpoint=0')\n"
            "c.execute('CREATE TABLE meta (key TEXT, value TEXT)'); c.execute('CREATE TABLE refs (x)')\n"
            "c.execute(\"INSERT INTO meta VALUES ('schema_version', '2'), ('index_id', 'x')\"); c.commit()\n"
            "c.execute('CREATE TABLE hashes (y)'); c.commit()\n"
            "os._exit(0)\n"
        )
        subprocess.run([sys.executable, "-c", script, str(db)], check=True)
        empty = self.work / "empty.sqlite"
        empty.write_bytes(b"")
        files = sorted(self.work.glob("crm.db*")) + [empty]
        before = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in files}
        codes = [
            cli("check", REFS / "tree_window.mp4", "--index", db).returncode,
            cli("index", "add", "-q", REFS / "tree_window.mp4", "--index", db).returncode,
            cli("index", "stats", "--index", empty).returncode,
            cli("check", REFS / "tree_window.mp4", "--index", empty).returncode,
        ]
        after = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in files if p.exists()}
        ok = codes == [3, 3, 3, 3] and before == after
        return ok, f"exits {codes}; files byte-identical: {before == after} ({', '.join(before)})"

    def sigterm_to_three_jobs(self) -> tuple[bool, str]:
        folder = self.work / "long"
        folder.mkdir()
        short = self.work / "short.mp4"
        ffmpeg("-f", "lavfi", "-i", "life=s=480x270:mold=10:r=30", "-t", "10", "-c:v", "libx264",
               "-preset", "ultrafast", "-pix_fmt", "yuv420p", short)  # fmt: skip
        for n in range(3):
            ffmpeg("-stream_loop", str(30 + n), "-i", short, "-c", "copy", folder / f"l{n}.mp4")
        proc = subprocess.Popen(
            [sys.executable, "-m", "provenance", "index", "add", "-q", "-j", "3", str(folder),
             "--index", str(self.work / "long.sqlite")],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=ENV, cwd=ROOT,
        )  # fmt: skip
        deadline = time.monotonic() + 90
        tree: set[int] = set()
        while time.monotonic() < deadline and proc.poll() is None:
            tree |= _tree(proc.pid)
            working = [p for p in tree if _alive(p) and "worker.py" in _cmdline(p) and _cpu_s(p) >= 1.0]
            if len(working) >= 3:
                break
            time.sleep(0.1)
        tree |= _tree(proc.pid)
        names = {p: _cmdline(p) for p in tree}
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=20)
        time.sleep(5)
        left = [p for p in tree if _alive(p)]
        decoders = sum("worker.py" in c for c in names.values())
        return (
            not left and decoders >= 3,
            f"{len(tree)} processes in its tree ({decoders} decoders); left after 5 s: {left}",
        )

    def malformed_report_values(self) -> tuple[bool, str]:
        saved = json.loads((self.work / "saved.json").read_text())
        cases: dict[str, Callable[[dict], None]] = {
            "score as text": lambda d: d["matches"][0].__setitem__("score", "high"),
            "created_at a number": lambda d: d.__setitem__("created_at", {"a": 1}),
            "height 1e400": lambda d: d["input"].__setitem__("height", 1e400),
            "warnings an object": lambda d: d.__setitem__("warnings", {"x": 1}),
            "verdict code unknown": lambda d: d["verdict"].__setitem__("code", 12),
        }
        results = {}
        for name, patch in cases.items():
            data = json.loads(json.dumps(saved))
            patch(data)
            path = self.work / f"{name.replace(' ', '_')}.json"
            path.write_text(json.dumps(data))
            run = cli("report", path, "--format", "md")
            results[name] = (run.returncode, path.name in run.stderr)
        ok = all(code in (0, 2) and (code == 0 or named) for code, named in results.values())
        ok = ok and all("unexpected" not in str(v) for v in results.values())
        return ok, ", ".join(f"{k}: exit {c}{' naming it' if n else ''}" for k, (c, n) in results.items())

    def junk_after_dates(self) -> tuple[bool, str]:
        clip = REFS / "tree_window.mp4"
        runs = [
            cli("index", "add", "-q", clip, "--index", self.work / "d.sqlite", "--first-seen", "2021-06-01 garbage"),
            cli("index", "add", "-q", clip, "--index", self.work / "d.sqlite", "--first-seen", "2021-06-01\u202e"),
            cli("check", clip, "--index", self.index, "--claim-date", "2021-06-01T10:00:00+0200x"),
        ]
        codes = [r.returncode for r in runs]
        return codes == [2, 2, 2] and not (self.work / "d.sqlite").exists(), f"exits {codes}"

    def invisible_characters_in_sidecar_and_tags(self) -> tuple[bool, str]:
        folder = self.work / "inv"
        folder.mkdir()
        clip = folder / "clip.mp4"
        mark = "\u200e\u2067\ufeff\U000e0030\u034f\u180e\u061c"
        ffmpeg("-i", REFS / "street_cyclists.mp4", "-c", "copy", "-metadata", f"artist=A{mark}B", clip)
        (folder / "clip.info.json").write_text(
            json.dumps(
                {"title": f"Ti{mark}tle", "uploader": f"Up{mark}loader", "webpage_url": f"https://x.example/{mark}"}
            )
        )
        index = self.work / "inv.sqlite"
        assert cli("index", "add", "-q", clip, "--index", index).returncode == 0
        outs = [cli("check", clip, "--index", index, "--format", fmt).stdout for fmt in ("md", "html")]
        outs.append(cli("index", "list", "--index", index).stdout)
        bad = [i for i, o in enumerate(outs) if invisible(o)]
        return not bad and all(outs), f"outputs with invisible characters: {bad} of md, html, index list"

    def png_and_gif_stderr(self) -> tuple[bool, str]:
        png = self.work / "scan.png"
        img = Image.fromarray((np.random.default_rng(9).random((200, 300, 3)) * 255).astype(np.uint8))
        img.save(png, pnginfo=None)
        gif = self.work / "one.gif"
        img.convert("P").save(gif)
        runs = [cli("check", p, "--index", self.index) for p in (png, gif)] + [cli("probe", png)]
        errs = [r.stderr for r in runs]
        return all(r.returncode == 0 for r in runs) and errs == ["", "", ""], f"stderr: {errs}"


def _tree(root: int) -> set[int]:
    parents = {}
    for e in os.listdir("/proc"):
        if e.isdigit():
            try:
                parents[int(e)] = int(Path(f"/proc/{e}/stat").read_text().rsplit(")", 1)[1].split()[1])
            except OSError:
                pass
    found, todo = set(), [root]
    while todo:
        pid = todo.pop()
        for c, p in parents.items():
            if p == pid and c not in found:
                found.add(c)
                todo.append(c)
    return found


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode("utf-8", "replace")
    except OSError:
        return ""


def _cpu_s(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="hostile-heldout-") as tmp:
        cases = Cases(Path(tmp))
        names = [n for n in vars(Cases) if not n.startswith("_")]
        print("| held-out case | held | what happened |")
        print("|---|---|---|")
        held = 0
        for name in names:
            try:
                ok, what = getattr(cases, name)()
            except Exception as exc:  # noqa: BLE001 - a case that crashes is a case that did not hold
                ok, what = False, f"{type(exc).__name__}: {exc}"[:200]
            held += ok
            print(f"| {name.replace('_', ' ')} | {'yes' if ok else 'NO'} | {what.replace('|', '/')} |", flush=True)
        print(f"\n{held} of {len(names)} held")


if __name__ == "__main__":
    main()
