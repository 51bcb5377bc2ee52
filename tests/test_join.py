"""Joining a class, without a network: which addresses the join lines name, what the presenter's simulator
is told, the join screen's parts, and the browser door's options checked at the command line."""

from __future__ import annotations

import ipaddress

import pytest

from appkit import start_at
from knobtui.cli import main
from knobtui.presenter.protocol import LinkConfig
from knobtui.wire import JOIN_ENV, Followers, JoinInfo
from knobtui.serve.join import Door, interface_addresses, join_info, join_lines, reachable_hosts
from knobtui.serve.web import origin_of, proxy_networks
from knobtui.tui.screens.join import address_of, big_text, qr_lines

MACHINE = ["127.0.0.1", "10.1.2.3", "::1", "fe80::1", "2001:db8::5", "192.168.7.9", "not an address"]


class TestReachable:
    def test_a_wildcard_is_never_an_address(self) -> None:
        """0.0.0.0: every IPv4 address but loopback; ::, the IPv6 ones but loopback and link-local; '' both."""
        assert reachable_hosts("0.0.0.0", MACHINE) == ["10.1.2.3", "192.168.7.9"]
        assert reachable_hosts("::", MACHINE) == ["2001:db8::5"]
        assert reachable_hosts("", MACHINE) == ["10.1.2.3", "192.168.7.9", "2001:db8::5"]

    def test_an_address_given_is_the_address(self) -> None:
        assert reachable_hosts("10.1.2.3", MACHINE) == ["10.1.2.3"]
        assert reachable_hosts("127.0.0.1", MACHINE) == ["127.0.0.1"]

    def test_a_machine_with_loopback_only(self) -> None:
        assert reachable_hosts("0.0.0.0", ["127.0.0.1"]) == ["127.0.0.1"]
        assert reachable_hosts("::", ["::1"]) == ["::1"]

    def test_this_machines_interfaces_are_read(self) -> None:
        assert "127.0.0.1" in interface_addresses()  # lo is always up
        hosts = reachable_hosts("0.0.0.0")
        assert hosts and all(ipaddress.ip_address(h).version == 4 for h in hosts)
        assert hosts == ["127.0.0.1"] or not any(ipaddress.ip_address(h).is_loopback for h in hosts)


class TestJoinLines:
    def test_both_doors_every_address(self) -> None:
        info = join_info("", [Door("ssh", 2295, fingerprint="SHA256:abc"), Door("web", 8095)], addresses=MACHINE)
        assert join_lines(info) == [
            "join by SSH: ssh -p 2295 yourname@10.1.2.3  (host key SHA256:abc)",
            "join by SSH: ssh -p 2295 yourname@192.168.7.9  (host key SHA256:abc)",
            "join by SSH: ssh -p 2295 yourname@2001:db8::5  (host key SHA256:abc)",
            "join in a browser: http://10.1.2.3:8095/",
            "join in a browser: http://192.168.7.9:8095/",
            "join in a browser: http://[2001:db8::5]:8095/",
        ]

    def test_https_a_proxy_url_and_loopback(self) -> None:
        assert join_info("10.1.2.3", [Door("web", 8443, secure=True)]).urls == ("https://10.1.2.3:8443/",)
        behind = join_info("127.0.0.1", [Door("web", 8095)], web_url="https://knobtui.school.example/")
        assert behind.urls == ("https://knobtui.school.example/",)
        assert join_lines(behind)[-1] == "only this machine can come in; --host 0.0.0.0 lets the room in"

    def test_the_presenters_simulator_gets_it_whole(self) -> None:
        info = join_info("", [Door("ssh", 2295, fingerprint="SHA256:abc"), Door("web", 8095)], addresses=MACHINE)
        assert JoinInfo.from_env({JOIN_ENV: info.to_env()}) == info
        for bad in ("", "[1]", '{"ssh": "x", "urls": []}', '{"ssh": [1], "urls": []}', "{"):
            assert JoinInfo.from_env({JOIN_ENV: bad}) is None


