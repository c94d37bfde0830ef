"""Content Credentials, beside the probe stage: read and validate a C2PA manifest, offline.

c2pa-python is an optional extra (``pip install 'provenance[c2pa]'``). Without
it the result says the credentials could not be checked; it never guesses::

    >>> creds = read_content_credentials("signed.jpg")
    >>> creds.status, creds.signer, creds.claim_generator
    ('valid', 'Example Newsroom', 'Example Camera App 2.1')

Statuses: ``absent`` (no manifest: most media have none, so this proves
nothing), ``valid`` (the signature and the content hashes check out; the
signer is not checked against a trust list, see below), ``invalid`` (a
manifest is there but fails validation: the file changed after signing, or
the manifest is damaged) and ``unchecked`` (c2pa-python is not installed, or
cannot read this format).

No network: remote manifests and OCSP revocation checks are switched off, and
no trust list is loaded, so ``signingCredential.untrusted`` is expected for
every signer and is reported as a fact about trust, not as a failure.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

#: c2pa settings: never fetch anything (remote manifests, OCSP responses).
OFFLINE_SETTINGS: dict[str, Any] = {"verify": {"remote_manifest_fetch": False, "ocsp_fetch": False}}
#: Validation codes that concern trust in the signer, not the integrity of the file.
TRUST_CODES = frozenset({"signingCredential.untrusted"})
#: Most validation codes, ingredients and actions kept (bounds a hostile manifest).
MAX_ITEMS = 50

#: What a check of Content Credentials can say: no manifest, valid, failing validation, or not
#: checked (c2pa-python missing, or a format it cannot read).
STATUSES = ("absent", "valid", "invalid", "unchecked")


@dataclass(frozen=True)
class ContentCredentials:
    """What a file's C2PA manifest says and whether it validates.

    `failures` are the validation codes other than trust (`TRUST_CODES`);
    `trust` is what the validator said about the signer (``untrusted`` when
    no trust list was given, as here).
    """

    status: str
    reason: str = ""
    validation_state: str | None = None
    claim_generator: str | None = None
    signer: str | None = None
    signed_at: str | None = None
    title: str | None = None
    manifests: int = 0
    failures: tuple[str, ...] = ()
    trust: str | None = None
    actions: tuple[str, ...] = ()
    ingredients: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("failures", "actions", "ingredients"):
            data[key] = list(data[key])
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ContentCredentials:
        values = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        for key in ("failures", "actions", "ingredients"):
            values[key] = tuple(data.get(key, ()))
        return cls(**values)


def available() -> bool:
    """Whether c2pa-python can be imported.

    Returns:
        True when it can (its native library loads too).
    """
    try:
        import c2pa  # noqa: F401
    except (ImportError, OSError):  # OSError: the wheel's native library fails to load
        return False
    return True


def read_content_credentials(path: Path | str) -> ContentCredentials:
    """Read and validate the C2PA manifest of a local file, without the network.

    Never raises for the file's sake: a missing package, an unsupported
    format or a damaged manifest each become a status with a reason.

    Args:
        path: a local file.

    Returns:
        The `ContentCredentials`: ``absent``, ``valid``, ``invalid`` or ``unchecked``.
    """
    try:
        import c2pa
    except (ImportError, OSError) as exc:
        return ContentCredentials(
            "unchecked",
            f"c2pa-python is not installed ({type(exc).__name__}); install it with pip install 'provenance[c2pa]'",
        )
    file = Path(path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            context = c2pa.Context.from_dict(OFFLINE_SETTINGS)
            reader = c2pa.Reader.try_create(str(file), None, None, context)
            if reader is None:
                return ContentCredentials("absent", "no C2PA manifest in the file")
            with reader:
                report = json.loads(reader.json())
    except c2pa.C2paError as exc:
        name = type(exc).__name__.lstrip("_").removeprefix("C2pa")
        text = " ".join(str(exc).split())[:300]
        if name in ("NotSupported",) or "not supported" in text.lower() or "unsupported" in text.lower():
            return ContentCredentials("unchecked", f"c2pa cannot read this format ({text})")
        return ContentCredentials(
            "invalid",
            f"a C2PA manifest is there but cannot be read ({name}: {text})",
            failures=("manifest.unreadable",),
        )
    except (OSError, ValueError, RecursionError) as exc:
        return ContentCredentials("unchecked", f"c2pa could not read the file ({type(exc).__name__}: {exc})")
    return _summarise(report)


def _summarise(report: dict[str, Any]) -> ContentCredentials:
    manifests: dict[str, Any] = report["manifests"] if isinstance(report.get("manifests"), dict) else {}
    active = manifests.get(str(report.get("active_manifest")))
    if not isinstance(active, dict):
        active = {}
    codes = [
        str(s.get("code")) for s in (report.get("validation_status") or []) if isinstance(s, dict) and s.get("code")
    ][:MAX_ITEMS]
    failures = tuple(c for c in codes if c not in TRUST_CODES)
    trust = "untrusted" if any(c in TRUST_CODES for c in codes) else None
    state = report.get("validation_state")
    state_text = str(state) if state is not None else None
    if state_text == "Trusted":
        trust = "trusted"
    if state_text == "Invalid" or (state_text is None and failures):
        status = "invalid"
    else:
        status = "valid"
    generator = active.get("claim_generator")
    if not generator and isinstance(active.get("claim_generator_info"), list) and active["claim_generator_info"]:
        info = active["claim_generator_info"][0]
        if isinstance(info, dict):
            generator = " ".join(str(info.get(k)) for k in ("name", "version") if info.get(k))
    sig: dict[str, Any] = active["signature_info"] if isinstance(active.get("signature_info"), dict) else {}
    signer = sig.get("common_name") or sig.get("issuer")
    if sig.get("issuer") and sig.get("common_name") and sig["issuer"] != sig["common_name"]:
        signer = f"{sig['common_name']} (issued by {sig['issuer']})"
    actions: list[str] = []
    for assertion in active.get("assertions") or ():
        if isinstance(assertion, dict) and str(assertion.get("label", "")).startswith("c2pa.actions"):
            data: dict[str, Any] = assertion["data"] if isinstance(assertion.get("data"), dict) else {}
            actions += [str(a.get("action")) for a in data.get("actions") or () if isinstance(a, dict)]
    ingredients = [
        str(i.get("title") or i.get("instance_id") or "?")
        for i in active.get("ingredients") or ()
        if isinstance(i, dict)
    ]
    return ContentCredentials(
        status=status,
        reason="the manifest fails validation" if status == "invalid" else "the manifest validates",
        validation_state=state_text,
        claim_generator=str(generator)[:200] if generator else None,
        signer=str(signer)[:200] if signer else None,
        signed_at=str(sig["time"])[:64] if sig.get("time") else None,
        title=str(active["title"])[:200] if active.get("title") else None,
        manifests=len(manifests),
        failures=failures,
        trust=trust,
        actions=tuple(actions[:MAX_ITEMS]),
        ingredients=tuple(ingredients[:MAX_ITEMS]),
    )
