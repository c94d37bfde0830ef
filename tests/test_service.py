"""Stage service: `provenance serve` as a desk uses it, a real server on 127.0.0.1 driven over HTTP.

Each server is ``python -m provenance serve --port 0`` in a subprocess (the
port it took is read from its first line), stopped with SIGTERM. References
are added and clips checked through the API with real uploads of media made
by ffmpeg or taken from samples/, and the results are held to what
``provenance check`` says on the same index. The limits are pushed for real:
a body announced or streamed past the cap, another site's request, no token,
a wrong token, a clip that outruns the time limit, a text file named .mp4.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import ROOT, ffmpeg
from hypothesis import given, settings
from hypothesis import strategies as st

PYTHON = sys.executable
TOKEN = "desk-token-0123456789abcdef"
ADMIN = "admin-token-0123456789abcdef"
#: The cap the test servers run with, MiB (the samples are under 0.4 MiB).
CAP_MB = 2


class Server:
    """One ``provenance serve`` subprocess: its URL, its folders, its stderr."""

    def __init__(self, tmp: Path, *args: str | Path, index: Path, name: str = "desk") -> None:
        self.tmp = tmp
        self.index = index
        self.temp_root = tmp / f"{name}-tmp"  # TMPDIR of the server: where its private upload folder goes
        self.temp_root.mkdir(exist_ok=True)
        self.data = tmp / f"{name}-data"
        self.log = tmp / f"{name}.log"
        self.args = [str(a) for a in args]
        self.proc: subprocess.Popen[bytes] | None = None
        self.url = ""

    def start(self, timeout: float = 120.0) -> Server:
        env = {**os.environ, "TMPDIR": str(self.temp_root), "PYTHONPATH": str(ROOT)}
        command = [PYTHON, "-m", "provenance", "serve", "--index", f"sqlite:///{self.index}", "--port", "0"]
        command += ["--data", str(self.data), *self.args]
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=log, env=env, cwd=self.tmp)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.log.read_text(encoding="utf-8", errors="replace")
            if "provenance desk on " in text:
                self.url = text.split("provenance desk on ", 1)[1].split()[0].rstrip("/")
                break
            if self.proc.poll() is not None:
                raise AssertionError(f"serve exited with {self.proc.returncode}: {text}")
            time.sleep(0.1)
        else:
            self.stop()
            raise AssertionError(f"serve did not start: {self.log.read_text()}")
        while httpx.get(self.url + "/healthz", timeout=10).status_code != 200:
            time.sleep(0.1)
        return self

    def stop(self) -> str:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        return self.log.read_text(encoding="utf-8", errors="replace")

    def uploads(self) -> list[Path]:
        """Every file left in the server's private upload folders."""
        return [p for p in self.temp_root.rglob("*") if p.is_file()]

    def client(self, **headers: str) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=120, headers=headers)


@contextlib.contextmanager
def running(server: Server) -> Iterator[Server]:
    server.start()
    try:
        yield server
    finally:
        server.stop()


def post_check(client: httpx.Client, clip: Path, name: str | None = None, **fields: str) -> dict[str, Any]:
    with open(clip, "rb") as f:
        r = client.post("/api/v1/checks", files={"file": (name or clip.name, f, "video/mp4")}, data=fields)
    assert r.status_code == 202, r.text
    answer: dict[str, Any] = r.json()
    assert answer["status"] == "queued" and answer["url"] == f"/api/v1/checks/{answer['id']}"
    return answer


