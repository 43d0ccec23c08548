"""A real IMAP and POP3 server for the bounce mailbox tests: Debian's Dovecot (packages
dovecot-imapd and dovecot-pop3d; `make test` installs them), started by the test with a
configuration of its own in a temporary directory, listening on 127.0.0.1 only.

As root, Dovecot refuses to run its login processes or to touch mail as root: they run as the
package's own users (dovenull, dovecot), who then own the mail directory."""

from __future__ import annotations

import imaplib
import os
import poplib
import pwd
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from tests.support.certificates import self_signed
from tests.support.smtp import free_port

DOVECOT = "/usr/sbin/dovecot"
USER, PASSWORD = "bounces", "mailbox-secret"
START_TIMEOUT = 20.0

CONFIG = """
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap pop3
listen = 127.0.0.1
ssl = yes
ssl_cert = <{root}/cert.pem
ssl_key = <{root}/key.pem
disable_plaintext_auth = no
auth_mechanisms = plain login
# Tests sign in wrongly on purpose, then rightly: without these, Dovecot answers a failure after 2 s
# and delays the next sign-ins from the same address (its auth penalty), which a loaded machine
# stretches past a test's wait.
auth_failure_delay = 0
login_trusted_networks = 127.0.0.0/8
default_internal_user = {internal_user}
default_internal_group = {internal_group}
default_login_user = {login_user}
first_valid_uid = {uid}
mail_location = maildir:{root}/mail/%u
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/users
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/mail/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    port = {imap_port}
  }}
  inet_listener imaps {{
    port = {imaps_port}
  }}
}}
service pop3-login {{
  chroot =
  inet_listener pop3 {{
    port = {pop3_port}
  }}
  inet_listener pop3s {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
"""


def _self_signed_certificate(root: Path) -> None:
    """TLS (IMAPS, STARTTLS) with a certificate no client trusts: what a misconfigured server shows."""
    key = ec.generate_private_key(ec.SECP256R1())
    certificate = self_signed(key, "mail.test", valid_days=1)
    (root / "cert.pem").write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    (root / "key.pem").write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )


class Dovecot:
    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="mr-dovecot-"))
        self.imap_port, self.pop3_port, self.imaps_port = free_port(), free_port(), free_port()
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Dovecot:
        if os.getuid() == 0:
            mail_user = pwd.getpwnam("dovecot")
            users = {"internal_user": "dovecot", "internal_group": "dovecot", "login_user": "dovenull"}
        else:
            mail_user = pwd.getpwuid(os.getuid())
            users = dict.fromkeys(("internal_user", "internal_group", "login_user"), mail_user.pw_name)
            users["internal_group"] = str(mail_user.pw_gid)
        (self.root / "mail").mkdir()
        os.chown(self.root / "mail", mail_user.pw_uid, mail_user.pw_gid)
        self.root.chmod(0o755)
        (self.root / "users").write_text(f"{USER}:{{PLAIN}}{PASSWORD}\n")
        _self_signed_certificate(self.root)
        config = self.root / "dovecot.conf"
        config.write_text(
            CONFIG.format(
                root=self.root,
                uid=mail_user.pw_uid,
                gid=mail_user.pw_gid,
                imap_port=self.imap_port,
                pop3_port=self.pop3_port,
                imaps_port=self.imaps_port,
                **users,
            )
        )
        self.process = subprocess.Popen([DOVECOT, "-F", "-c", str(config)], stderr=subprocess.PIPE)
        self._wait_until_it_answers()
        return self

    def _wait_until_it_answers(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            try:
                imaplib.IMAP4("127.0.0.1", self.imap_port, timeout=2).logout()
                return
            except OSError:
                if time.monotonic() > deadline or (self.process and self.process.poll() is not None):
                    log = (self.root / "dovecot.log").read_text() if (self.root / "dovecot.log").exists() else ""
                    raise RuntimeError(f"Dovecot did not start: {log}") from None
                time.sleep(0.1)

    def __exit__(self, *exc: object) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=20)
        shutil.rmtree(self.root, ignore_errors=True)

    def _imap(self) -> imaplib.IMAP4:
        client = imaplib.IMAP4("127.0.0.1", self.imap_port, timeout=10)
        client.login(USER, PASSWORD)
        return client

    def deliver(self, *messages: bytes) -> None:
        """Put messages into the INBOX, unseen."""
        client = self._imap()
        try:
            for raw in messages:
                client.append("INBOX", None, None, raw)
        finally:
            client.logout()

    def file(self, folder: str, *messages: bytes) -> None:
        """Put messages into a folder (made if missing), unseen: what a provider's filter does."""
        quoted = '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'
        client = self._imap()
        try:
            client.create(quoted)  # answers NO when it exists
            for raw in messages:
                client.append(quoted, None, None, raw)
        finally:
            client.logout()

    def empty(self) -> None:
        client = self._imap()
        try:
            _, data = client.select("INBOX")
            if data and data[0] != b"0":
                client.store("1:*", "+FLAGS.SILENT", r"(\Deleted)")
                client.expunge()
        finally:
            client.logout()

    def subjects(self) -> list[str]:
        """Subjects of the messages in the INBOX now."""
        client = self._imap()
        try:
            client.select("INBOX", readonly=True)
            _, data = client.fetch("1:*", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        except imaplib.IMAP4.error:
            return []
        finally:
            client.logout()
        return [item[1].decode().split(":", 1)[1].strip() for item in data if isinstance(item, tuple)]

    def pop3_count(self) -> int:
        client = poplib.POP3("127.0.0.1", self.pop3_port, timeout=10)
        try:
            client.user(USER)
            client.pass_(PASSWORD)
            return int(client.stat()[0])
        finally:
            client.quit()
