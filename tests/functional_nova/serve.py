#    Copyright 2026 gpupassthrough-osc developers
#
#    Licensed under the Apache License, Version 2.0 (the "License"); you may
#    not use this file except in compliance with the License. You may obtain
#    a copy of the License at
#
#         http://www.apache.org/licenses/LICENSE-2.0
#
#    Unless required by applicable law or agreed to in writing, software
#    distributed under the License is distributed on an "AS IS" BASIS, WITHOUT
#    WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied. See the
#    License for the specific language governing permissions and limitations
#    under the License.

"""Serve nova's compute API WSGI app on 127.0.0.1 with a threaded server.

Usage: python -m tests.functional_nova.serve CONFIG_DIR PORT
"""

import os
import socketserver
import sys
from wsgiref import simple_server


class _Server(socketserver.ThreadingMixIn, simple_server.WSGIServer):
    daemon_threads = True


class _Quiet(simple_server.WSGIRequestHandler):
    def log_message(self, *args):
        pass


def _counting(app, config_dir):
    """Log every request line, so tests can count REST calls."""
    log = os.path.join(config_dir, 'requests.log')

    def middleware(environ, start_response):
        with open(log, 'a') as f:
            f.write(f"{environ['REQUEST_METHOD']} {environ['PATH_INFO']}\n")
        return app(environ, start_response)
    return middleware


def main():
    config_dir, port = sys.argv[1], int(sys.argv[2])
    os.environ['OS_NOVA_CONFIG_DIR'] = config_dir
    # nova's wsgi_app parses sys.argv as its own command line
    sys.argv = ['nova-api-os-compute']
    from nova.wsgi import osapi_compute

    server = simple_server.make_server('127.0.0.1', port,
                                       _counting(osapi_compute.application,
                                                 config_dir),
                                       server_class=_Server,
                                       handler_class=_Quiet)
    print('serving', flush=True)
    server.serve_forever()


if __name__ == '__main__':
    main()
