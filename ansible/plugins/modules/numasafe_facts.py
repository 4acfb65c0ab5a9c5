#!/usr/bin/python
# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-2.0-or-later
# Copyright: numasafe contributors
"""numasafe_facts: the host's NUMA memory, VMs and (optionally) steal as ansible_facts.numasafe,
from numa-plan show (and numa-plan steal) with --json."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
---
module: numasafe_facts
short_description: Gather a KVM host's NUMA memory, VMs and vCPU steal
description:
  - Runs C(numa-plan show --json) and, with I(steal=true), C(numa-plan steal --json) over a
    window, and sets C(ansible_facts.numasafe) from their documents, unchanged.
  - C(show) is the host as numa-plan sees it (a C(numasafe-show) document, version 2) - every
    node's CPUs, memory, watermarks, reserve and headroom, swap areas, memory pressure and every
    VM with its memory per node and locality.
  - C(steal) is the run-queue wait of every VM's vCPU threads over I(steal_interval) seconds
    and its likely causes (a C(numasafe-steal) document, version 2), or null without
    I(steal=true).
  - The documents and their fields are described in numasafe(7) and numa-plan(8); their JSON
    Schemas are installed in C(/usr/share/numasafe/schema/).
version_added: 0.1.0
author: numasafe contributors (@numasafe)
options:
  reserve:
    description:
      - The headroom reserve kept on each node above its high watermark, as a size (C(512M),
        C(2G)) or a percentage of the node (C(5%)); passed as C(--reserve).
      - Default is numa-plan's, the larger of 256M and 2%.
    type: str
  steal:
    description:
      - Also measure steal with C(numa-plan steal). The module then takes I(steal_interval)
        seconds.
    type: bool
    default: false
  steal_interval:
    description:
      - How long steal is measured, in seconds (0.01 to 3600).
    type: float
    default: 1.0
  swap_types:
    description:
      - Establish each swap area's pagemap type (C(--swap-types); needs CAP_SYS_ADMIN).
    type: bool
    default: false
  bin_dir:
    description:
      - Directory holding the numasafe commands (a build tree's C(bin/), say). Default is to
        find them on C(PATH) or in C(/usr/sbin), C(/usr/local/sbin), C(/sbin), C(/usr/local/bin).
    type: path
  audit:
    description:
      - Accepted for symmetry with the other modules; gathering facts changes nothing and writes
        no audit record.
    type: bool
    default: true
notes:
  - Supports check mode (it changes nothing in any mode).
  - Runs the installed numasafe commands; it computes nothing itself.
seealso:
  - module: numasafe.kvm.numasafe_rebalance
  - module: numasafe.kvm.numasafe_place
'''

EXAMPLES = r'''
- name: Gather NUMA facts
  numasafe.kvm.numasafe_facts:

- name: Headroom of every node
  ansible.builtin.debug:
    msg: "{{ ansible_facts.numasafe.show.nodes | items2dict(key_name='node', value_name='headroom') }}"

- name: Measure steal over two seconds too
  numasafe.kvm.numasafe_facts:
    steal: true
    steal_interval: 2

- name: Hosts whose vCPUs wait on a busy host
  ansible.builtin.debug:
    msg: "{{ inventory_hostname }} is short of CPUs"
  when: ansible_facts.numasafe.steal.classification == 'busy'
'''

RETURN = r'''
ansible_facts:
  description: Facts set by the module.
  returned: always
  type: dict
  contains:
    numasafe:
      description: The documents numa-plan printed.
      returned: success
      type: dict
      contains:
        show:
          description: The C(numasafe-show) document (version 2) of C(numa-plan show --json).
          returned: success
          type: dict
          sample: {"version": 2, "kind": "numasafe-show", "nodes": [{"node": 0, "headroom": 5670522880}]}
        steal:
          description: The C(numasafe-steal) document (version 2) of C(numa-plan steal --json), or null without I(steal=true).
          returned: success
          type: dict
          sample: {"version": 2, "kind": "numasafe-steal", "classification": "none", "vms": []}
document:
  description: The C(numasafe-show) document (the same as C(ansible_facts.numasafe.show)), or null on failure.
  returned: always
  type: dict
error:
  description: The C(numasafe-error) document of a failed command (C(code), C(reason), C(message)), or null.
  returned: always
  type: dict
reason:
  description: The stable keyword of a failure (numasafe(7), REASONS), or null.
  returned: always
  type: str
  sample: unsupported
code:
  description: The command's exit code (numasafe(7), EXIT STATUS).
  returned: always
  type: int
refused:
  description: The command refused (exit 4); never true for this module.
  returned: always
  type: bool
partial:
  description: The command stopped partway (exit 5); never true for this module.
  returned: always
  type: bool
'''

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.numasafe.kvm.plugins.module_utils.numasafe import (
    EXIT_OK, common_argument_spec, finish, outcome, run_json)


def main():
    spec = common_argument_spec()
    spec.update(
        reserve=dict(type='str'),
        steal=dict(type='bool', default=False),
        steal_interval=dict(type='float', default=1.0),
        swap_types=dict(type='bool', default=False),
    )
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True)
    p = module.params

    args = ['show']
    if p['reserve']:
        args += ['--reserve', p['reserve']]
    if p['swap_types']:
        args.append('--swap-types')
    show = run_json(module, 'numa-plan', args, ['numasafe-show'])
    if show.rc != EXIT_OK:
        finish(module, outcome(show, False))
    steal = None
    if p['steal']:
        st = run_json(module, 'numa-plan', ['steal', '--interval', '%g' % p['steal_interval']], ['numasafe-steal'])
        if st.rc != EXIT_OK:
            finish(module, outcome(st, False))
        steal = st.doc
    res = outcome(show, False)
    res['ansible_facts'] = dict(numasafe=dict(show=show.doc, steal=steal))
    finish(module, res)


if __name__ == '__main__':
    main()
