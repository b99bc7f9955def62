"""Benchmark: Atmos affected detection on a 2,000-stack repository, < 1 s.

Generates a git repository with 100 components (each a folder with a
terraform_data resource; every tenth sources a shared local module), 100
catalog files (one per component), 10 region mixins, 20 tenant defaults (each
importing 10 catalog files), 200 tenant/stage defaults and 2,000 top-level
stacks `orgs/t<NN>/<stage>/<region>.yaml`. Imports are three levels deep:
stack -> stage defaults -> tenant defaults -> catalog. Every stack deploys 10
components, so each ref has 20,000 component instances, named by the Go
template `{{ .vars.tenant }}-{{ .vars.environment }}-{{ .vars.stage }}`.

Then times `local_change()` (what `atlantis-py affected` runs: a scratch worktree, two GitTrees, git
diff, merge of both refs, comparison) for a one-line catalog change, a
one-component change and a module change, cold (new StackCache, as the CLI)
and warm (the cache a server keeps per repository).

    .venv/bin/python bench/affected.py [--repeat 3] [--json] [--no-check]
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from atlantis_py.cli.affected import local_change
from atlantis_py.flows.detection import Detector

TARGET_S = 1.0
TENANTS, STAGES, REGIONS, COMPONENTS = 20, 10, 10, 100
PER_TENANT = 10
ATMOS_YAML = """\
components:
  terraform:
    base_path: components/terraform
stacks:
  base_path: stacks
  included_paths: ["orgs/**/*"]
  excluded_paths: ["**/_defaults.yaml"]
  name_template: "{{ .vars.tenant }}-{{ .vars.environment }}-{{ .vars.stage }}"
"""


def tenant_components(t: int) -> list[int]:
    """Each component is deployed by exactly two tenants."""
    return [(t * 5 + i) % COMPONENTS for i in range(PER_TENANT)]


def files() -> dict[str, str]:
    out = {"atmos.yaml": ATMOS_YAML,
           "modules/shared/main.tf": 'variable "name" {}\noutput "name" { value = var.name }\n'}
    for c in range(COMPONENTS):
        body = f'resource "terraform_data" "c{c:03d}" {{\n  input = var.name\n}}\n' \
               'variable "name" {}\nvariable "size" {}\n'
        if c % 10 == 0:
            body += 'module "shared" {\n  source = "../../../modules/shared"\n' \
                    '  name   = var.name\n}\n'
        out[f"components/terraform/c{c:03d}/main.tf"] = body
        out[f"stacks/catalog/c{c:03d}.yaml"] = (
            f"components:\n  terraform:\n    c{c:03d}:\n      metadata:\n"
            f"        component: c{c:03d}\n      vars:\n        name: c{c:03d}\n"
            f"        size: {c}\n      settings:\n        spacelift:\n          workspace_enabled: true\n")
    for r in range(REGIONS):
        out[f"stacks/mixins/region/r{r}.yaml"] = (
            f"vars:\n  region: region-{r}\n  environment: r{r}\n")
    for t in range(TENANTS):
        imports = "".join(f"  - catalog/c{c:03d}\n" for c in tenant_components(t))
        out[f"stacks/orgs/t{t:02d}/_defaults.yaml"] = (
            f"import:\n{imports}vars:\n  tenant: t{t:02d}\n  namespace: acme\n"
            "terraform:\n  backend_type: s3\n  backend:\n    s3:\n      bucket: tfstate\n")
        for s in range(STAGES):
            out[f"stacks/orgs/t{t:02d}/s{s}/_defaults.yaml"] = (
                f"import:\n  - orgs/t{t:02d}/_defaults\nvars:\n  stage: s{s}\n")
            for r in range(REGIONS):
                first = tenant_components(t)[0]
                out[f"stacks/orgs/t{t:02d}/s{s}/r{r}.yaml"] = (
                    f"import:\n  - orgs/t{t:02d}/s{s}/_defaults\n  - mixins/region/r{r}\n"
                    f"components:\n  terraform:\n    c{first:03d}:\n      vars:\n"
                    f"        size: {s * 100 + r}\n")
    return out


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True,
                          text=True).stdout


def commit(repo: Path, changes: dict[str, str], message: str) -> None:
    for path, text in changes.items():
        target = repo / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    git(repo, "add", "-A")
    git(repo, "-c", "user.name=bench", "-c", "user.email=bench@example.com", "commit", "-qm",
        message)


def generate(repo: Path) -> dict[str, str]:
    """The repository on `main`, plus one branch per scenario; returns branch names."""
    git(repo, "init", "-q", "-b", "main")
    base = files()
    commit(repo, base, "generated")
    scenarios = {
        "catalog": ("stacks/catalog/c005.yaml",
                    base["stacks/catalog/c005.yaml"].replace("size: 5", "size: 6")),
        "component": ("components/terraform/c007/main.tf",
                      base["components/terraform/c007/main.tf"] + "# one more line\n"),
        "module": ("modules/shared/main.tf", base["modules/shared/main.tf"] + "# changed\n"),
    }
    for name, (path, text) in scenarios.items():
        git(repo, "checkout", "-q", "-b", name, "main")
        commit(repo, {path: text}, name)
    git(repo, "checkout", "-q", "main")
    return {name: name for name in scenarios}


def time_detect(repo: Path, head: str, detector: Detector | None, repeat: int
                ) -> tuple[float, int]:
    """`detector` None: cold, a new Detector (and so a new StackCache) each run."""
    best, count = float("inf"), 0
    for _ in range(repeat):
        start = time.perf_counter()
        with local_change(repo, "main", head, detector or Detector()) as change:
            count = len(change.projects)
        best = min(best, time.perf_counter() - start)
    return best, count


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--no-check", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="atlantis-bench-affected-") as tmp:
        repo = Path(tmp)
        start = time.perf_counter()
        branches = generate(repo)
        built = time.perf_counter() - start
        results = {}
        for name, branch in branches.items():
            cold, count = time_detect(repo, branch, None, args.repeat)
            detector = Detector()
            time_detect(repo, branch, detector, 1)
            warm, _ = time_detect(repo, branch, detector, args.repeat)
            results[name] = {"affected": count, "cold_s": round(cold, 3),
                             "warm_s": round(warm, 3)}
    report = {"stack_files": TENANTS * STAGES * REGIONS, "components": COMPONENTS,
              "instances_per_ref": TENANTS * STAGES * REGIONS * PER_TENANT,
              "generate_s": round(built, 1), "python": platform.python_version(),
              "machine": platform.machine(), "results": results}
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(f"{report['stack_files']} stacks, {COMPONENTS} components, "
              f"{report['instances_per_ref']} instances per ref (generated in {built:.1f} s)")
        for name, r in results.items():
            print(f"  {name:<10} affected {r['affected']:>4}   cold {r['cold_s']:.3f} s   "
                  f"warm {r['warm_s']:.3f} s")
    slow = [n for n, r in results.items() if r["cold_s"] >= TARGET_S]
    if slow and not args.no_check:
        print(f"over the {TARGET_S:.0f} s target: {', '.join(slow)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