class TestJoinScreenParts:
    def test_big_figures(self) -> None:
        """Three rows, as wide as the figures; a host name's letters have none."""
        for ascii in (False, True):
            rows = big_text("10.1.2.3:8095", ascii)
            assert rows is not None and len(rows) == 3
        assert big_text("knobtui.example", False) is None
        assert big_text("1", True) == ["", "  |", "  |"]

    def test_the_address_to_type(self) -> None:
        assert address_of(JoinInfo(urls=("http://10.1.2.3:8095/",))) == "10.1.2.3:8095"
        assert address_of(JoinInfo(ssh=("ssh -p 2222 yourname@10.1.2.3",))) == "10.1.2.3"

    def test_the_qr_code_is_square_on_tall_cells(self) -> None:
        """Half blocks: a row of cells holds two rows of modules; ASCII: two columns a module."""
        blocks, ascii = qr_lines("http://10.1.2.3:8095/"), qr_lines("http://10.1.2.3:8095/", ascii=True)
        assert blocks[0].cell_len == len(ascii) and len(blocks) == (len(ascii) + 1) // 2
        assert ascii[0].cell_len == 2 * len(ascii)
        assert set("".join(t.plain for t in ascii)) <= {"#", " "}
        assert set("".join(t.plain for t in blocks)) <= set(" ▀▄█")
        large = qr_lines("http://10.1.2.3:8095/", large=True)
        assert [t.cell_len for t in large] == [t.cell_len for t in ascii] and len(large) == len(ascii)
        assert set("".join(t.plain for t in large)) <= {"█", " "}


class TestJoinKey:
    async def test_j_opens_and_closes_it_and_the_count_is_live(self) -> None:
        from knobtui.tui.app import KnobApp
        from knobtui.tui.screens.join import JoinScreen
        app = KnobApp(start_at("gradient"), link=LinkConfig("/nonexistent/relay.sock", "presenter", "token"))
        async with app.run_test(size=(100, 30)) as pilot:
            app.presenting.join = JoinInfo(urls=("http://10.1.2.3:8095/",))
            await pilot.press("j")
            await pilot.pause()
            assert isinstance(app.screen, JoinScreen)
            app.presenting.on_message(Followers(n=7))
            await pilot.pause()
            assert "7 following" in str(app.screen.query_one("#join-count").render())
            await pilot.press("space")  # the presenter's keys wait behind it
            await pilot.press("escape")
            await pilot.pause()
            assert not isinstance(app.screen, JoinScreen) and app.session.iteration == 0
            await pilot.press("j", "j")
            await pilot.pause()
            assert not isinstance(app.screen, JoinScreen)

    async def test_without_serve_it_says_whose_it_is(self) -> None:
        from knobtui.tui.app import KnobApp
        app = KnobApp(start_at("gradient"))
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.press("j")
            await pilot.pause()
            assert "the join screen is the presenter's" in app.stage.note[0]


class TestWebOptions:
    def test_origins(self) -> None:
        assert origin_of("https://Knobtui.School.example") == ("https", "knobtui.school.example", 443)
        assert origin_of("ws://10.1.2.3:8095/ws") == ("http", "10.1.2.3", 8095)
        assert origin_of("http://[::1]:80") == ("http", "::1", 80)
        for bad in ("null", "", "file:///x", "/path", "knobtui.example"):
            assert origin_of(bad) is None

    def test_proxies(self) -> None:
        assert [str(n) for n in proxy_networks(("127.0.0.1", "10.0.0.0/8"))] == ["127.0.0.1/32", "10.0.0.0/8"]
        with pytest.raises(ValueError, match="'caddy'"):
            proxy_networks(("caddy",))

    @pytest.mark.parametrize("args, message", [
        (["--web-cert", "c.pem"], "web-cert: there is no browser door without --web-port"),
        (["--web-proxy", "127.0.0.1"], "web-proxy: there is no browser door without --web-port"),
        (["--web-port", "0", "--web-cert", "c.pem"], "web-cert: --web-cert and --web-key go together"),
        (["--web-port", "0", "--web-cert", "/nonexistent/c.pem", "--web-key", "/nonexistent/k.pem"],
         "web-cert: no such file: /nonexistent/c.pem"),
        (["--web-port", "0", "--web-proxy", "caddy"], "web-proxy: 'caddy' is not an IP address or network"),
        (["--web-port", "0", "--web-origin", "null"], "web-origin: 'null' is not an origin"),
        (["--web-port", "0", "--web-url", "knobtui"], "web-url: 'knobtui' is not a URL"),
    ])
    def test_bad_options_are_one_line(self, capsys: pytest.CaptureFixture[str], args: list[str], message: str) -> None:
        assert main(["serve", *args]) == 2
        err = capsys.readouterr().err
        assert err.startswith(f"knobtui serve: {message}") and err.count("\n") == 1, err

    def test_a_certificate_that_is_not_one(self, tmp_path, capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[no-untyped-def]
        junk = tmp_path / "junk.pem"
        junk.write_text("not a certificate\n")
        assert main(["serve", "--web-port", "0", "--web-cert", str(junk), "--web-key", str(junk)]) == 2
        assert f"cannot use the certificate {junk} with the key {junk}" in capsys.readouterr().err
