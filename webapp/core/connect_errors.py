"""Why a connection to a server someone configured failed, in words that say what to check: the
Test buttons of SMTP servers and bounce mailboxes show it (not "[Errno -2] Name or service not known")."""

from __future__ import annotations

import os
import socket
import ssl


def connect_failure(exc: BaseException, where: str) -> str | None:
    """What went wrong connecting to `where` (host:port), or None for an error that is not about
    connecting. Looks through the error a library raised to the one it wraps."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLCertVerificationError):
            return f"The TLS certificate of {where} is not valid: {str(seen.verify_message).rstrip('.')}."
        if isinstance(seen, ssl.SSLError):
            return f"TLS with {where} failed ({seen.reason or seen}); check the TLS mode and port."
        if isinstance(seen, socket.gaierror):
            return f"The host of {where} could not be found: check its name."
        if isinstance(seen, OSError) and (seen.errno or seen.strerror):
            # asyncio's refusals say "Connect call failed (...)": the errno's own words are plainer
            reason = os.strerror(seen.errno) if seen.errno and seen.errno > 0 else seen.strerror
            return f"Cannot connect to {where}: {reason}."
        seen = seen.__cause__ or seen.__context__
    return None