def finished(client: httpx.Client, url: str, timeout: float = 240.0) -> dict[str, Any]:
    """The job at `url` once done or failed (long polls)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        r = client.get(url, params={"wait": 20})
        assert r.status_code == 200, r.text
        job: dict[str, Any] = r.json()
        if job["status"] in ("done", "failed"):
            return job
    raise AssertionError(f"{url} did not finish in {timeout} s")


def add_reference(client: httpx.Client, media: Path, **fields: str) -> dict[str, Any]:
    files: dict[str, Any] = {"file": (media.name, media.read_bytes(), "video/mp4")}
    sidecar = media.with_suffix(".info.json")
    if sidecar.is_file():
        files["info_json"] = (sidecar.name, sidecar.read_bytes(), "application/json")
    r = client.post("/api/v1/references", files=files, data=fields)
    assert r.status_code == 202, r.text
    return finished(client, r.json()["url"])


def cli_check(clip: Path, index: Path, *args: str) -> tuple[int, dict[str, Any] | None, str]:
    """``provenance check CLIP`` as a user runs it: exit code, JSON report, stderr."""
    run = subprocess.run(
        [PYTHON, "-m", "provenance", "check", clip.name, "--index", f"sqlite:///{index}", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        cwd=clip.parent,
    )
    return run.returncode, json.loads(run.stdout) if run.returncode == 0 else None, run.stderr


def one_line(text: str) -> bool:
    return bool(text) and "\n" not in text and "Traceback" not in text


# -- fixtures ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory, sample_refs: Path) -> Iterator[Server]:
    """A desk without tokens on 127.0.0.1 (2 workers, a 2 MiB cap), its index built through the API from samples/refs."""
    tmp = tmp_path_factory.mktemp("desk")
    server = Server(tmp, "--workers", "2", "--max-upload-mb", str(CAP_MB), index=tmp / "desk.sqlite")
    with running(server):
        with server.client() as c:
            for media in sorted(sample_refs.glob("*.mp4")):
                job = add_reference(c, media)
                assert job["status"] == "done" and job["result"]["status"] == "added", job
        yield server


@pytest.fixture(scope="module")
def token_desk(tmp_path_factory: pytest.TempPathFactory, sample_index_file: Path) -> Iterator[Server]:
    """A desk with a token file (a desk token and an admin token), over a copy of the samples index."""
    tmp = tmp_path_factory.mktemp("token_desk")
    for src in sample_index_file.parent.glob(sample_index_file.name + "*"):
        shutil.copy(src, tmp / src.name)
    tokens = tmp / "tokens"
    tokens.write_text(f"# the desk\n{TOKEN}\n{ADMIN} admin\n", encoding="utf-8")
    server = Server(tmp, "--workers", "1", "--token-file", tokens, index=tmp / sample_index_file.name, name="token")
    with running(server):
        yield server


# -- the API ---------------------------------------------------------------------------------


def test_healthz_names_the_version_and_the_index(desk: Server) -> None:
    from provenance import __version__

    health = httpx.get(desk.url + "/healthz").json()
    assert health["status"] == "ok" and health["version"] == __version__
    assert health["index"]["references"] == 4 and health["index"]["backend"] == "sqlite"
    assert health["index"]["index_id"] and health["workers"] == 2


def test_the_openapi_document_lists_every_endpoint(desk: Server) -> None:
    spec = httpx.get(desk.url + "/openapi.json").json()
    paths = spec["paths"]
    for path, methods in {
        "/healthz": {"get"},
        "/api/v1/checks": {"get", "post"},
        "/api/v1/checks/{job_id}": {"get", "delete"},
        "/api/v1/checks/{job_id}/report": {"get"},
        "/api/v1/references": {"get", "post"},
        "/api/v1/references/{ref_id}": {"get", "delete"},
        "/api/v1/references/uploads/{job_id}": {"get"},
    }.items():
        assert methods <= set(paths[path]), path
    body = paths["/api/v1/checks"]["post"]["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert body["required"] == ["file"] and {"claim_date", "claim_place", "claim_text", "article"} <= set(
        body["properties"]
    )
    assert {"202", "400", "413"} <= set(paths["/api/v1/checks"]["post"]["responses"])


def test_references_added_through_the_api_keep_their_source_facts(desk: Server, sample_refs: Path) -> None:
    with desk.client() as c:
        listed = c.get("/api/v1/references").json()
        assert listed["total"] == 4
        by_name = {Path(r["path"]).name: r for r in listed["references"]}
        sidecar = json.loads((sample_refs / "street_cyclists.info.json").read_text(encoding="utf-8"))
        street = by_name["street_cyclists.mp4"]
        assert street["title"] == sidecar["title"] and street["source_url"] == sidecar["webpage_url"]
        one = c.get(f"/api/v1/references/{street['id']}").json()
        assert one["sha256"] == street["sha256"]
        assert c.get("/api/v1/references/9999").status_code == 404
        # The same footage posted again is found present by its SHA-256, and its second copy is not kept.
        again = add_reference(c, sample_refs / "street_cyclists.mp4", title="again")
        assert again["result"]["status"] == "present" and again["result"]["reference"]["id"] == street["id"]
        kept = list((desk.data / "references").rglob("*.mp4"))
        assert len(kept) == 4, kept


def test_a_copy_is_checked_as_the_cli_checks_it(desk: Server, viral_clip: Path, tmp_path: Path) -> None:
    clip = tmp_path / "viral.mp4"
    shutil.copy(viral_clip, clip)
    claim = {"claim_date": "2024-01-17", "claim_place": "Baymak, Russia", "claim_text": "Police flee rioters in Baymak"}
    with desk.client() as c:
        posted = post_check(c, clip, **claim)
        job = finished(c, posted["url"])
    assert job["status"] == "done" and job["error"] is None, job
    assert job["progress"]["stages_done"] == job["progress"]["stages"] and job["progress"]["fraction"] == 1.0
    report = job["report"]
    code, cli, _ = cli_check(
        clip, desk.index, "--claim-date", claim["claim_date"], "--claim-place", claim["claim_place"],
        "--claim-text", claim["claim_text"],
    )  # fmt: skip
    assert code == 0 and cli is not None
    assert report["verdict"]["code"] == cli["verdict"]["code"] == "footage_predates_claim"
    assert [m["reference"]["sha256"] for m in report["matches"]] == [m["reference"]["sha256"] for m in cli["matches"]]
    assert report["input"]["sha256"] == cli["input"]["sha256"] and report["input"]["path"] == "viral.mp4"
    assert report["claim"]["text"] == claim["claim_text"] and report["claim"]["date"] == "2024-01-17"
    assert job["top_reference"] == report["matches"][0]["reference"]["id"]
    assert desk.uploads() == []  # the clip went with its check


def test_the_report_comes_in_every_format(desk: Server, viral_clip: Path) -> None:
    from provenance.report import Report

    with desk.client() as c:
        job = finished(c, post_check(c, viral_clip, format="html")["url"])
        base = f"/api/v1/checks/{job['id']}/report"
        as_json = c.get(base, params={"format": "json"})
        assert Report.from_dict(as_json.json()).verdict.code == job["verdict"]
        own = c.get(base)  # the format it was posted with
        assert own.headers["content-type"].startswith("text/html") and "<html" in own.text
        assert "default-src 'none'" in own.headers["content-security-policy"]
        assert own.headers["x-content-type-options"] == "nosniff" and own.headers["x-frame-options"] == "DENY"
        md = c.get(base, params={"format": "md"})
        assert md.headers["content-type"].startswith("text/markdown") and "# Provenance report" in md.text
        refused = c.get(base, params={"format": "claimreview"})
        assert (
            refused.status_code == 400
            and one_line(refused.json()["error"])
            and "--review-url" in refused.json()["error"]
        )
        review = c.get(
            base,
            params={"format": "claimreview", "org_name": "Desk", "review_url": "https://desk.example/fact-check/1"},
        )
        assert review.status_code == 200, review.text
        assert "ClaimReview" in json.dumps(review.json())
        assert c.get(base, params={"format": "pdf"}).status_code == 400
        assert c.get("/api/v1/checks/0123456789abcdef/report").status_code == 404


def test_an_unmatched_clip_is_not_in_this_index(desk: Server, mandelbrot_clip: Path) -> None:
    with desk.client() as c:
        job = finished(c, post_check(c, mandelbrot_clip)["url"])
    assert job["status"] == "done" and job["report"]["matches"] == [] and job["top_reference"] is None
    assert job["report"]["verdict"]["code"] == "no_prior_match_in_index"


def test_a_text_file_named_mp4_fails_its_own_job_with_the_cli_message(desk: Server, text_as_mp4: Path) -> None:
    with desk.client() as c:
        job = finished(c, post_check(c, text_as_mp4)["url"])
        assert job["status"] == "failed" and job["report"] is None
        code, _, stderr = cli_check(text_as_mp4, desk.index)
        assert one_line(job["error"]) and job["exit_code"] == code == 2
        assert stderr.strip() == f"error: {job['error']}"  # the CLI's line, naming the file as uploaded
        report = c.get(f"/api/v1/checks/{job['id']}/report")
        assert report.status_code == 409 and job["error"] in report.json()["error"]
        # The server goes on: the next clip is checked.
        assert c.get("/healthz").status_code == 200
    assert desk.uploads() == []


def test_bad_uploads_get_400_with_one_line(desk: Server, viral_clip: Path) -> None:
    data = viral_clip.read_bytes()
    with desk.client() as c:
        cases = {
            "not multipart": c.post("/api/v1/checks", json={"file": "viral.mp4"}),
            "no file": c.post("/api/v1/checks", files={"article": ("a.txt", b"text")}),
            "empty file": c.post("/api/v1/checks", files={"file": ("empty.mp4", b"")}),
            "file as text": c.post("/api/v1/checks", data={"file": "viral.mp4"}, files={"article": ("a.txt", b"x")}),
            "unknown field": c.post("/api/v1/checks", files={"file": ("v.mp4", data)}, data={"colour": "red"}),
            "bad date": c.post("/api/v1/checks", files={"file": ("v.mp4", data)}, data={"claim_date": "yesterday"}),
            "bad format": c.post("/api/v1/checks", files={"file": ("v.mp4", data)}, data={"format": "pdf"}),
            "bad first_seen": c.post(
                "/api/v1/references", files={"file": ("v.mp4", data)}, data={"first_seen": "soon"}
            ),
            "cut body": c.post(
                "/api/v1/checks",
                content=b'--xyz\r\nContent-Disposition: form-data; name="file"; filename="a.mp4"\r\n\r\nabc',
                headers={"Content-Type": "multipart/form-data; boundary=xyz"},
            ),
        }
    for what, r in cases.items():
        assert r.status_code == 400, (what, r.status_code, r.text)
        body = r.json()
        assert one_line(body["error"]) and body["exit_code"] == 2, (what, body)
    assert "claim_date 'yesterday'" in cases["bad date"].json()["error"]
    assert desk.uploads() == []
    assert not list((desk.data / "references").glob("*/file/v.mp4"))


def _raw_request(url: str, head: str, body_chunks: Iterator[bytes] = iter(())) -> tuple[int, str]:
    """Send a request by hand on a socket, stop sending as soon as the server answers; (status, body)."""
    host, port = url.split("://", 1)[1].rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(head.encode("latin-1"))
        sock.setblocking(False)
        received = b""
        for chunk in body_chunks:
            with contextlib.suppress(BlockingIOError):
                received += sock.recv(65536)
            if received:
                break
            try:
                sock.sendall(chunk)
            except (BlockingIOError, BrokenPipeError, ConnectionResetError):
                break
        sock.setblocking(True)
        sock.settimeout(30)
        with contextlib.suppress(ConnectionResetError):
            while b"\r\n\r\n" not in received or len(received.split(b"\r\n\r\n", 1)[1]) < 2:
                part = sock.recv(65536)
                if not part:
                    break
                received += part
    status = int(received.split(b" ", 2)[1])
    return status, received.split(b"\r\n\r\n", 1)[1].decode("utf-8", "replace")


def test_an_upload_announced_over_the_cap_gets_413_before_its_body_is_sent(desk: Server) -> None:
    size = (CAP_MB << 20) + 1
    head = (
        "POST /api/v1/checks HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Content-Type: multipart/form-data; boundary=b\r\nContent-Length: {size}\r\n\r\n"
    )
    status, body = _raw_request(desk.url, head)  # not a byte of the body sent
    assert status == 413, body
    assert "limit of 2 MiB" in json.loads(body[body.index("{") : body.rindex("}") + 1])["error"]
    assert desk.uploads() == []


def test_a_streamed_upload_over_the_cap_gets_413_and_leaves_nothing(desk: Server) -> None:
    head = (
        "POST /api/v1/checks HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        "Content-Type: multipart/form-data; boundary=b\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    part = b'--b\r\nContent-Disposition: form-data; name="file"; filename="big.mp4"\r\n\r\n'

    def chunks() -> Iterator[bytes]:
        yield b"%x\r\n%s\r\n" % (len(part), part)
        block = os.urandom(64 << 10)
        for _ in range(4 * CAP_MB * 16):  # up to four times the cap, stopped by the server's answer
            yield b"%x\r\n%s\r\n" % (len(block), block)
            time.sleep(0.002)

    status, _ = _raw_request(desk.url, head, chunks())
    assert status == 413
    time.sleep(0.5)
    assert desk.uploads() == []


def test_requests_from_another_site_are_refused(desk: Server, viral_clip: Path) -> None:
    files = {"file": ("v.mp4", viral_clip.read_bytes())}
    with desk.client() as c:
        origin = c.post("/api/v1/checks", files=files, headers={"Origin": "http://evil.example"})
        fetch_site = c.post("/api/v1/checks", files=files, headers={"Sec-Fetch-Site": "cross-site"})
        same = c.get("/api/v1/checks", headers={"Origin": desk.url, "Sec-Fetch-Site": "same-origin"})
        rebound = c.get("/api/v1/references", headers={"Host": "evil.example:8080"})
    assert origin.status_code == fetch_site.status_code == 403, (origin.text, fetch_site.text)
    assert same.status_code == 200
    assert rebound.status_code == 421 and one_line(rebound.json()["error"])


def test_six_clips_posted_at_once_all_finish_with_the_check_s_top_reference(
    desk: Server, sample_refs: Path, viral_clip: Path, excerpt_query: Path, tmp_path: Path
) -> None:
    from provenance.pipeline import check

    clips = [viral_clip, excerpt_query, *sorted(sample_refs.glob("*.mp4"))]
    with desk.client() as c, concurrent.futures.ThreadPoolExecutor(len(clips)) as pool:
        posted = list(pool.map(lambda clip: post_check(c, clip), clips))
        jobs = list(pool.map(lambda p: finished(c, p["url"]), posted))
        listed = {j["id"] for j in c.get("/api/v1/checks", params={"limit": 100}).json()["checks"]}
    assert {p["id"] for p in posted} <= listed  # no job lost
    for clip, job in zip(clips, jobs, strict=True):
        assert job["status"] == "done", job
        expected = check(clip, f"sqlite:///{desk.index}", keyframes=False)
        assert expected.matches, clip
        assert job["report"]["matches"][0]["reference"]["sha256"] == expected.matches[0].reference.sha256, clip.name
        assert job["report"]["verdict"]["code"] == expected.verdict.code
    assert desk.uploads() == []


@given(st.text(min_size=0, max_size=400))
@settings(max_examples=300, deadline=None)
def test_an_uploaded_file_name_can_only_name_a_file_in_its_folder(name: str) -> None:
    from provenance.service.uploads import MAX_NAME_CHARS, safe_name

    safe = safe_name(name, "upload")
    assert safe and safe not in (".", "..") and "/" not in safe and "\\" not in safe and "\0" not in safe
    assert not safe.startswith(".") and len(safe) <= MAX_NAME_CHARS and len(safe.encode("utf-8")) <= 240
    assert not any(unicodedata.category(c)[0] == "C" for c in safe)
    assert safe_name("../../etc/passwd", "upload") == "passwd"
    assert safe_name("<img src=x onerror=alert(1)>.mp4", "upload") == "<img src=x onerror=alert(1)>.mp4"


# -- tokens --------------------------------------------------------------------------------


def test_without_a_token_off_loopback_serve_refuses_to_start(tmp_path: Path) -> None:
    run = subprocess.run(
        [PYTHON, "-m", "provenance", "serve", "--host", "0.0.0.0", "--index", str(tmp_path / "i.sqlite")],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert run.returncode == 2
    assert one_line(run.stderr.strip()) and run.stderr.startswith("error: --host 0.0.0.0")
    assert not (tmp_path / "i.sqlite").exists()


def test_a_port_already_taken_is_one_line_and_exit_2(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        run = subprocess.run(
            [PYTHON, "-m", "provenance", "serve", "--port", str(port), "--index", str(tmp_path / "i.sqlite")],
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
    assert run.returncode == 2 and one_line(run.stderr.strip()), run.stderr
    assert run.stderr.startswith(f"error: cannot listen on 127.0.0.1:{port}") and "--port" in run.stderr


@pytest.mark.parametrize(
    ("content", "complaint"),
    [("short\n", "16 characters"), ("", "no token"), (f"{TOKEN} root\n", "TOKEN admin")],
)
def test_a_bad_token_file_refuses_to_start(tmp_path: Path, content: str, complaint: str) -> None:
    tokens = tmp_path / "tokens"
    tokens.write_text(content, encoding="utf-8")
    run = subprocess.run(
        [PYTHON, "-m", "provenance", "serve", "--token-file", str(tokens), "--index", str(tmp_path / "i.sqlite")],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert run.returncode == 2 and one_line(run.stderr.strip()) and complaint in run.stderr, run.stderr


def test_no_token_and_a_wrong_token_get_401(token_desk: Server) -> None:
    with httpx.Client(base_url=token_desk.url) as c:
        for path in ("/api/v1/checks", "/api/v1/references", "/openapi.json"):
            none = c.get(path)
            wrong = c.get(path, headers={"Authorization": "Bearer " + TOKEN[:-1] + "X"})
            right = c.get(path, headers={"Authorization": f"Bearer {TOKEN}"})
            assert none.status_code == wrong.status_code == 401, path
            assert none.headers["www-authenticate"].startswith("Bearer") and one_line(wrong.json()["error"])
            assert right.status_code == 200, path
        assert c.post("/api/v1/checks", files={"file": ("v.mp4", b"x")}).status_code == 401
        page = c.get("/")
        assert page.status_code == 401 and 'name="token"' in page.text  # the sign-in form
        health = c.get("/healthz")  # for load balancers: alive and which index, not where or how big
        assert health.status_code == 200 and set(health.json()["index"]) == {"backend", "index_id", "schema_version"}
        full = c.get("/healthz", headers={"Authorization": f"Bearer {TOKEN}"}).json()["index"]
        assert full["references"] == 4 and full["index_id"] == health.json()["index"]["index_id"]


def test_only_an_admin_token_deletes(token_desk: Server) -> None:
    desk_client = token_desk.client(Authorization=f"Bearer {TOKEN}")
    admin_client = token_desk.client(Authorization=f"Bearer {ADMIN}")
    with desk_client, admin_client:
        refs = desk_client.get("/api/v1/references").json()["references"]
        victim = refs[-1]["id"]
        refused = desk_client.delete(f"/api/v1/references/{victim}")
        assert refused.status_code == 403 and "admin" in refused.json()["error"]
        removed = admin_client.delete(f"/api/v1/references/{victim}")
        assert removed.status_code == 200 and removed.json()["removed"]["id"] == victim
        assert admin_client.get(f"/api/v1/references/{victim}").status_code == 404


def test_the_page_signs_in_with_a_cookie_and_needs_its_csrf_token(token_desk: Server, viral_clip: Path) -> None:
    with httpx.Client(base_url=token_desk.url, timeout=60) as c:
        wrong = c.post("/login", data={"token": "not-the-token-at-all"})
        assert wrong.status_code == 401
        signed = c.post("/login", data={"token": TOKEN})
        assert signed.status_code == 303
        cookie = signed.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=strict" in cookie and TOKEN.lower() not in cookie
        page = c.get("/")
        assert page.status_code == 200 and "script-src 'self'" in page.headers["content-security-policy"]
        csrf = page.text.split('name="csrf-token" content="', 1)[1].split('"', 1)[0]
        files = {"file": ("viral.mp4", viral_clip.read_bytes())}
        assert c.post("/api/v1/checks", files=files).status_code == 403  # the cookie alone does not post
        posted = c.post("/api/v1/checks", files=files, headers={"X-CSRF-Token": csrf})
        assert posted.status_code == 202, posted.text
        assert finished(c, posted.json()["url"])["status"] == "done"
        c.post("/logout")
        assert c.get("/api/v1/checks").status_code == 401


def test_a_token_is_rotated_by_editing_the_file(token_desk: Server) -> None:
    tokens = token_desk.tmp / "tokens"
    before = tokens.read_text(encoding="utf-8")
    fresh = "rotated-token-0123456789abcdef"
    try:
        tokens.write_text(f"{fresh}\n{ADMIN} admin\n", encoding="utf-8")
        os.utime(tokens, ns=(time.time_ns(), time.time_ns() + 1_000_000))
        with httpx.Client(base_url=token_desk.url) as c:
            assert c.get("/api/v1/checks", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 401
            assert c.get("/api/v1/checks", headers={"Authorization": f"Bearer {fresh}"}).status_code == 200
    finally:
        tokens.write_text(before, encoding="utf-8")
        os.utime(tokens, ns=(time.time_ns(), time.time_ns() + 2_000_000))


# -- life of the server ----------------------------------------------------------------------


def test_a_restart_keeps_finished_reports_and_uploads_kept_stay(
    tmp_path: Path, sample_index: Path, viral_clip: Path
) -> None:
    kept = tmp_path / "kept"
    server = Server(tmp_path, "--workers", "1", "--uploads", kept, index=sample_index, name="restart")
    with running(server), server.client() as c:
        job = finished(c, post_check(c, viral_clip, claim_text="before the restart")["url"])
        assert job["status"] == "done"
        assert [p.name for p in kept.rglob("*.mp4")] == ["viral.mp4"]  # --uploads keeps the clip
    with running(server), server.client() as c:
        again = c.get(f"/api/v1/checks/{job['id']}").json()
        assert again["status"] == "done" and again["report"] == job["report"]
        assert c.get(f"/checks/{job['id']}").text.count("before the restart") >= 1
        assert [j["id"] for j in c.get("/api/v1/checks").json()["checks"]] == [job["id"]]


@pytest.fixture(scope="module")
def long_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """15 minutes of 160x120 testsrc2 at 10 fps: 3600 samples to hash, ~4 s of CPU to check, 20 MB."""
    out = tmp_path_factory.mktemp("long") / "long.mp4"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=160x120:rate=10", "-t", "900", "-c:v", "libx264", "-preset",
           "ultrafast", "-pix_fmt", "yuv420p", out)  # fmt: skip
    return out


def test_a_check_past_the_time_limit_fails_alone_and_the_next_one_runs(
    tmp_path: Path, sample_index: Path, still_jpeg: Path, long_clip: Path
) -> None:
    # 3 s allowed for a clip that needs more; a still image then checks in ~0.3 s; one job may wait.
    server = Server(
        tmp_path, "--workers", "1", "--check-timeout", "3", "--max-queue", "1", index=sample_index, name="strict"
    )
    with running(server), server.client() as c:
        slow = post_check(c, long_clip)
        deadline = time.monotonic() + 60
        while c.get(slow["url"]).json()["status"] == "queued" and time.monotonic() < deadline:
            time.sleep(0.05)
        quick = post_check(c, still_jpeg)
        assert c.get(quick["url"]).json()["progress"]["queue_position"] == 1
        with open(still_jpeg, "rb") as f:
            full = c.post("/api/v1/checks", files={"file": (still_jpeg.name, f)})
        assert (
            full.status_code == 503 and full.headers["retry-after"] == "30" and "--max-queue 1" in full.json()["error"]
        )
        late = finished(c, slow["url"])
        assert late["status"] == "failed" and "--check-timeout" in late["error"] and one_line(late["error"])
        assert late["error"].startswith("long.mp4: ")
        after = finished(c, quick["url"])
        assert after["status"] == "done", after["error"]
    assert server.uploads() == []


def _workers_of(pid: int) -> list[int]:
    """The worker processes a server started (multiprocessing's spawned children), from /proc."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid and b"spawn_main" in cmdline:
            found.append(int(entry))
    return found


def test_a_worker_killed_mid_check_fails_its_job_and_is_replaced(
    tmp_path: Path, sample_index: Path, still_jpeg: Path, long_clip: Path
) -> None:
    # What the kernel's OOM killer, or a crash in a decoder library on a hostile file, does to a worker.
    server = Server(tmp_path, "--workers", "1", index=sample_index, name="killed")
    with running(server), server.client() as c:
        slow = post_check(c, long_clip)
        deadline = time.monotonic() + 60
        while c.get(slow["url"]).json()["status"] != "running" and time.monotonic() < deadline:
            time.sleep(0.05)
        assert server.proc is not None
        (worker,) = _workers_of(server.proc.pid)
        os.kill(worker, signal.SIGKILL)
        lost = finished(c, slow["url"])
        assert lost["status"] == "failed" and one_line(lost["error"]), lost
        assert lost["error"].startswith("long.mp4: ") and "signal 9" in lost["error"]
        after = finished(c, post_check(c, still_jpeg)["url"])
        assert after["status"] == "done", after["error"]
        assert c.get("/healthz").json()["jobs"]["failed"] == 1
    assert server.uploads() == []
