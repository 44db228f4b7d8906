"""Serves moto (the local S3 of the tests) on a free loopback port; see moto.ts.

Prints the port on the first line of stdout, then serves until stdin reaches its end: when
the test process closes the pipe, or exits or dies, the server goes with it, so no server is
left behind. Extra arguments are ignored. Request logging is off (werkzeug logs warnings).
"""

import logging
import sys

from moto.server import ThreadedMotoServer

logging.getLogger("werkzeug").setLevel(logging.WARNING)
server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
server.start()
print(server.get_host_and_port()[1], flush=True)
sys.stdin.read()
server.stop()
