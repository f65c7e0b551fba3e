#!/usr/bin/env bash
# `make test-terraform`: format, README/pass-through drift, init + validate (module, root, every
# example), terraform test (mocked AWS), committed tfvars per workspace, checkov on the module,
# tflint where installed. Prints a timing line per step.
set -euo pipefail
cd "$(dirname "$0")/../.."

TF=.venv/bin/terraform
CHECKOV=.venv-tools/bin/checkov
MODULE=modules/rds-snapshot-manager
LOG_DIR=.tools/terraform/logs
mkdir -p "$LOG_DIR"
# Tests and guards assume the workspace Terraform picks by itself ("default").
unset TF_WORKSPACE

step_started=0
microseconds() { echo "${EPOCHREALTIME/./}"; }
start() { step_started=$(microseconds); printf '== %s\n' "$1"; }
done_step() {
  local elapsed=$(($(microseconds) - step_started))
  printf '   ok: %s (%d.%d s)\n' "$1" $((elapsed / 1000000)) $((elapsed % 1000000 / 100000))
}

# Shows a step's log only when it fails, so a green run stays short.
run_logged() {
  local log=$1
  shift
  if ! "$@" >"$log" 2>&1; then
    cat "$log"
    echo "FAILED: $*" >&2
    exit 1
  fi
}

start "terraform fmt -check -recursive"
$TF fmt -check -recursive -diff
done_step "fmt"

start "README tables and pass-through variables match the module"
.venv/bin/python tools/terraform/module_docs.py --check
done_step "module docs"

for dir in "$MODULE" . examples/*/; do
  dir=${dir%/}
  start "init + validate: $dir"
  log_name=${dir//\//_}
  # The root also installs the modules its test files call.
  test_dir_arg=()
  [[ $dir == . ]] && test_dir_arg=(-test-directory=tests/terraform)
  run_logged "$LOG_DIR/init-$log_name.log" $TF -chdir="$dir" init -input=false -backend=false -no-color "${test_dir_arg[@]}"
  $TF -chdir="$dir" validate -no-color
  done_step "validate $dir"
done

start "terraform test (mock_provider \"aws\"), one process per file"
# Terraform before 1.12 runs test files one after another; files share nothing, so run them side
# by side, each with its own log.
export TF
find tests/terraform -maxdepth 1 -name '*.tftest.hcl' -printf '%f\n' | sort \
  | xargs -P "$(nproc)" -I{} sh -c \
    '$TF test -test-directory=tests/terraform -filter=tests/terraform/{} -no-color >'"$LOG_DIR"'/test-{}.log 2>&1' \
  || true
test_runs=0
test_failed=0
for log in "$LOG_DIR"/test-*.tftest.hcl.log; do
  if grep -q '^Success!' "$log"; then
    printf '   %s: %s\n' "${log#"$LOG_DIR"/test-}" "$(grep '^Success!' "$log")"
  else
    cat "$log"
    test_failed=1
  fi
  test_runs=$((test_runs + $(grep -cE '^\s+run ".*"\.\.\. pass' "$log" || true)))
done
((test_failed == 0)) || { echo "FAILED: terraform test" >&2; exit 1; }
done_step "terraform test: $test_runs runs passed"

start "committed envs/*.tfvars, each in its own workspace (TF_WORKSPACE)"
env_files=(envs/*.tfvars)
# Provider 3.39 (the offline mirror) rejects newer runtimes client-side; the tfvars keep the default,
# and allow_emulator_runtime lets the module accept python3.8 here.
offline_runtime=(-var=lambda_runtime=python3.8 -var=allow_emulator_runtime=true)
for tfvars in "${env_files[@]}"; do
  workspace=$(basename "$tfvars" .tfvars)
  log="$LOG_DIR/envs-$workspace.log"
  if ! TF_WORKSPACE=$workspace $TF test -test-directory=tests/terraform/envs -var-file="$tfvars" \
      "${offline_runtime[@]}" -no-color >"$log" 2>&1; then
    cat "$log"
    echo "FAILED: $tfvars in workspace $workspace" >&2
    exit 1
  fi
  test_runs=$((test_runs + 1))
done
# And the guard, end to end: the first environment's settings in the next one's workspace.
if ((${#env_files[@]} > 1)); then
  log="$LOG_DIR/envs-mismatch.log"
  wrong_workspace=$(basename "${env_files[1]}" .tfvars)
  if TF_WORKSPACE=$wrong_workspace $TF test -test-directory=tests/terraform/envs \
      -var-file="${env_files[0]}" "${offline_runtime[@]}" -no-color >"$log" 2>&1 \
      || ! grep -q 'These settings are for environment' "$log"; then
    cat "$log"
    echo "FAILED: ${env_files[0]} was not refused in workspace $wrong_workspace" >&2
    exit 1
  fi
  echo "   ${env_files[0]} refused in workspace $wrong_workspace, as it must be"
fi
done_step "envs: ${#env_files[@]} tfvars planned in their workspaces; $test_runs terraform test runs in all"

start "checkov on $MODULE"
checkov_report="$LOG_DIR/checkov.json"
# --skip-download: no policy download from the vendor's platform (offline, and deterministic).
checkov_rc=0
$CHECKOV --directory "$MODULE" --framework terraform --skip-download --output json \
  >"$checkov_report" 2>"$LOG_DIR/checkov.stderr" || checkov_rc=$?
.venv-tools/bin/python tools/terraform/checkov_summary.py "$checkov_report"
if ((checkov_rc != 0)); then
  echo "FAILED: checkov (exit $checkov_rc)" >&2
  exit 1
fi
done_step "checkov"

if command -v tflint >/dev/null 2>&1; then
  start "tflint (.tflint.hcl)"
  tflint --init --config="$PWD/.tflint.hcl"
  tflint --recursive --config="$PWD/.tflint.hcl"
  done_step "tflint"
else
  echo "SKIPPED: tflint not installed (it is in no registry reachable here); .tflint.hcl is for users' pipelines."
fi
