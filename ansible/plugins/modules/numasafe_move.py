#!/usr/bin/python
# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-2.0-or-later
# Copyright: numasafe contributors
"""numasafe_move: one VM's memory to a node with numa-migrate --json; check mode is its
--dry-run (the preflight), a refusal is a failed task with refused=true."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
---
module: numasafe_move
short_description: Move a running VM's memory to a NUMA node without risking an OOM kill
description:
  - Runs C(numa-migrate --to NODES --json) on one VM, given by its QEMU process id (I(pid)) or
    its libvirt domain name (I(domain)). numa-migrate checks the target's headroom before
    and during the move, moves in throttled chunks and rolls back under pressure
    (numa-migrate(8)); this module only translates its exit code and JSON.
  - The task is C(changed) only when memory moved (C(moved_total) of the C(numasafe-move)
    document above 0); moving a VM that is already there reports C(changed=false).
  - A refusal (exit 4 - too little headroom, pressure, another run on the same VM, a rollback)
    fails the task with C(refused=true) and the contract's C(reason), and nothing changed, so
    C(until)/C(retries) or C(failed_when) can treat it as "retry later".
  - A partial stop (exit 5, with I(on_pressure=stop) or a second signal during a rollback)
    fails the task with C(partial=true) and C(changed=true); C(document) is the
    C(numasafe-move) account of what moved.
  - In check mode the module runs C(numa-migrate --dry-run) (the preflight, a
    C(numasafe-check) document) and reports C(changed) when there is memory to move and the
    move would be allowed; a move that would be refused fails as it would for real.
version_added: 0.1.0
author: numasafe contributors (@numasafe)
options:
  pid:
    description:
      - The QEMU process id of the VM. Exactly one of I(pid) and I(domain) is required.
    type: int
  domain:
    description:
      - The libvirt domain name of the VM (C(--domain)).
    type: str
  connect:
    description:
      - The libvirt URI for I(domain) (C(--connect)). Default is numa-migrate's, C(qemu:///system).
    type: str
  to:
    description:
      - The target node or nodes, in numactl's forms (C(1), C(0-1,3), C(all), C(!0)).
    type: str
    required: true
  from_nodes:
    description:
      - Move only the pages now on these nodes (C(--from)). Default is every node not in I(to).
    type: str
  reserve:
    description:
      - Headroom kept free on each target above its high watermark, a size or a percentage
        (C(--reserve)). Default is numa-migrate's, the larger of 256M and 2%.
    type: str
  rate:
    description:
      - Move at most this many bytes per second (C(200M)); C(0) or C(unlimited) is no limit.
    type: str
  max_psi:
    description:
      - The memory pressure (PSI some avg10, percent) above which the move pauses (C(--max-psi)).
    type: float
  psi_grace:
    description:
      - Seconds the pressure may stay above I(max_psi) before the move stops (C(--psi-grace)).
    type: float
  on_pressure:
    description:
      - What happens to the pages already moved when the move stops - C(rollback) puts them
        back (exit 4, a refusal), C(stop) leaves them (exit 5, a partial stop).
    type: str
    choices: [rollback, stop]
  jobs:
    description:
      - C(move_pages) calls in flight at once, 1 to 16 (C(--jobs)).
    type: int
  chunk:
    description:
      - A fixed number of pages per C(move_pages) call instead of the adaptive size (C(--chunk)).
    type: int
  all_shared:
    description:
      - Also move pages other processes map (C(--all-shared); needs CAP_SYS_NICE).
    type: bool
    default: false
  bin_dir:
    description:
      - Directory holding the numasafe commands (a build tree's C(bin/), say). Default is to
        find them on C(PATH) or in C(/usr/sbin), C(/usr/local/sbin), C(/sbin), C(/usr/local/bin).
    type: path
  audit:
    description:
      - Write the audit records of the move to the system log (numasafe(7), AUDIT RECORDS).
        C(false) passes C(--no-log).
    type: bool
    default: true
notes:
  - Supports check mode (C(--dry-run)) and diff mode (the bytes on the target nodes and still
    to move, before and after).
  - Runs the installed numasafe commands; every safety decision is numa-migrate's.
seealso:
  - module: numasafe.kvm.numasafe_pin
  - module: numasafe.kvm.numasafe_rebalance
'''

EXAMPLES = r'''
- name: Move web1's memory to node 1, 200 MiB/s at most
  numasafe.kvm.numasafe_move:
    domain: web1
    to: "1"
    rate: 200M

- name: Move a bare QEMU; retry while the node lacks headroom or the host is under pressure
  numasafe.kvm.numasafe_move:
    pid: 4242
    to: "0"
  register: move
  until: not move.refused
  retries: 5
  delay: 60

- name: Try once; a refusal is not an error here
  numasafe.kvm.numasafe_move:
    domain: web2
    to: "1"
  register: move
  failed_when: move.failed and not move.refused
'''

RETURN = r'''
document:
  description:
    - The command's own document. After a move, the C(numasafe-move) document (version 2;
      C(moved_total), C(outcome), C(pages), C(rollback), the preflight as C(check)). In check
      mode, the C(numasafe-check) document of the dry run. On failure, the error document's
      C(result) - the document as far as numa-migrate got (the C(numasafe-check) of a refused
      preflight, the C(numasafe-move) account of a rolled-back or partial move) - or null.
  returned: always
  type: dict
  sample: {"version": 2, "kind": "numasafe-move", "outcome": "done", "moved_total": 536870912}
moved_total:
  description: Bytes moved by this run (0 in check mode and when nothing moved).
  returned: always
  type: int
  sample: 536870912
error:
  description: The C(numasafe-error) document of a failure (C(code), C(reason), C(message), C(result)), or null.
  returned: always
  type: dict
reason:
  description:
    - The stable keyword of a failure (numasafe(7), REASONS), such as C(headroom), C(pressure),
      C(busy), C(signal), C(no-such-process), C(not-allowed); null on success.
  returned: always
  type: str
  sample: headroom
code:
  description: numa-migrate's exit code (numasafe(7), EXIT STATUS).
  returned: always
  type: int
refused:
  description: numa-migrate refused or rolled back (exit 4); nothing changed, retrying later may succeed.
  returned: always
  type: bool
partial:
  description: numa-migrate stopped partway (exit 5); C(document) says what moved.
  returned: always
  type: bool
'''

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.numasafe.kvm.plugins.module_utils.numasafe import (
    common_argument_spec, finish, kinds_total, outcome, run_json, target_args, vm_text)


def moved(doc):
    """Bytes a numasafe-move document says moved (and stayed moved)."""
    if not doc or doc.get('kind') != 'numasafe-move':
        return 0
    if doc.get('outcome') == 'rolled_back':
        return 0
    return doc.get('moved_total', 0)


def diff_text(check, to, after_moved):
    on_target = kinds_total(check.get('on_target'))
    to_move = check.get('move_total', 0)
    before = 'vm: %s\non nodes %s: %d bytes\nto move: %d bytes\n' % (vm_text(check.get('vm')), to, on_target, to_move)
    after = 'vm: %s\non nodes %s: %d bytes\nto move: %d bytes\n' % (
        vm_text(check.get('vm')), to, on_target + after_moved, max(to_move - after_moved, 0))
    return dict(before=before, after=after)


def main():
    spec = common_argument_spec()
    spec.update(
        pid=dict(type='int'),
        domain=dict(type='str'),
        connect=dict(type='str'),
        to=dict(type='str', required=True),
        from_nodes=dict(type='str'),
        reserve=dict(type='str'),
        rate=dict(type='str'),
        max_psi=dict(type='float'),
        psi_grace=dict(type='float'),
        on_pressure=dict(type='str', choices=['rollback', 'stop']),
        jobs=dict(type='int'),
        chunk=dict(type='int'),
        all_shared=dict(type='bool', default=False),
    )
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True,
                           mutually_exclusive=[('pid', 'domain')],
                           required_one_of=[('pid', 'domain')],
                           required_by=dict(connect='domain'))
    p = module.params

    args = ['--to', p['to']]
    for opt, flag in (('from_nodes', '--from'), ('reserve', '--reserve'), ('rate', '--rate'),
                      ('on_pressure', '--on-pressure')):
        if p[opt] is not None:
            args += [flag, p[opt]]
    for opt, flag in (('max_psi', '--max-psi'), ('psi_grace', '--psi-grace')):
        if p[opt] is not None:
            args += [flag, '%g' % p[opt]]
    for opt, flag in (('jobs', '--jobs'), ('chunk', '--chunk')):
        if p[opt] is not None:
            args += [flag, str(p[opt])]
    if p['all_shared']:
        args.append('--all-shared')
    if module.check_mode:
        args.append('--dry-run')
    args += target_args(module)

    kinds = ['numasafe-check'] if module.check_mode else ['numasafe-move']
    run = run_json(module, 'numa-migrate', args, kinds, changes=not module.check_mode)
    doc = run.document
    if module.check_mode:
        check = doc if doc and doc.get('kind') == 'numasafe-check' else None
        would = bool(check) and check.get('verdict') == 'safe' and check.get('move_total', 0) > 0
        res = outcome(run, would)
        res['moved_total'] = 0
        if module._diff and check:
            res['diff'] = diff_text(check, p['to'], check.get('move_total', 0) if would else 0)
    else:
        res = outcome(run, moved(doc) > 0)
        res['moved_total'] = moved(doc)
        if module._diff and doc and doc.get('kind') == 'numasafe-move':
            res['diff'] = diff_text(doc.get('check') or {}, p['to'], moved(doc))
    finish(module, res)


if __name__ == '__main__':
    main()
