#!/usr/bin/python
# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-2.0-or-later
# Copyright: numasafe contributors
"""numasafe_rebalance: plan the whole host with numa-plan rebalance, then execute the plan with
numa-migrate --plan unless in check mode or the plan moves more than max_bytes."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
---
module: numasafe_rebalance
short_description: Put every VM of a KVM host wholly on one NUMA node, fewest bytes moved
description:
  - Runs C(numa-plan rebalance --json --out FILE), which places every VM (libvirt domains and
    bare QEMU processes with named vCPU threads) wholly on one node so that each node's
    memory and vCPUs fit, moving the fewest bytes, and orders the steps so that each target
    has room when its step runs (numa-plan(8)). Then, unless in check mode, runs
    C(numa-migrate --plan FILE --json) (C(vm-pin --plan) when I(exclude_cpus) is given, so the
    excluded CPUs stay free), which executes the steps one by one - pin the VM to the node's
    CPUs, then move its memory with numa-migrate's checks - stopping at the first step that
    is refused.
  - I(max_bytes) caps what a run may move. A plan whose steps move more (the sum of the
    steps' C(bytes), parking legs included, which is at least the plan's C(bytes_moved)) is
    not executed; the task fails with C(refused=true) and C(reason=max-bytes), a reason of
    this module, not of numasafe.
  - The task is C(changed) only when a step changed something (a thread re-pinned or memory
    moved); a host already balanced plans no steps and reports C(changed=false).
  - A plan that leaves some VM unplaced or some step without a safe order (exit 4, reason
    C(unplaced)) is not executed unless I(allow_unplaced=true); the task fails with
    C(refused=true). A step refused before any step changed anything (exit 4) fails the task
    with C(refused=true) and its C(reason); a step refused after earlier steps were done
    (exit 5) fails it with C(partial=true) and C(changed=true), and C(run) lists the steps and
    how each ended. Running the task again goes on.
  - In check mode only the plan is made; C(changed) says whether it has steps, and diff mode
    shows each VM's node before and after.
version_added: 0.1.0
author: numasafe contributors (@numasafe)
options:
  reserve:
    description:
      - The headroom kept on each node above its high watermark, a size or a percentage of the
        node (C(--reserve)), for planning and for every step's move.
    type: str
  exclude_cpus:
    description:
      - CPUs reserved for the host, not counted for vCPUs and never pinned to (C(--exclude-cpus)).
    type: str
  cpu_overcommit:
    description:
      - vCPUs allowed per usable CPU of a node, 1 to 1000 (C(--cpu-overcommit)). Default is
        numa-plan's, 1 (no overcommit).
    type: float
  max_bytes:
    description:
      - The most bytes a run may move. A plan whose steps move more is not executed (the task
        fails with C(refused=true), C(reason=max-bytes)). Default is no cap.
    type: int
  allow_unplaced:
    description:
      - Execute the plan's steps even when some VM cannot be placed or some step has no safe
        order (numa-plan's exit 4, reason C(unplaced)).
    type: bool
    default: false
  bin_dir:
    description:
      - Directory holding the numasafe commands (a build tree's C(bin/), say). Default is to
        find them on C(PATH) or in C(/usr/sbin), C(/usr/local/sbin), C(/sbin), C(/usr/local/bin).
    type: path
  audit:
    description:
      - Write the audit records of every step to the system log; C(false) passes C(--no-log).
    type: bool
    default: true
notes:
  - Supports check mode (plan only) and diff mode (each VM of a step, its node before and after).
  - Runs the installed numasafe commands; the plan and every safety decision are numasafe's.
seealso:
  - module: numasafe.kvm.numasafe_facts
  - module: numasafe.kvm.numasafe_move
'''

EXAMPLES = r'''
- name: What would a rebalance do (plan only)
  numasafe.kvm.numasafe_rebalance:
  check_mode: true
  register: plan

- name: Rebalance, moving 8 GiB at most, keeping CPUs 0-1 for the host
  numasafe.kvm.numasafe_rebalance:
    max_bytes: "{{ 8 * 1024 * 1024 * 1024 }}"
    exclude_cpus: 0-1
  register: rebalance
  until: not rebalance.refused or rebalance.reason == 'max-bytes'
  retries: 3
  delay: 120
'''

RETURN = r'''
plan:
  description:
    - The C(numasafe-rebalance) plan (version 1) - C(bytes_moved), C(nodes), C(vms) (each with
      C(node_now), C(node), C(bytes_to_move) and a C(reason) when unplaced), C(steps) in
      execution order, C(unordered); null when numa-plan failed before planning.
  returned: always
  type: dict
  sample: {"version": 1, "kind": "numasafe-rebalance", "bytes_moved": 536870912, "steps": []}
run:
  description:
    - The C(numasafe-plan-run) document (version 1) of the execution - C(steps_total),
      C(steps_done) and every step that ran with its C(outcome), C(code), C(reason) and the
      C(numasafe-pin) document of its pin and move. Null in check mode and when nothing ran.
  returned: always
  type: dict
document:
  description: The last document a command printed - C(run) when the plan ran, else C(plan).
  returned: always
  type: dict
plan_bytes:
  description: Bytes the plan's steps move, parking legs included (what I(max_bytes) is compared with).
  returned: always
  type: int
  sample: 536870912
moved_total:
  description: Bytes the executed steps moved (0 in check mode).
  returned: always
  type: int
steps_done:
  description: Steps executed to the end (0 in check mode).
  returned: always
  type: int
error:
  description: The C(numasafe-error) document of a failed command (C(code), C(reason), C(message), C(result)), or null.
  returned: always
  type: dict
reason:
  description:
    - The stable keyword of a failure (numasafe(7), REASONS) - C(unplaced) for a plan that
      leaves VMs out, a step's reason (C(headroom), C(pressure), C(busy), C(stale-plan), ...)
      for a refused step - or C(max-bytes) for a plan over I(max_bytes); null on success.
  returned: always
  type: str
  sample: headroom
code:
  description: The exit code of the command that ended the run (numasafe(7), EXIT STATUS); 4 for C(max-bytes).
  returned: always
  type: int
refused:
  description: Nothing changed and retrying later may succeed (exit 4, or a plan over I(max_bytes)).
  returned: always
  type: bool
partial:
  description: The plan stopped at a step after earlier steps were done (exit 5); C(run) says which.
  returned: always
  type: bool
'''

import os

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.numasafe.kvm.plugins.module_utils.numasafe import (
    EXIT_OK, EXIT_REFUSED, common_argument_spec, finish, outcome, run_json, vm_text)


def step_moved(step):
    """Bytes a plan-run step moved."""
    pin = step.get('pin') or {}
    mem = pin.get('memory') or {}
    if mem.get('kind') != 'numasafe-move' or mem.get('outcome') == 'rolled_back':
        return 0
    return mem.get('moved_total', 0)


def step_changed(step):
    """Whether a plan-run step changed the host (threads re-pinned, weight set or memory moved)."""
    if step.get('outcome') not in ('done', 'partial'):
        return False
    pin = step.get('pin') or {}
    return bool(pin.get('changed'))


def diff_text(plan):
    now = dict(((v.get('name'), v.get('pid')), v) for v in plan.get('vms', []))
    before, after = [], []
    for s in plan.get('steps', []):
        vm = now.get((s.get('vm'), s.get('pid')), {})
        name = vm_text(dict(name=s.get('vm'), pid=s.get('pid')))
        before.append('%s: node %s' % (name, vm.get('node_now')))
        after.append('step %d: %s: node %d, %d bytes%s' % (
            s.get('step', 0), name, s.get('to', -1), s.get('bytes', 0), ' (parked)' if s.get('temporary') else ''))
    return dict(before='\n'.join(before) + '\n' if before else '', after='\n'.join(after) + '\n' if after else '')


def main():
    spec = common_argument_spec()
    spec.update(
        reserve=dict(type='str'),
        exclude_cpus=dict(type='str'),
        cpu_overcommit=dict(type='float'),
        max_bytes=dict(type='int'),
        allow_unplaced=dict(type='bool', default=False),
    )
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True)
    p = module.params
    if p['max_bytes'] is not None and p['max_bytes'] < 0:
        module.fail_json(msg='max_bytes: %d is negative' % p['max_bytes'])

    path = os.path.join(module.tmpdir, 'numasafe-plan.json')
    args = ['rebalance', '--out', path]
    if p['reserve'] is not None:
        args += ['--reserve', p['reserve']]
    if p['exclude_cpus'] is not None:
        args += ['--exclude-cpus', p['exclude_cpus']]
    if p['cpu_overcommit'] is not None:
        args += ['--cpu-overcommit', '%g' % p['cpu_overcommit']]
    planned = run_json(module, 'numa-plan', args, ['numasafe-rebalance'])
    plan = planned.document
    extra = dict(plan=plan, run=None, plan_bytes=0, moved_total=0, steps_done=0)
    if plan and plan.get('kind') == 'numasafe-rebalance':
        extra['plan_bytes'] = sum(s.get('bytes', 0) for s in plan.get('steps', []))
    else:
        plan = extra['plan'] = None
    unplaced = planned.rc == EXIT_REFUSED and planned.error.get('reason') == 'unplaced' and plan
    if planned.rc != EXIT_OK and not (unplaced and p['allow_unplaced']):
        res = outcome(planned, False)
        res.update(extra)
        finish(module, res)

    if planned.rc != EXIT_OK:
        module.warn('%s; executing the steps there are (allow_unplaced)' % planned.error.get('message'))
    steps = plan.get('steps', [])
    res = outcome(planned, bool(steps))
    # a partial plan that is executed on request is not a failure of the plan
    for k in ('failed', 'msg'):
        res.pop(k, None)
    res.update(code=EXIT_OK, reason=None, refused=False, error=None)
    res.update(extra)
    if module._diff:
        res['diff'] = diff_text(plan)
    if p['max_bytes'] is not None and extra['plan_bytes'] > p['max_bytes']:
        res.update(failed=True, changed=False, refused=True, reason='max-bytes', code=EXIT_REFUSED,
                   msg='the plan moves %d bytes, more than max_bytes (%d): not executed'
                   % (extra['plan_bytes'], p['max_bytes']))
        finish(module, res)
    if module.check_mode or not steps:
        res['changed'] = bool(steps) and module.check_mode
        finish(module, res)

    if p['exclude_cpus'] is not None:
        name, args = 'vm-pin', ['--plan', path, '--exclude-cpus', p['exclude_cpus']]
    else:
        name, args = 'numa-migrate', ['--plan', path]
    if p['reserve'] is not None:
        args += ['--reserve', p['reserve']]
    ran = run_json(module, name, args, ['numasafe-plan-run'], changes=True)
    doc = ran.document
    done = doc.get('steps', []) if doc and doc.get('kind') == 'numasafe-plan-run' else []
    res = outcome(ran, any(step_changed(s) for s in done))
    res.update(plan=plan, run=doc, plan_bytes=extra['plan_bytes'],
               moved_total=sum(step_moved(s) for s in done),
               steps_done=doc.get('steps_done', 0) if doc else 0)
    if module._diff:
        res['diff'] = diff_text(plan)
    finish(module, res)


if __name__ == '__main__':
    main()
