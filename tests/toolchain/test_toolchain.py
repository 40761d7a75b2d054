"""The toolchain is whole and pinned once: package.json, ape-config.yaml and the adapter agree,
and a broken contract fails `ape compile` with its file and line."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import yaml

from harness.nodes import VENV_BIN, subprocess_env
from tests.toolchain.conftest import ROOT, SPDX, run_adapter
from tools.toolchain import SOLCX_DIR, installed_solcjs_version, pinned_solc_version

TOOLCHAIN = ROOT / "tools" / "toolchain.py"


def test_solc_pins_agree_across_package_json_ape_config_and_the_adapter() -> None:
    package_pin = json.loads((ROOT / "package.json").read_text())["dependencies"]["solc"]
    ape_pin = yaml.safe_load((ROOT / "ape-config.yaml").read_text())["solidity"]["version"]
    answer = run_adapter("--version").stdout
    match = re.search(r"^Version: (\d+\.\d+\.\d+)\+", answer, re.MULTILINE)
    assert match is not None, answer

    assert package_pin == ape_pin == match.group(1) == installed_solcjs_version()


def test_installed_launcher_answers_the_pinned_version() -> None:
    launcher = SOLCX_DIR / f"solc-v{pinned_solc_version()}"

    result = subprocess.run([str(launcher), "--version"], capture_output=True, text=True)

    assert result.returncode == 0, result.stderr
    assert f"Version: {pinned_solc_version()}+commit." in result.stdout


def test_toolchain_check_passes_in_the_venv() -> None:
    result = subprocess.run(
        [sys.executable, str(TOOLCHAIN), "check"], capture_output=True, text=True, cwd=ROOT
    )

    assert (result.returncode, result.stderr) == (0, "")


def test_toolchain_refuses_to_run_outside_the_venv() -> None:
    base_python = Path(sys.base_prefix) / "bin" / "python3"
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}

    result = subprocess.run(
        [str(base_python), str(TOOLCHAIN), "check"], capture_output=True, text=True, env=env
    )

    assert result.returncode == 2
    assert "run me with the project's venv python" in result.stderr


def test_ape_compile_reports_a_syntax_error_with_its_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "ape-config.yaml").write_text((ROOT / "ape-config.yaml").read_text())
    (tmp_path / "node_modules").symlink_to(ROOT / "node_modules")
    (tmp_path / "contracts").mkdir()
    # Line 7 lacks its semicolon; solc reports it where the next token is, line 8.
    (tmp_path / "contracts" / "Broken.sol").write_text(
        SPDX
        + "\n"  # 3
        + "contract Broken {\n"  # 4
        + "    uint256 private total;\n"  # 5
        + "    function add(uint256 value) external {\n"  # 6
        + "        total += value\n"  # 7
        + "    }\n"  # 8
        + "}\n"
    )

    result = subprocess.run(
        [str(VENV_BIN / "ape"), "compile"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=subprocess_env(),
        timeout=300,
    )

    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "ParserError: Expected ';' but got '}'" in output
    assert "Broken.sol:8:" in output
