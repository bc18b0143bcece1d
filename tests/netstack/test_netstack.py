"""QEMU proof of the network stack: two netstack instances on a virtual
wire (tests/guest/nicwire), a test server holding only a TcpListenAuthority
and a test client (tests/guest/nettest) that checks bulk transfer both
ways, half-close, RST, 20 concurrent connections, UDP, the authority's
refusals, and that nothing is left held afterwards."""
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from capos_qemu import Checks, boot_package, run_guest, scratch  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ERR = {"none": 0, "connectionReset": 5, "authorityUsed": 10, "portNotGranted": 11}


def main():
    pkg = boot_package(os.path.join(HERE, "netstack.manifest"), scratch("capos-netstack-"))
    status, out = run_guest("", timeout=600, pkg=pkg)
    c = Checks("netstack")
    c.check("both stacks came up", len(re.findall(r"^netstack: up, 10\.0\.0\.[12]", out, re.M)) == 2)
    c.check("a second listen on the TcpListenAuthority is refused with authorityUsed",
            f"server second listen: error {ERR['authorityUsed']}" in out)
    c.check("a listen on another port is refused with portNotGranted",
            f"server other port: error {ERR['portNotGranted']}" in out)
    c.check("the server received 1 MiB byte-exact", "server bulk in 1048576 bytes, hash match" in out)
    c.check("the server sent 1 MiB back after the client's half-close", "server bulk out error 0" in out)
    c.check("the server served 20 concurrent connections", "server echoed 20 connections" in out)
    c.check("the server's recv learned the client's RST",
            f"server rst: error {ERR['connectionReset']}" in out)
    for line in re.findall(r"^nettest: (?:ok|FAIL) .*$", out, re.M):
        c.check("client: " + line.split(" ", 2)[2], line.startswith("nettest: ok"))
    c.check("the client passed and powered the guest off", "nettest: PASS" in out and status == 1, f"status {status}")
    c.done(out)


if __name__ == "__main__":
    main()
