"""Packaging the browser extension for this server: its address prefilled and a stable extension id.

The deployment keeps one RSA key (instance/extension_key.pem). Its public half goes into the manifest's "key",
which fixes the extension's id, so the API can allow exactly that origin (chrome-extension://<id>) for CORS.
"""
from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import zipfile
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

STATIC = Path(__file__).resolve().parents[2] / "static"
SOURCE = STATIC / "extension"
# Files the extension shares with the site. An extension cannot load code from a server, so the build copies them;
# the repository keeps one copy, under static/js.
SHARED = (STATIC / "js" / "suggestions.js", STATIC / "js" / "catalogue.js")
KEY_FILE = "extension_key.pem"


def _public_der(instance_path: str) -> bytes:
    path = Path(instance_path) / KEY_FILE
    if not path.exists():
        private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another worker made it first; read theirs
        else:
            with os.fdopen(fd, "wb") as fh:
                fh.write(pem)
    stored = serialization.load_pem_private_key(path.read_bytes(), password=None)
    return stored.public_key().public_bytes(serialization.Encoding.DER,
                                            serialization.PublicFormat.SubjectPublicKeyInfo)


def extension_id(instance_path: str) -> str:
    """Return the id Chromium gives the packaged extension (a-p letters from the key's SHA-256)."""
    digest = hashlib.sha256(_public_der(instance_path)).hexdigest()[:32]
    return "".join(chr(ord("a") + int(c, 16)) for c in digest)


def origin(instance_path: str) -> str:
    """Return the packaged extension's origin."""
    return f"chrome-extension://{extension_id(instance_path)}"


def build(instance_path: str, server_url: str) -> dict[str, bytes]:
    """Return the extension's files for this server: manifest with its key, config with the server address."""
    files = {p.name: p.read_bytes() for p in sorted(SOURCE.iterdir()) if p.is_file()}
    for shared in SHARED:
        files[shared.name] = shared.read_bytes()
    manifest = json.loads(files["manifest.json"])
    manifest["key"] = base64.b64encode(_public_der(instance_path)).decode()
    files["manifest.json"] = (json.dumps(manifest, indent=2, ensure_ascii=False) + "\n").encode()
    server = server_url.rstrip("/")
    files["config.js"] = (
        "// Written by the Vetted server this extension was downloaded from.\n"
        f"export const DEFAULT_SERVER = {json.dumps(server)};\n"
    ).encode()
    return files


def zip_bytes(files: dict[str, bytes]) -> bytes:
    """Pack the files into a zip, under one folder."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            zf.writestr(f"vetted-extension/{name}", data)
    return buf.getvalue()
