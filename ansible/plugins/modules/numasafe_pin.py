#!/usr/bin/python
# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-2.0-or-later
# Copyright: numasafe contributors
"""numasafe_pin: a VM's vCPU, emulator and I/O threads (and optionally its memory) onto a NUMA
node's CPUs with vm-pin --json; idempotent because vm-pin reports what it changed."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
---
module: numasafe_pin
short_description: Pin a VM's threads (and optionally its memory) to a NUMA node
description:
  - Runs C(vm-pin --json) on one VM, given by its QEMU process id (I(pid)) or its libvirt
    domain name (I(domain)), to pin its vCPU and emulator threads (and with I(iothreads) its
    I/O threads) to the CPUs of the nodes in I(to), or to the CPUs in I(cpus). With I(mem) it
    also moves the VM's memory there with numa-migrate's checks (vm-pin(8)).
  - The task is C(changed) only when vm-pin changed something - threads whose CPUs changed
    (C(changed) of the C(numasafe-pin) document), the CPU weight, or memory moved. A second
    identical run reports C(changed=false).
  - A refusal (exit 4, the memory move of I(mem) refused or rolled back; the pinning is put
    back) fails the task with C(refused=true) and the contract's C(reason). A partial stop
    (exit 5) fails it with C(partial=true); the new pinning stays and C(document) says what
    moved.
  - In check mode the module runs C(vm-pin --dry-run) and reports C(changed) when threads
    would be re-pinned, the weight would change or memory would move.
version_added: 0.1.0
author: numasafe contributors (@numasafe)
options:
  pid:
    description:
      - The QEMU process id of the VM (its vCPU threads named as QEMU names them with
        C(-name NAME,debug-threads=on)). Exactly one of I(pid) and I(domain) is required.
    type: int
  domain:
    description:
      - The libvirt domain name of the VM (C(--domain)); the pinning goes through libvirt.
    type: str
  connect:
    description:
      - The libvirt URI for I(domain) (C(--connect)). Default is vm-pin's, C(qemu:///system).
    type: str
  to:
    description:
      - Pin to every CPU of these nodes, in numactl's forms (C(1), C(0,2), C(!0)). Exactly one
        of I(to) and I(cpus) is required.
    type: str
  cpus:
    description:
      - Pin to these CPUs, for example C(4-7,12).
    type: str
  vcpus:
    description:
      - Pin only these vCPUs (numbered as in the guest). Default is all.
    type: str
  emulator:
    description:
      - Pin the emulator threads too; C(false) passes C(--no-emulator).
    type: bool
    default: true
  iothreads:
    description:
      - Pin the I/O threads too (C(--iothreads)).
    type: bool
    default: false
  exclude_cpus:
    description:
      - CPUs reserved for the host, never used for the VM (C(--exclude-cpus)).
    type: str
  spread:
    description:
      - One vCPU per CPU, cores before hyperthread siblings (C(--spread)).
    type: bool
    default: false
  mem:
    description:
      - Also move the VM's memory to the node and, for a domain, its memory policy (C(--mem)).
    type: bool
    default: false
  reserve:
    description:
      - With I(mem), the headroom kept free on the target above its high watermark (C(--reserve)).
    type: str
  weight:
    description:
      - Set the VM's CPU weight in proportion to its number of vCPUs (C(--weight)).
    type: bool
    default: false
  config:
    description:
      - Also write the pinning into the libvirt domain definition (C(--config)).
    type: bool
    default: false
  bin_dir:
    description:
      - Directory holding the numasafe commands (a build tree's C(bin/), say). Default is to
        find them on C(PATH) or in C(/usr/sbin), C(/usr/local/sbin), C(/sbin), C(/usr/local/bin).
    type: path
  audit:
    description:
      - Write the audit records of the change to the system log; C(false) passes C(--no-log).
    type: bool
    default: true
notes:
  - Supports check mode (C(--dry-run)) and diff mode (each thread's CPUs before and after, the
    weight, the memory to move).
  - Runs the installed numasafe commands; it computes nothing itself.
seealso:
  - module: numasafe.kvm.numasafe_move
  - module: numasafe.kvm.numasafe_rebalance
'''

EXAMPLES = r'''
- name: Keep web1 on node 1, threads and memory, across restarts
  numasafe.kvm.numasafe_pin:
    domain: web1
    to: "1"
    mem: true
    config: true

- name: One vCPU per CPU on CPUs 8-11 for a bare QEMU
  numasafe.kvm.numasafe_pin:
    pid: 4242
    cpus: 8-11
    spread: true
'''

RETURN = r'''
document:
  description:
    - The C(numasafe-pin) document (version 2) - every thread with C(cpus_before),
      C(cpus_after) and C(changed), the count of threads changed (C(changed)), the C(weight),
      and with I(mem) the memory move's document (C(memory)). C(dry_run) is true in check
      mode. On failure, the error document's C(result), or null.
  returned: always
  type: dict
  sample: {"version": 2, "kind": "numasafe-pin", "dry_run": false, "changed": true, "threads_changed": 3, "undone": false}
threads_changed:
  description: Threads whose CPUs this run changed (would change, in check mode).
  returned: always
  type: int
  sample: 3
error:
  description: The C(numasafe-error) document of a failure (C(code), C(reason), C(message), C(result)), or null.
  returned: always
  type: dict
reason:
  description: The stable keyword of a failure (numasafe(7), REASONS), null on success.
  returned: always
  type: str
  sample: not-a-vm
code:
  description: vm-pin's exit code (numasafe(7), EXIT STATUS).
  returned: always
  type: int
refused:
  description: vm-pin refused or rolled back (exit 4); the pinning was put back, nothing changed.
  returned: always
  type: bool
partial:
  description: vm-pin stopped partway (exit 5); the new pinning stays, C(document) says what moved.
  returned: always
  type: bool
'''

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.numasafe.kvm.plugins.module_utils.numasafe import (
    common_argument_spec, finish, ids_text, outcome, run_json, target_args, vm_text)


def memory_change(mem):
    """Bytes the memory part of a pin moved, or would move in a dry run."""
    if not mem:
        return 0
    if mem.get('kind') == 'numasafe-move':
        return 0 if mem.get('outcome') == 'rolled_back' else mem.get('moved_total', 0)
    if mem.get('kind') == 'numasafe-check':
        return mem.get('move_total', 0) if mem.get('verdict') == 'safe' else 0
    return 0


def pin_changed(doc):
    """Whether a numasafe-pin document says the host changed, or, for a dry run, would."""
    if not doc or doc.get('kind') != 'numasafe-pin' or doc.get('undone'):
        return False
    if not doc.get('dry_run'):
        return bool(doc.get('changed'))
    weight = doc.get('weight') or {}
    return doc.get('threads_changed', 0) > 0 or bool(weight.get('changed')) or memory_change(doc.get('memory')) > 0


def diff_text(doc):
    before, after = ['vm: %s' % vm_text(doc.get('vm'))], ['vm: %s' % vm_text(doc.get('vm'))]
    for t in doc.get('threads', []):
        label = t.get('label', t.get('kind', '?'))
        before.append('%s: CPUs %s' % (label, ids_text(t.get('cpus_before'))))
        after.append('%s: CPUs %s' % (label, ids_text(t.get('cpus_after'))))
    weight = doc.get('weight')
    if weight:
        before.append('weight: %s' % weight.get('before'))
        after.append('weight: %s' % weight.get('after'))
    moved = memory_change(doc.get('memory'))
    if doc.get('memory'):
        before.append('memory to move: %d bytes' % moved)
        after.append('memory to move: 0 bytes')
    return dict(before='\n'.join(before) + '\n', after='\n'.join(after) + '\n')


def main():
    spec = common_argument_spec()
    spec.update(
        pid=dict(type='int'),
        domain=dict(type='str'),
        connect=dict(type='str'),
        to=dict(type='str'),
        cpus=dict(type='str'),
        vcpus=dict(type='str'),
        emulator=dict(type='bool', default=True),
        iothreads=dict(type='bool', default=False),
        exclude_cpus=dict(type='str'),
        spread=dict(type='bool', default=False),
        mem=dict(type='bool', default=False),
        reserve=dict(type='str'),
        weight=dict(type='bool', default=False),
        config=dict(type='bool', default=False),
    )
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True,
                           mutually_exclusive=[('pid', 'domain'), ('to', 'cpus')],
                           required_one_of=[('pid', 'domain'), ('to', 'cpus')],
                           required_by=dict(connect='domain', reserve='mem'))
    p = module.params

    args = target_args(module)
    if p['to'] is not None:
        args += ['--to', p['to']]
    else:
        args += ['--cpus', p['cpus']]
    for opt, flag in (('vcpus', '--vcpus'), ('exclude_cpus', '--exclude-cpus'), ('reserve', '--reserve')):
        if p[opt] is not None:
            args += [flag, p[opt]]
    for opt, flag in (('iothreads', '--iothreads'), ('spread', '--spread'), ('mem', '--mem'),
                      ('weight', '--weight'), ('config', '--config')):
        if p[opt]:
            args.append(flag)
    if not p['emulator']:
        args.append('--no-emulator')
    if module.check_mode:
        args.append('--dry-run')

    run = run_json(module, 'vm-pin', args, ['numasafe-pin'], changes=not module.check_mode)
    doc = run.document
    res = outcome(run, pin_changed(doc))
    res['threads_changed'] = doc.get('threads_changed', 0) if doc and doc.get('kind') == 'numasafe-pin' and not doc.get('undone') else 0
    if module._diff and doc and doc.get('kind') == 'numasafe-pin':
        res['diff'] = diff_text(doc)
    finish(module, res)


if __name__ == '__main__':
    main()
