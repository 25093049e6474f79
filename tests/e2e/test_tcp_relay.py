"""TCP relay through `mode tcp`: byte-exact bulk transfer both ways, many
small concurrent connections, and half-close in both directions."""

import hashlib
import socket
import threading
import time

import pytest

from e2eutil import (BulkServer, CloseFirstServer, EchoServer, ReadThenReplyServer,
                     connect, free_port, recv_all, recv_exact, render, stream_blocks,
                     stream_sha256)

LISTEN = """
global
    maxconn 4096

defaults
    mode tcp
    timeout connect 5s
    timeout client 60s
    timeout server 60s

listen relay
    bind 127.0.0.1:$fe
    mode tcp
    $options
    server s1 127.0.0.1:$be
"""

MiB = 1 << 20


@pytest.mark.timeout(240)
@pytest.mark.parametrize("options", ["", "option splice-auto"], ids=["copy", "splice"])
def test_bulk_256mib_each_way_byte_exact(proxy, start_proxy, servers, options):
    if proxy.kind == "haproxy" and options:
        # The oracle itself: haproxy 2.6 with splice-auto reset the server side
        # mid-transfer in about 1 run in 50 here (client got 262,087,636 of
        # 268,435,456 bytes). Its copy run validates this harness; Sluice runs both.
        pytest.skip("haproxy 2.6 splice-auto truncates this transfer now and then")
    total = 256 * MiB
    c2s_seed, s2c_seed = b"client-to-server", b"server-to-client"
    be = servers(BulkServer(total=total, seed=s2c_seed, name="bulk"))
    fe = free_port()
    start_proxy(proxy, render(LISTEN, fe=fe, be=be.port, options=options), wait_ports=[fe])

    expected_c2s = stream_sha256(c2s_seed, total)
    expected_s2c = stream_sha256(s2c_seed, total)

    s = connect(fe, timeout=120)
    send_result = {}

    def sender():
        try:
            for b in stream_blocks(c2s_seed, total):
                s.sendall(b)
            s.shutdown(socket.SHUT_WR)
            send_result["ok"] = True
        except Exception as e:  # reported by the main thread
            send_result["error"] = repr(e)

    t = threading.Thread(target=sender, daemon=True)
    t.start()
    h = hashlib.sha256()
    got = 0
    recv_error = None
    try:
        while got <= total:
            b = s.recv(MiB)
            if not b:
                break
            got += len(b)
            h.update(b)
    except OSError as e:
        recv_error = e
    finally:
        t.join(timeout=120)
        s.close()
    if recv_error is not None and proxy.kind == "haproxy":
        # The oracle (see below): haproxy 2.6 sometimes resets this transfer
        # near its end. Sluice's runs stay strict.
        pytest.xfail(f"haproxy 2.6 reset the transfer after {got}/{total} bytes")
    if recv_error is not None:
        time.sleep(0.5)
        pytest.fail(f"client recv failed after {got}/{total} bytes: {recv_error!r}; "
                    f"client send: {send_result}; server: {be.infos}")

    be.wait_done(1, timeout=60)
    info = be.infos[0]
    state = f"client got {got}/{total}, client send: {send_result}, server: {info}"
    assert send_result.get("ok"), f"client send failed: {state}"
    assert got == total, f"client received {got} bytes, expected {total}: {state}"
    assert h.hexdigest() == expected_s2c, "server->client stream corrupted"
    assert "send_error" not in info, info
    if proxy.kind == "haproxy" and info["received"] != total:
        # The oracle, copy mode too (seen once in ~100 runs): the client's last
        # megabytes never reach the server after both sides shut down their
        # writes. Sluice's runs stay strict.
        pytest.xfail(f"haproxy 2.6 delivered {info['received']} of {total} bytes to the server")
    assert info["received"] == total, f"server received {info['received']} bytes"
    assert info["sha256"] == expected_c2s, "client->server stream corrupted"
    assert be.accepted == 1


@pytest.mark.timeout(120)
def test_many_small_concurrent_connections(proxy, start_proxy, servers):
    n = 200
    be = servers(EchoServer(name="echo", backlog=1024))
    fe = free_port()
    start_proxy(proxy, render(LISTEN, fe=fe, be=be.port, options=""), wait_ports=[fe])

    barrier = threading.Barrier(n, timeout=60)
    results: dict[int, object] = {}

    def client(i):
        msg = (b"conn-%04d:" % i) + hashlib.sha256(b"%d" % i).hexdigest().encode() * 8
        try:
            barrier.wait()
            with connect(fe, timeout=60) as s:
                s.sendall(msg)
                s.shutdown(socket.SHUT_WR)
                got = recv_all(s, limit=1 << 20, timeout=60)
            results[i] = got == msg or f"mismatch: got {len(got)} bytes"
        except Exception as e:
            results[i] = repr(e)

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=90)
    bad = {i: r for i, r in results.items() if r is not True}
    assert len(results) == n, f"only {len(results)}/{n} clients finished"
    assert not bad, f"{len(bad)} clients failed, e.g. {list(bad.items())[:5]}"
    be.wait_done(n, timeout=30)
    assert be.accepted == n
    assert not be.errors, be.errors[:5]


@pytest.mark.timeout(60)
def test_half_close_client_first(proxy, start_proxy, servers):
    """Client sends, then SHUT_WR; the server reads to EOF and only then
    replies; the client gets the whole reply, then EOF."""
    be = servers(ReadThenReplyServer(extra=300_000, name="rtr"))
    fe = free_port()
    start_proxy(proxy, render(LISTEN, fe=fe, be=be.port, options=""), wait_ports=[fe])

    payload = b"".join(stream_blocks(b"half-close", 200_000, size=65536))
    with connect(fe, timeout=30) as s:
        s.sendall(payload)
        s.shutdown(socket.SHUT_WR)
        reply = recv_all(s, limit=1 << 22, timeout=30)
    assert reply == ReadThenReplyServer.reply_for(payload, 300_000), \
        f"reply of {len(reply)} bytes differs from expected"
    be.wait_done(1)
    assert be.infos[0]["data"] == payload


@pytest.mark.timeout(60)
def test_half_close_server_first(proxy, start_proxy, servers):
    """The server sends a greeting and closes its write side first; the client
    sees the greeting then EOF, keeps sending, and the server receives it."""
    greeting = b"server-says-bye\n" * 1000
    be = servers(CloseFirstServer(greeting=greeting, name="cfs"))
    fe = free_port()
    start_proxy(proxy, render(LISTEN, fe=fe, be=be.port, options=""), wait_ports=[fe])

    later = b"".join(stream_blocks(b"after-server-fin", 150_000, size=65536))
    with connect(fe, timeout=30) as s:
        got = recv_exact(s, len(greeting), timeout=30)
        assert got == greeting
        # The server's FIN must be relayed: EOF while our side is still open.
        s.settimeout(30)
        assert s.recv(1) == b"", "expected EOF after the server closed its write side"
        s.sendall(later)
        s.shutdown(socket.SHUT_WR)
        be.wait_done(1, timeout=30)
    info = be.infos[0]
    assert "error" not in info, info
    assert info["data"] == later, f"server got {info['received']} bytes, expected {len(later)}"
