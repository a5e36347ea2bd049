"""``ruang tls init`` and ``ruang serve --tls``: a lab CA and an HTTPS server that trusts it."""

from __future__ import annotations

import ssl
import stat

import pytest
from cryptography import x509

from core.tls import TLSError, init


def test_certificate_names_the_lab_hosts_and_chains_to_the_ca(tmp_path):
    files = init(tmp_path, ["exam.lab", "10.20.30.40"])
    cert = x509.load_pem_x509_certificate(files.cert.read_bytes())
    sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert sans.get_values_for_type(x509.DNSName) == ["exam.lab"]
    assert [str(ip) for ip in sans.get_values_for_type(x509.IPAddress)] == ["10.20.30.40"]
    ctx = ssl.create_default_context(cafile=str(files.ca_cert))
    ctx.load_cert_chain(str(files.cert), str(files.key))  # key matches the certificate
    for key in (files.key, files.ca_key):
        assert stat.S_IMODE(key.stat().st_mode) == 0o600


def test_ca_is_reused_when_the_server_certificate_is_renewed(tmp_path):
    first = init(tmp_path, ["exam.lab"]).ca_cert.read_bytes()
    assert init(tmp_path, ["exam.lab", "exam2.lab"]).ca_cert.read_bytes() == first


@pytest.mark.parametrize("bad", ["exam lab", "-bad.lab", "", "a..b"])
def test_bad_names_are_refused_with_the_name(tmp_path, bad):
    with pytest.raises(TLSError):
        init(tmp_path, [bad])
    assert not (tmp_path / "tls" / "server.crt").exists()
