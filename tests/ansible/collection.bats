#!/usr/bin/env bats
# The numasafe.kvm collection as a package: it builds with ansible-galaxy, ansible-doc renders
# every module with its options, examples and return values, the playbooks and the role parse,
# and ansible-test sanity passes (tests/ansible/sanity, offline).

load ansible

MODULES="numasafe_facts numasafe_move numasafe_pin numasafe_swapoff numasafe_rebalance numasafe_place"

setup() {
	ns_ansible_setup
}

@test "ansible-galaxy collection build: a tarball with every module, the role and the playbooks" {
	run ansible-galaxy collection build --output-path "$BATS_TEST_TMPDIR" "$NS_TOP/ansible"
	assert_success
	tarball=$BATS_TEST_TMPDIR/numasafe-kvm-$(sed -n 's/^version: //p' "$NS_TOP/ansible/galaxy.yml").tar.gz
	[ -f "$tarball" ] || fail "no $tarball: $output"
	run tar -tzf "$tarball"
	assert_success
	for m in $MODULES; do assert_line "plugins/modules/$m.py"; done
	assert_line plugins/module_utils/numasafe.py
	assert_line roles/numasafe/tasks/main.yml
	assert_line playbooks/rolling-rebalance.yml
	assert_line MANIFEST.json
	# and it installs: the installed copy lists the same modules
	run ansible-galaxy collection install -p "$BATS_TEST_TMPDIR/installed" "$tarball"
	assert_success
	run env ANSIBLE_COLLECTIONS_PATH="$BATS_TEST_TMPDIR/installed" ansible-doc -l numasafe.kvm
	assert_success
	for m in $MODULES; do assert_line --regexp "^numasafe\.kvm\.$m "; done
}

@test "ansible-doc renders every module: description, each option, examples, return values" {
	run ansible-doc -l numasafe.kvm
	assert_success
	[ "$(grep -c '^numasafe\.kvm\.' <<<"$output")" -eq 6 ] || fail "modules listed: $output"
	for m in $MODULES; do
		run ansible-doc "numasafe.kvm.$m"
		assert_success
		assert_output --partial "> NUMASAFE.KVM.$(tr '[:lower:]' '[:upper:]' <<<"$m")"
		assert_output --partial "EXAMPLES:"
		assert_output --partial "RETURN VALUES:"
		# every option of the module's argument spec is documented (and the reverse: validate-modules)
		for o in bin_dir audit; do assert_line "- $o"; done
		run ansible-doc --json "numasafe.kvm.$m"
		assert_success
		jq -e --arg m "numasafe.kvm.$m" '.[$m].doc.options | length > 2' <<<"$output" >/dev/null ||
			fail "$m: too few options in ansible-doc --json"
		jq -e --arg m "numasafe.kvm.$m" '.[$m].return | has("code") and has("reason") and has("refused") and has("error")' \
			<<<"$output" >/dev/null || fail "$m: the contract's return values are not all documented"
	done
	run ansible-doc -t role numasafe.kvm.numasafe
	assert_success
	assert_output --partial numasafe_metrics_timer
}

@test "the playbooks and the README's example pass ansible-playbook --syntax-check" {
	run ansible-playbook -i localhost, --syntax-check "$NS_TOP/ansible/playbooks/rolling-rebalance.yml"
	assert_success
	run ansible-playbook -i localhost, --syntax-check numasafe.kvm.rolling_rebalance
	assert_success
	# the README's five-line example (section Fleet)
	sed -n '/^## Fleet/,/^## /{/^    - hosts:/,/^$/p}' "$NS_TOP/README.md" | sed 's/^    //' >"$BATS_TEST_TMPDIR/fleet.yml"
	[ "$(grep -c . "$BATS_TEST_TMPDIR/fleet.yml")" -eq 5 ] || fail "README example: $(cat "$BATS_TEST_TMPDIR/fleet.yml")"
	run ansible-playbook -i kvm1, --syntax-check "$BATS_TEST_TMPDIR/fleet.yml"
	assert_success
}

@test "ansible-test sanity, offline (tests/ansible/sanity): every test ran and passed" {
	run "$NS_TOP/tests/ansible/sanity"
	echo "$output" >&3
	assert_success
	refute_line --partial "could not run"
	refute_line --regexp '^failed'
	for t in ansible-doc validate-modules pylint pep8 yamllint import compile; do
		assert_line --regexp "^passed: $t( |\$)"
	done
}
