"""The bus PKI: one certificate authority, one signing certificate per participant, one CRL.

- ``home``: where keys, certificates and the CRL live on disk.
- ``authority``: what the bus authority does (create the CA, issue, revoke, list).
- ``trust``: what every receiver does (accept a signer's certificate or refuse it with a fault code).
- ``identity``: what every sender holds (its private key and certificate, loaded once).
"""

from bus.pki.home import BusHome
from bus.pki.identity import SigningIdentity
from bus.pki.trust import TrustedSigner, TrustStore

__all__ = ["BusHome", "SigningIdentity", "TrustStore", "TrustedSigner"]
