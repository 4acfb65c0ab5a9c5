#!/usr/bin/python
# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-2.0-or-later
# Copyright: numasafe contributors
"""numasafe_place: the node a new VM should go to, from numa-plan place --json; read-only."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
---
module: numasafe_place
short_description: Ask which NUMA node of a KVM host a new VM should go to
description:
  - Runs C(numa-plan place --vcpus N --memory SIZE --json) and returns its advice - the node
    whose headroom and vCPU cap hold a new VM of that size and whose CPU demand leaves the
    least excess, with every node's numbers and reason (a C(numasafe-place) document,
    version 1).
  - When no node fits (exit 4, reason C(no-fit)) the task fails with C(refused=true), so a
    play can try the next host or retry later; C(document) still lists every node's reason.
  - Changes nothing; the task is never C(changed).
version_added: 0.1.0
author: numasafe contributors (@numasafe)
options:
  vcpus:
    description:
      - The new VM's vCPUs.
    type: int
    required: true
  memory:
    description:
      - The new VM's memory, a size as numasafe reads sizes (C(4G), C(512M), C(1.5G)).
    type: str
    required: true
  sample:
    description:
      - Seconds over which the running VMs' CPU demand is measured (C(--sample)). Default is
        numa-plan's.
    type: float
  reserve:
    description:
      - The headroom kept on each node above its high watermark, a size or a percentage of the
        node (C(--reserve)).
    type: str
  cpu_overcommit:
    description:
      - vCPUs allowed per usable CPU of a node, 1 to 1000 (C(--cpu-overcommit)).
    type: float
  bin_dir:
    description:
      - Directory holding the numasafe commands (a build tree's C(bin/), say). Default is to
        find them on C(PATH) or in C(/usr/sbin), C(/usr/local/sbin), C(/sbin), C(/usr/local/bin).
    type: path
  audit:
    description:
      - Accepted for symmetry with the other modules; advice changes nothing and writes no
        audit record.
    type: bool
    default: true
notes:
  - Supports check mode (it changes nothing in any mode).
  - Needs a numasafe whose numa-plan has the C(place) subcommand.
seealso:
  - module: numasafe.kvm.numasafe_facts
'''

EXAMPLES = r'''
- name: Where would a 4-vCPU, 8 GiB VM go
  numasafe.kvm.numasafe_place:
    vcpus: 4
    memory: 8G
  register: place

- name: Define the domain on that node
  ansible.builtin.debug:
    msg: "numatune nodeset {{ place.node }}"
'''

RETURN = r'''
node:
  description: The node advised for the new VM; null when no node fits.
  returned: always
  type: int
  sample: 1
document:
  description:
    - The C(numasafe-place) document (version 1) - C(node) and C(nodes), each with its
      C(demand), C(capacity), C(headroom), C(vcpus), C(vcpu_cap), C(excess), C(fits) and
      C(reason). When no node fits, the error document's C(result).
  returned: always
  type: dict
  sample: {"version": 1, "kind": "numasafe-place", "node": 1, "nodes": []}
error:
  description: The C(numasafe-error) document of a failure (C(code), C(reason), C(message), C(result)), or null.
  returned: always
  type: dict
reason:
  description: The stable keyword of a failure (numasafe(7), REASONS) - C(no-fit) when no node holds the VM; null on success.
  returned: always
  type: str
  sample: no-fit
code:
  description: numa-plan's exit code (numasafe(7), EXIT STATUS).
  returned: always
  type: int
refused:
  description: No node fits the VM now (exit 4); retrying later, or another host, may succeed.
  returned: always
  type: bool
partial:
  description: Never true for this module.
  returned: always
  type: bool
'''

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.numasafe.kvm.plugins.module_utils.numasafe import (
    common_argument_spec, finish, outcome, run_json)


def main():
    spec = common_argument_spec()
    spec.update(
        vcpus=dict(type='int', required=True),
        memory=dict(type='str', required=True),
        sample=dict(type='float'),
        reserve=dict(type='str'),
        cpu_overcommit=dict(type='float'),
    )
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True)
    p = module.params

    args = ['place', '--vcpus', str(p['vcpus']), '--memory', p['memory']]
    if p['sample'] is not None:
        args += ['--sample', '%g' % p['sample']]
    if p['reserve'] is not None:
        args += ['--reserve', p['reserve']]
    if p['cpu_overcommit'] is not None:
        args += ['--cpu-overcommit', '%g' % p['cpu_overcommit']]
    run = run_json(module, 'numa-plan', args, ['numasafe-place'])
    res = outcome(run, False)
    doc = run.document
    res['node'] = doc.get('node') if run.rc == 0 and doc else None
    finish(module, res)


if __name__ == '__main__':
    main()
