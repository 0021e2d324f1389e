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

"""Put nova's api-paste.ini where nova's functional fixtures look for it.

nova's test ConfFixture points ``[wsgi] api_paste_config`` at
``$state_path/etc/nova/api-paste.ini`` and state_path defaults to the
directory above the nova package (site-packages); the wheel installs the
file under ``<venv>/etc/nova/`` instead. Run inside the tox env.
"""

import os
import shutil
import sys
import sysconfig

source = os.path.join(sys.prefix, 'etc', 'nova', 'api-paste.ini')
target_dir = os.path.join(sysconfig.get_paths()['purelib'], 'etc', 'nova')
os.makedirs(target_dir, exist_ok=True)
shutil.copyfile(source, os.path.join(target_dir, 'api-paste.ini'))
