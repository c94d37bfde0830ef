"""Content Credentials (C2PA): files signed in the test with a throwaway certificate, offline.

A throwaway CA and signing certificate (ES256) are made with `cryptography`
(a dependency of c2pa-python); c2pa-python signs a JPEG and an MP4 made by
ffmpeg/Pillow, with no timestamp authority (no network). Flipping one byte of
the signed media makes the content hash fail. Without c2pa-python the
signing tests skip, and the "could not be checked" path is tested by hiding
the module.
"""

from __future__ import annotations

import datetime
import sys
from pathlib import Path

import pytest
from conftest import lavfi_clip

from provenance.c2pa import ContentCredentials, available, read_content_credentials
from provenance.metadata import inspect
from provenance.probe import probe


@pytest.fixture(scope="module")
def signer() -> object:
    """A c2pa Signer for a throwaway chain: 'Test Signer' issued by the 'Throwaway Test' CA, ES256, no TSA."""
    c2pa = pytest.importorskip("c2pa")
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.datetime.now(datetime.UTC)

    def name(cn: str) -> x509.Name:
        return x509.Name(
            [
                x509.NameAttribute(NameOID.COMMON_NAME, cn),
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Throwaway Test"),
            ]
        )

    def usage(*, ca: bool) -> x509.KeyUsage:
        return x509.KeyUsage(
            digital_signature=True,
            content_commitment=False,
            key_encipherment=False,
            data_encipherment=False,
            key_agreement=False,
            key_cert_sign=ca,
            crl_sign=ca,
            encipher_only=False,
            decipher_only=False,
        )

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(name("Test CA"))
        .issuer_name(name("Test CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(usage(ca=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(name("Test Signer"))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(usage(ca=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    chain = cert.public_bytes(serialization.Encoding.PEM) + ca.public_bytes(serialization.Encoding.PEM)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    info = c2pa.C2paSignerInfo(c2pa.C2paSigningAlg.ES256, chain, pem, None)
    return c2pa.Signer.from_info(info)


MANIFEST = {
    "claim_generator_info": [{"name": "Example Newsroom Camera", "version": "2.1"}],
    "title": "street.jpg",
    "assertions": [
        {
            "label": "c2pa.actions",
            "data": {
                "actions": [
                    {
                        "action": "c2pa.created",
                        "digitalSourceType": "http://cv.iptc.org/newscodes/digitalsourcetype/digitalCapture",
                    }
                ]
            },
        }
    ],
}


def sign(signer: object, source: Path, out: Path, mime: str) -> Path:
    import c2pa

    with c2pa.Builder(MANIFEST) as builder, open(source, "rb") as src, open(out, "w+b") as dst:
        builder.sign(signer, mime, src, dst)
    return out


def tamper(path: Path, out: Path) -> Path:
    """A copy with one byte of the media data flipped, 200 bytes before the end."""
    data = bytearray(path.read_bytes())
    data[-200] ^= 0xFF
    out.write_bytes(bytes(data))
    return out


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """An unsigned JPEG (Pillow) and MP4 (ffmpeg, 1 s testsrc2)."""
    from PIL import Image

    folder = tmp_path_factory.mktemp("c2pa")
    jpeg = folder / "plain.jpg"
    Image.effect_mandelbrot((160, 120), (-2, -1.5, 1, 1.5), 40).convert("RGB").save(jpeg, quality=90)
    mp4 = lavfi_clip(folder / "plain.mp4", "testsrc2=size=160x120:rate=10", seconds=1)
    return {"image/jpeg": jpeg, "video/mp4": mp4}


@pytest.mark.parametrize("mime", ["image/jpeg", "video/mp4"])
def test_signed_file_has_valid_credentials(signer: object, media: dict[str, Path], tmp_path: Path, mime: str) -> None:
    signed = sign(signer, media[mime], tmp_path / ("signed" + media[mime].suffix), mime)
    creds = read_content_credentials(signed)
    assert creds.status == "valid"
    assert creds.validation_state == "Valid"
    assert creds.signer == "Test Signer (issued by Throwaway Test)"
    assert creds.claim_generator == "Example Newsroom Camera 2.1"
    assert creds.actions == ("c2pa.created",)
    assert creds.failures == ()
    assert creds.trust == "untrusted"  # no trust list is loaded offline
    finding = next(f for f in inspect(probe(signed), credentials=creds) if f.code.startswith("c2pa"))
    assert (finding.code, finding.severity) == ("c2pa_valid", "info")
    assert "not checked against a trust list" in finding.explanation
    assert "not that what it shows is true" in finding.explanation


@pytest.mark.parametrize(
    ("mime", "failure"), [("image/jpeg", "assertion.dataHash.mismatch"), ("video/mp4", "assertion.bmffHash.mismatch")]
)
def test_file_changed_after_signing_fails_validation(
    signer: object, media: dict[str, Path], tmp_path: Path, mime: str, failure: str
) -> None:
    signed = sign(signer, media[mime], tmp_path / ("signed" + media[mime].suffix), mime)
    changed = tamper(signed, tmp_path / ("changed" + media[mime].suffix))
    creds = read_content_credentials(changed)
    assert creds.status == "invalid"
    assert failure in creds.failures
    finding = next(f for f in inspect(probe(changed), credentials=creds) if f.code.startswith("c2pa"))
    assert (finding.code, finding.severity) == ("c2pa_invalid", "warning")
    assert finding.evidence["failures"] == list(creds.failures)


def test_no_manifest_is_no_credentials_not_manipulation(media: dict[str, Path]) -> None:
    if not available():
        pytest.skip("c2pa-python is not installed")
    for path in media.values():
        creds = read_content_credentials(path)
        assert creds.status == "absent"
        finding = next(f for f in inspect(probe(path), credentials=creds) if f.code.startswith("c2pa"))
        assert (finding.code, finding.severity) == ("c2pa_absent", "info")
        assert finding.explanation.startswith("No Content Credentials")
        assert "not evidence of manipulation" in finding.explanation


def test_without_c2pa_python_credentials_are_unchecked(media: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "c2pa", None)  # import c2pa now raises ImportError
    assert not available()
    creds = read_content_credentials(media["image/jpeg"])
    assert creds.status == "unchecked"
    assert "pip install 'provenance[c2pa]'" in creds.reason
    finding = next(f for f in inspect(probe(media["image/jpeg"]), credentials=creds) if f.code.startswith("c2pa"))
    assert (finding.code, finding.severity) == ("c2pa_unchecked", "info")
    assert finding.explanation.startswith("Content Credentials could not be checked")


def test_unsupported_format_is_unchecked(tmp_path: Path) -> None:
    if not available():
        pytest.skip("c2pa-python is not installed")
    text = tmp_path / "notes.yml"
    text.write_text("a: 1\n")
    assert read_content_credentials(text).status == "unchecked"


def test_credentials_round_trip() -> None:
    creds = ContentCredentials("invalid", "r", "Invalid", "g", "s", None, "t", 1, ("x",), "untrusted", ("a",), ("i",))
    assert ContentCredentials.from_dict(creds.to_dict()) == creds


def test_signed_clip_through_the_pipeline(
    signer: object, media: dict[str, Path], tmp_path: Path, sample_index: Path
) -> None:
    from provenance.pipeline import check

    signed = sign(signer, media["video/mp4"], tmp_path / "signed.mp4", "video/mp4")
    report = check(signed, f"sqlite:///{sample_index}", keyframes=False)
    assert "c2pa_valid" in [f.code for f in report.findings]
