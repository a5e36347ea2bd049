"""A small certificate authority for the lab network, so kiosks reach Ruang over HTTPS.

Browsers expose WebCrypto only in secure contexts: a lab PC opening
``http://10.1.2.3/kiosk`` has no ``crypto.subtle`` and cannot decrypt its paper. Most lab
networks have no public DNS name for the exam server, so ``ruang tls init`` makes a private
CA (installed once on each lab PC) and a server certificate for the names and addresses the
PCs use. Keys are written with owner-only permissions in ``<instance>/tls/``.
"""

from __future__ import annotations

import ipaddress
import os
import stat
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


class TLSError(ValueError):
    pass


@dataclass(frozen=True)
class TLSFiles:
    folder: Path

    @property
    def ca_cert(self) -> Path:
        return self.folder / "ruang-ca.crt"

    @property
    def ca_key(self) -> Path:
        return self.folder / "ruang-ca.key"

    @property
    def cert(self) -> Path:
        return self.folder / "server.crt"

    @property
    def key(self) -> Path:
        return self.folder / "server.key"

    def exists(self) -> bool:
        return self.cert.exists() and self.key.exists()


def files_for(instance: Path) -> TLSFiles:
    return TLSFiles(instance / "tls")


def _write_private(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, stat.S_IRUSR | stat.S_IWUSR)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    tmp.replace(path)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def parse_names(names: list[str]) -> list[x509.GeneralName]:
    """DNS names and IP addresses for the certificate; a bad entry is named in the error."""
    out: list[x509.GeneralName] = []
    for raw in names:
        name = raw.strip()
        if not name:
            continue
        try:
            out.append(x509.IPAddress(ipaddress.ip_address(name)))
            continue
        except ValueError:
            pass
        labels = name.rstrip(".").split(".")
        if not all(label and len(label) <= 63 and label.replace("-", "").isalnum()
                   and not label.startswith("-") for label in labels):
            raise TLSError(f"{raw!r} is neither an IP address nor a valid host name")
        out.append(x509.DNSName(name.rstrip(".").lower()))
    if not out:
        raise TLSError("give at least one host name or IP address the lab PCs use")
    return out


def init(instance: Path, names: list[str], days: int = 825, org: str = "BPTI") -> TLSFiles:
    """Create (or reuse) the lab CA, then issue a server certificate for ``names``."""
    if not 1 <= days <= 825:
        raise TLSError("validity must be 1..825 days (browsers refuse longer server certificates)")
    sans = parse_names(names)
    files = files_for(instance)
    now = datetime.now(UTC)
    if files.ca_cert.exists() and files.ca_key.exists():
        ca_key = serialization.load_pem_private_key(files.ca_key.read_bytes(), password=None)
        ca_cert = x509.load_pem_x509_certificate(files.ca_cert.read_bytes())
        if not isinstance(ca_key, ec.EllipticCurvePrivateKey):
            raise TLSError(f"{files.ca_key} is not an EC key made by ruang tls init")
    else:
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca_name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, org),
                             x509.NameAttribute(NameOID.COMMON_NAME, f"Ruang lab CA ({org})")])
        ca_cert = (
            x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
            .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(now + timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                         content_commitment=False, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False,
                                         encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()),
                           critical=False)
            .sign(ca_key, hashes.SHA256())
        )
        _write_private(files.ca_key, _key_pem(ca_key))
        files.ca_cert.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))

    key = ec.generate_private_key(ec.SECP256R1())
    first = sans[0].value
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, str(first))]))
        .issuer_name(ca_cert.subject).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + timedelta(days=days))
        .add_extension(x509.SubjectAlternativeName(sans), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                       critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    _write_private(files.key, _key_pem(key))
    files.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM)
                           + ca_cert.public_bytes(serialization.Encoding.PEM))
    return files


INSTALL_HELP = """\
Install {ca} once on every lab PC, then open https://{host}:{port}/kiosk
  Debian/Ubuntu (system):  sudo cp {ca} /usr/local/share/ca-certificates/ruang-ca.crt
                           sudo update-ca-certificates
  Chromium on Linux:       certutil -d sql:$HOME/.pki/nssdb -A -t "C,," -n ruang-ca -i {ca}
  Windows (Chrome, Edge):  certutil -addstore -f Root ruang-ca.crt   (as administrator)
Then start the server with TLS:  ruang serve --tls --host 0.0.0.0 --port {port}
"""
