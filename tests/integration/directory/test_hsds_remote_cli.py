"""``carenet import-hsds URL`` on the command line: an unreachable host is a message and a
failing exit code, never a trace, and writes nothing."""

from __future__ import annotations

import socket

from directory_helpers import table_counts


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_an_unreachable_host_is_a_clear_message_and_a_failing_exit(runner, app):
    app.config.update(IMPORT_HTTP_RETRIES=1)
    url = f"http://127.0.0.1:{_free_port()}/api/hsds"
    result = runner.invoke(args=["import-hsds", url])
    assert result.exit_code == 1
    assert "cannot reach http://127.0.0.1:" in result.output
    assert "(tried 2 times); 0 records were read before this" in result.output
    assert "Traceback" not in result.output
    with app.app_context():
        assert table_counts()["service"] == 0
