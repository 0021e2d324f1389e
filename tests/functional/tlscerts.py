#    Copyright 2026 gpupassthrough-osc developers
#
#    Licensed under the Apache License, Version 2.0 (the "License"); you may
#    not use this file except in compliance with the License. You may obtain
#    a copy of the License at
#
#         http://www.apache.org/licenses/LICENSE-2.0
#
#    Unless required by applicable law or agreed to in writing, software
#    distributed under the License is distributed on an "AS IS" BASIS, WITHOUT
#    WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied. See the
#    License for the specific language governing permissions and limitations
#    under the License.

"""A certificate authority and a server certificate for 127.0.0.1.

For a MariaDB that speaks TLS (tests/functional/mariadb.py Server with
``tls``): made with the cryptography library OSC already installs, so the
tests need no openssl command.
"""

import datetime
import ipaddress
import os

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import serialization
from cryptography import x509
from cryptography.x509.oid import NameOID


def _name(common_name):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _write(path, data):
    with open(path, 'wb') as f:
        f.write(data)
    return path


def _key_pem(key):
    return key.private_bytes(serialization.Encoding.PEM,
                             serialization.PrivateFormat.TraditionalOpenSSL,
                             serialization.NoEncryption())


def _certificate(subject, issuer, public_key, signing_key, ca, sans=()):
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (x509.CertificateBuilder()
               .subject_name(subject).issuer_name(issuer)
               .public_key(public_key)
               .serial_number(x509.random_serial_number())
               .not_valid_before(now - datetime.timedelta(minutes=5))
               .not_valid_after(now + datetime.timedelta(days=1))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None),
                              critical=True))
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(
            list(sans)), critical=False)
    return builder.sign(signing_key, hashes.SHA256())


def authority(directory, name):
    """(CA certificate path, CA key) of a new authority called ``name``."""
    key = ec.generate_private_key(ec.SECP256R1())
    cert = _certificate(_name(name), _name(name), key.public_key(), key,
                        ca=True)
    path = _write(os.path.join(directory, f'{name}.pem'),
                  cert.public_bytes(serialization.Encoding.PEM))
    return path, (cert, key)


def server_certificate(directory, ca):
    """(certificate path, key path) for 127.0.0.1, signed by ``ca``."""
    ca_cert, ca_key = ca
    key = ec.generate_private_key(ec.SECP256R1())
    cert = _certificate(
        _name('127.0.0.1'), ca_cert.subject, key.public_key(), ca_key,
        ca=False, sans=[x509.IPAddress(ipaddress.ip_address('127.0.0.1')),
                        x509.DNSName('localhost')])
    return (_write(os.path.join(directory, 'server-cert.pem'),
                   cert.public_bytes(serialization.Encoding.PEM)),
            _write(os.path.join(directory, 'server-key.pem'), _key_pem(key)))
