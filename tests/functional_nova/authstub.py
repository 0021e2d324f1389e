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

"""A paste filter standing in for keystonemiddleware's authtoken.

Nova 34 has no noauth2 any more. Like nova's own functional tests, we
replace the authtoken filter: an ``X-Auth-Token`` of ``user:project``
becomes the headers authtoken would set, so nova's real context and
policy code run on them. ``admin`` gets the admin role.
"""


def filter_factory(global_conf, **local_conf):
    def make_filter(app):
        def middleware(environ, start_response):
            token = environ.get('HTTP_X_AUTH_TOKEN', '')
            user, _, project = token.partition(':')
            if not user or not project:
                start_response('401 Unauthorized',
                               [('Content-Type', 'text/plain')])
                return [b'X-Auth-Token must be user:project\n']
            roles = 'admin,member,reader' if user == 'admin' else \
                'member,reader'
            environ.update({
                'HTTP_X_IDENTITY_STATUS': 'Confirmed',
                'HTTP_X_USER_ID': user, 'HTTP_X_USER_NAME': user,
                'HTTP_X_PROJECT_ID': project,
                'HTTP_X_PROJECT_NAME': project,
                'HTTP_X_ROLES': roles,
                'HTTP_X_USER_DOMAIN_ID': 'default',
                'HTTP_X_PROJECT_DOMAIN_ID': 'default',
            })
            return app(environ, start_response)
        return middleware
    return make_filter
