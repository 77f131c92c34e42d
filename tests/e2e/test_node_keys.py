"""scripts/make-node-keys: the keys and verifiers of the cryptosign and scram node
directories, made at test time and checked against Autobahn|Python, which the clients use.

- client keys load with Autobahn's CryptosignKey.from_file and match their .pub and the
  rendered authorized_keys; private files are 0600;
- the node key is in Crossbar's key.priv / key.pub format;
- a SCRAM verifier accepts the proof Autobahn's AuthScram client computes from the
  password, and Autobahn accepts the server signature made with server-key;
- `blindrouter check` accepts both rendered node directories.
"""

import base64
import hashlib
import hmac
import json
import shutil
import stat
import subprocess
import sys
import types

import nacl.bindings

from wamp_helpers import REPO_ROOT

SCRIPT = REPO_ROOT / "scripts" / "make-node-keys"


def make(tmp_path, name, *args):
    nodedir = tmp_path / name
    nodedir.mkdir()
    shutil.copy(REPO_ROOT / "crossbar-config" / name / "config.json.in", nodedir)
    subprocess.run([str(SCRIPT), str(nodedir), *args], check=True, timeout=60)
    return nodedir


def mode(path):
    return stat.S_IMODE(path.stat().st_mode)


def principals(nodedir, method):
    config = json.loads((nodedir / "config.json").read_text())
    return config["workers"][0]["transports"][0]["paths"]["ws"]["auth"][method]["principals"]


def check(router_binary, nodedir):
    proc = subprocess.run([str(router_binary), "check", "--cbdir", str(nodedir)],
                          capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_cryptosign_node_directory(tmp_path, router_binary):
    from autobahn.wamp.cryptosign import CryptosignKey

    nodedir = make(tmp_path, "cryptosign", "--client", "client01", "--client", "client02")
    for name, authid in (("client01", "client01@example.com"), ("client02", "client02@example.com")):
        assert mode(nodedir / f"{name}.key") == 0o600
        key = CryptosignKey.from_file(str(nodedir / f"{name}.key"))
        pubkey = key.public_key(binary=False)
        assert (nodedir / f"{name}.pub").read_text().strip() == pubkey
        assert principals(nodedir, "cryptosign")[authid]["authorized_keys"] == [pubkey]
    assert mode(nodedir / "key.priv") == 0o600
    priv = (nodedir / "key.priv").read_text()
    assert priv.startswith("Crossbar.io node private key - KEEP THIS SAFE!\n\n")
    tags = dict(line.split(": ", 1) for line in priv.split("\n\n", 1)[1].splitlines())
    seed = bytes.fromhex(tags["private-key-ed25519"])
    assert nacl.bindings.crypto_sign_seed_keypair(seed)[0].hex() == tags["public-key-ed25519"]
    assert "private" not in (nodedir / "key.pub").read_text()
    check(router_binary, nodedir)


def autobahn_scram_client(monkeypatch):
    """Autobahn's AuthScram, with argon2-cffi (not packaged in Debian 12) supplied over
    PyNaCl's Argon2id in argon2-cffi's encoded form."""
    argon2 = types.ModuleType("argon2")
    low_level = types.ModuleType("argon2.low_level")

    class Type:
        ID = 2

    def hash_secret(secret, salt, time_cost, memory_cost, parallelism, hash_len, type, version):
        assert (parallelism, type, version) == (1, Type.ID, 0x13)
        raw = nacl.bindings.crypto_pwhash_alg(hash_len, secret, salt, time_cost, memory_cost * 1024,
                                              nacl.bindings.crypto_pwhash_ALG_ARGON2ID13)
        b64 = lambda b: base64.b64encode(b).rstrip(b"=")  # noqa: E731
        return b"$argon2id$v=19$m=%d,t=%d,p=1$" % (memory_cost, time_cost) + b64(salt) + b"$" + b64(raw)

    low_level.hash_secret = hash_secret
    argon2.Type = Type
    argon2.low_level = low_level
    monkeypatch.setitem(sys.modules, "argon2", argon2)
    monkeypatch.setitem(sys.modules, "argon2.low_level", low_level)
    import autobahn.wamp.auth as auth
    monkeypatch.setattr(auth, "hash_secret", hash_secret, raising=False)
    monkeypatch.setattr(auth, "Type", Type, raising=False)
    from passlib.utils import saslprep
    monkeypatch.setattr(auth, "saslprep", saslprep, raising=False)
    monkeypatch.setattr(auth, "HAS_ARGON", True)
    return auth


def test_scram_verifier_accepts_autobahns_proof(tmp_path, router_binary, monkeypatch):
    from autobahn.wamp.types import Challenge

    auth = autobahn_scram_client(monkeypatch)
    nodedir = make(tmp_path, "scram", "--scram", "alice:correct horse", "--iterations", "2", "--memory", "1024")
    alice = principals(nodedir, "scram")["alice"]
    assert alice["kdf"] == "argon2id-13" and alice["role"] == "authenticated"
    check(router_binary, nodedir)

    # The router's side, as Crossbar computes it (cb:router/auth/scram.py).
    client = auth.AuthScram(authid="alice", password="correct horse")
    client_nonce = client.authextra["nonce"]
    server_nonce = base64.b64encode(base64.b64decode(client_nonce) + bytes(16)).decode()
    salt = base64.b64encode(bytes.fromhex(alice["salt"])).decode()
    extra = {"nonce": server_nonce, "kdf": alice["kdf"], "salt": salt,
             "iterations": alice["iterations"], "memory": alice["memory"]}
    proof = base64.b64decode(client.on_challenge(None, Challenge("scram", extra)))
    auth_message = (f"n=alice,r={client_nonce},r={server_nonce},s={salt},i={alice['iterations']},"
                    f"c=,r={server_nonce}").encode()
    stored_key = bytes.fromhex(alice["stored-key"])
    client_signature = hmac.new(stored_key, auth_message, hashlib.sha256).digest()
    client_key = bytes(a ^ b for a, b in zip(client_signature, proof))
    assert hashlib.sha256(client_key).digest() == stored_key

    server_signature = hmac.new(bytes.fromhex(alice["server-key"]), auth_message, hashlib.sha256).digest()

    class Session:
        class log:
            info = error = staticmethod(lambda *a, **k: None)

    assert client.on_welcome(Session, {"scram_server_signature": base64.b64encode(server_signature)}) is None
