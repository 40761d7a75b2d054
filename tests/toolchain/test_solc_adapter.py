"""tools/solc-adapter.cjs answers py-solc-x's and ape-solidity's calls the way native solc does."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import solcx

from tests.toolchain.conftest import (
    SPDX,
    compiled,
    error_messages,
    run_adapter,
    standard_input,
)
from tools.toolchain import SOLCX_DIR, pinned_solc_version

COUNTER = SPDX + (
    "contract Counter {\n"
    "    uint256 public count;\n"
    "    function bump() external { count += 1; }\n"
    "}\n"
)


def test_version_answers_the_pinned_version() -> None:
    result = run_adapter("--version")

    assert result.returncode == 0, result.stderr
    assert f"Version: {pinned_solc_version()}+commit." in result.stdout


def test_standard_json_compiles_a_source_read_from_stdin() -> None:
    result = run_adapter(
        "--standard-json", stdin=standard_input({"Counter.sol": {"content": COUNTER}})
    )

    counter = compiled(result)["contracts"]["Counter.sol"]["Counter"]
    assert {item["name"] for item in counter["abi"]} == {"count", "bump"}
    assert len(counter["evm"]["bytecode"]["object"]) > 100


def test_standard_json_compiles_an_input_file_given_as_argument(tmp_path: Path) -> None:
    input_file = tmp_path / "input.json"
    input_file.write_text(standard_input({"Counter.sol": {"content": COUNTER}}))

    result = run_adapter("--standard-json", input_file)

    assert "Counter" in compiled(result)["contracts"]["Counter.sol"]


def test_standard_json_reads_sources_by_url_from_the_base_path_and_include_path(
    layout: Path,
) -> None:
    # "urls" instead of "content": solc asks the adapter's import callback for every file.
    result = run_adapter(
        "--standard-json",
        "--base-path",
        layout / "base",
        "--include-path",
        layout / "lib",
        stdin=standard_input({"src/Main.sol": {"urls": ["src/Main.sol"]}}),
    )

    contracts = compiled(result)["contracts"]
    assert set(contracts) == {"src/Main.sol", "mylib/Lib.sol"}


def test_standard_json_reports_an_import_missing_without_its_include_path(layout: Path) -> None:
    result = run_adapter(
        "--standard-json",
        "--base-path",
        layout / "base",
        stdin=standard_input({"src/Main.sol": {"urls": ["src/Main.sol"]}}),
    )

    [message] = error_messages(result)
    assert 'Source "mylib/Lib.sol" not found' in message


def test_standard_json_refuses_an_import_outside_the_allowed_paths(tmp_path: Path) -> None:
    outside = tmp_path / "outside" / "Far.sol"
    outside.parent.mkdir()
    outside.write_text(SPDX + "library Far {}\n")
    main = SPDX + f'import {{Far}} from "{outside}";\ncontract Main {{}}\n'
    (tmp_path / "base").mkdir()

    result = run_adapter(
        "--standard-json",
        "--base-path",
        tmp_path / "base",
        stdin=standard_input({"Main.sol": {"content": main}}),
    )

    [message] = error_messages(result)
    assert f"File outside of allowed directories: {outside}" in message


def test_standard_json_reads_an_import_inside_the_allowed_paths(tmp_path: Path) -> None:
    outside = tmp_path / "outside" / "Far.sol"
    outside.parent.mkdir()
    outside.write_text(SPDX + "library Far {}\n")
    main = SPDX + f'import {{Far}} from "{outside}";\ncontract Main {{}}\n'
    (tmp_path / "base").mkdir()

    result = run_adapter(
        "--standard-json",
        "--base-path",
        tmp_path / "base",
        "--allow-paths",
        f"{tmp_path / 'elsewhere'},{outside.parent}",
        stdin=standard_input({"Main.sol": {"content": main}}),
    )

    assert "Far" in compiled(result)["contracts"][str(outside)]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--bogus"], "unsupported argument '--bogus'"),
        (["--standard-json", "--optimize"], "unsupported argument '--optimize'"),
        (["--version", "--standard-json"], "--version and --standard-json exclude each other"),
        (["--standard-json", "--base-path"], "option --base-path needs a value"),
        ([], "no mode given"),
    ],
)
def test_unsupported_arguments_exit_2_and_say_what_is_supported(
    arguments: list[str], message: str
) -> None:
    result = run_adapter(*arguments)

    assert result.returncode == 2
    assert result.stdout == ""
    assert f"solc adapter (solcjs): {message}" in result.stderr
    assert "supported: --version | --standard-json" in result.stderr


def large_input() -> dict[str, object]:
    """Sources whose ASTs come to several MiB of JSON (no code generation: fast)."""
    functions = "\n".join(
        f"    function f{n}(uint256 a, uint256 b) external pure returns (uint256) "
        f"{{ return a * {n} + b / {n + 1} - (a ^ b); }}"
        for n in range(40)
    )
    sources = {
        f"C{n}.sol": {"content": f"{SPDX}contract C{n} {{\n{functions}\n}}\n"} for n in range(15)
    }
    return {
        "language": "Solidity",
        "sources": sources,
        "settings": {"outputSelection": {"*": {"": ["ast"], "*": ["abi"]}}},
    }


def test_output_over_a_mebibyte_arrives_whole_through_a_pipe() -> None:
    result = run_adapter("--standard-json", stdin=json.dumps(large_input()))

    assert len(result.stdout.encode()) > 1024 * 1024
    output = compiled(result)
    assert len(output["sources"]) == 15
    assert len(output["contracts"]["C14.sol"]["C14"]["abi"]) == 40


def test_py_solc_x_compiles_through_the_installed_launcher(tmp_path: Path) -> None:
    launcher = SOLCX_DIR / f"solc-v{pinned_solc_version()}"

    output = solcx.compile_standard(large_input(), solc_binary=launcher, base_path=tmp_path)

    assert len(json.dumps(output)) > 1024 * 1024
    assert set(output["contracts"]) == {f"C{n}.sol" for n in range(15)}
