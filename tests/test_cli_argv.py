"""argv corner cases a new user meets (issue 12, items 2-6): -h, '--', clusters of short options,
options without their value, near misses of option and function names, variables named like options."""

import pytest

from gradcalc.argv import split_argv
from gradcalc.errors import UsageError

SEED = ("c*d/(a-b)", "--a", "1", "--b", "2", "--c", "3", "--d", "4")


def test_short_help_is_the_help(run_cli):
    code, out, err = run_cli("-h")
    assert code == 0 and err == "" and "Usage: gradcalc" in out
    assert run_cli("--help")[1] == out


def test_usage_errors_say_how_to_fix_them(run_cli):
    code, _, err = run_cli("x", "--x", "1", "-o", "xml")
    # gradcalc's format, not click's "Usage: ... Try 'gradcalc -h' for help": the hint lists the formats
    assert code == 2 and err.startswith("gradcalc: error: -o xml: ") and "Try '" not in err
    assert "hint: -o takes table, json, jsonl, csv, tsv, plain, dot, svg, png, tree or latex" in err
    code, _, err = run_cli("x", "--x", "1", "--wrt")
    assert code == 2 and "see gradcalc --help" in err
    assert run_cli("-h")[0] == 0  # the promise holds


def test_after_double_dash_options_are_expressions_and_variables_still_variables(run_cli):
    assert run_cli("-o", "plain", "--", "-q", "--q", "1") == (0, "-1 q=-1\n", "")
    # the README's own example, in the default table format
    code, out, err = run_cli("--", "-q", "--q", "1")
    assert code == 0 and err == "" and "output = -1" in out
    # after '--', --format is the variable format, not the option
    assert run_cli("-o", "plain", "--", "format*2", "--format", "3") == (0, "6 format=2\n", "")
    assert run_cli("-o", "plain", "--", "-h*x", "--h=2", "--x", "3") == (0, "-6 h=-3 x=-2\n", "")


@pytest.mark.parametrize("cluster", [("-qo", "plain"), ("-qoplain",), ("-q", "-oplain"), ("-qqo", "plain")])
def test_clustered_short_options(run_cli, cluster):
    # --y is unused: -q must have been read, or a warning would be on stderr
    assert run_cli(*cluster, "x*x", "--x", "2", "--y", "1") == (0, "4 x=4\n", "")


@pytest.mark.parametrize("argv", [("-q*x",), ("-qx",), ("-h*x",), ("-exp(q)",)])
def test_expressions_that_start_like_short_options(run_cli, argv):
    code, out, err = run_cli(*argv, "--q", "0", "--x", "2", "--h", "1", "--qx", "1", "-o", "json")
    assert code == 0, err
    value = {"-q*x": 0.0, "-qx": -1.0, "-h*x": -2.0, "-exp(q)": -1.0}[argv[0]]
    assert f'"value": {value}' in out


@pytest.mark.parametrize("argv,option", [
    (("x", "-o"), "-o"),
    (("x", "--x", "1", "--wrt"), "--wrt"),
    (("x", "--x", "1", "--data"), "--data"),
    (("x", "--x", "1", "--seed-grad"), "--seed-grad"),
    (("x", "--x", "1", "--var"), "--var"),
    (("x", "--x", "1", "--file"), "--file"),
    (("x", "--x", "1", "-qf"), "-f"),
    (("x", "--wrt", "--x", "1"), "--wrt"),
    (("x", "--x", "1", "--precision", "--", "x"), "--precision"),
])
def test_an_option_without_its_value_says_so(run_cli, argv, option):
    code, out, err = run_cli(*argv)
    assert code == 2 and out == ""
    assert err.startswith(f"gradcalc: error: option {option} needs a value\n"), err
    assert "'--'" not in err and "variable --" not in err


def test_a_variable_without_its_value_says_so(run_cli):
    code, _, err = run_cli("x", "--x", "--", "y")
    assert code == 2 and "--x needs a value" in err


def test_misspelled_option_with_a_word_value(run_cli):
    code, out, err = run_cli(*SEED, "--formt", "json")
    assert code == 2 and out == ""
    assert "did you mean --format?" in err


@pytest.mark.parametrize("name,option", [("formt", "--format"), ("precison", "--precision")])
def test_misspelled_option_with_a_number_is_an_unused_variable_with_a_suggestion(run_cli, name, option):
    # an option that takes a value: its value was meant for it, nothing else was taken; a warning
    code, out, err = run_cli("x", "--x", "2", f"--{name}", "3", "-o", "plain")
    assert (code, out) == (0, "2 x=1\n")
    assert err == f"gradcalc: warning: --{name} is not used by the expression; did you mean {option}?\n"


@pytest.mark.parametrize("name,option", [("fail_fast", "--fail-fast"), ("chek", "--check"), ("hesian", "--hessian")])
def test_misspelled_switch_with_a_number_is_refused_before_anything_runs(run_cli, name, option):
    # a switch takes no value: --chek 3 took 3 from the line, and the run would lack --check (its exit 1)
    code, out, err = run_cli("x", "--x", "2", f"--{name}", "3", "-o", "plain")
    assert (code, out) == (2, "")
    assert err == (f"gradcalc: error: --{name} is not one of gradcalc's options, nor a variable of the expression\n"
                   f"    --{name} 3\n    {'^' * (len(name) + 2)}\n"
                   f"  hint: did you mean {option}? ({option} takes no value: write it alone)\n")


def test_no_suggestion_for_a_used_name_or_a_far_one(run_cli):
    assert run_cli("formt*2", "--formt", "3", "-o", "plain") == (0, "6 formt=2\n", "")
    assert run_cli("chek*2", "--chek", "3", "-o", "plain") == (0, "6 chek=2\n", "")  # a variable of that name
    code, _, err = run_cli("x", "--x", "2", "--y", "3", "-o", "plain")
    assert err == "gradcalc: warning: --y is not used by the expression; its variables are: x\n"


def test_misspelled_negated_option(run_cli):
    code, _, err = run_cli("x", "--x", "1", "--no-node")
    assert code == 2 and "did you mean --no-nodes?" in err


def test_missing_variable_named_like_an_option_points_to_var(run_cli):
    code, _, err = run_cli("format*2")
    assert code == 2
    assert "give --var format=VALUE, or bind it on the line" in err and "--format VALUE" not in err
    code, _, err = run_cli("format*x*y", "--y", "1")
    assert "give --var format=VALUE --x VALUE, or bind them" in err
    assert run_cli("format*2", "--var", "format=3", "-o", "plain") == (0, "6 format=2\n", "")


def test_a_flag_followed_by_a_number_is_refused(run_cli):
    code, out, err = run_cli("check*2", "--check", "2")
    assert code == 2 and out == ""
    assert "--check is one of gradcalc's options and takes no value" in err and "--var check=2" in err
    assert run_cli("check*2", "--var", "check=2", "-o", "plain") == (0, "4 check=2\n", "")
    assert run_cli("x", "--help", "2")[0] == 0  # a page flag: what follows does not matter
    # the flag still works before an expression that is not a bare number
    code, out, _ = run_cli("--check", "x*x", "--x", "3", "-o", "plain")
    assert (code, out) == (0, "9 x=6 check=ok\n")


TABLE = {"-o": "FORMAT", "--format": "FORMAT", "-f": "FILE", "--file": "FILE", "-q": None, "--quiet": None,
         "--check": None, "-h": None, "--help": None}


@pytest.mark.parametrize("argv,own,expressions,values", [
    (["-fjobs.txt", "--a", "-1"], ["-f", "jobs.txt"], [], {"a": "-1"}),
    (["-qf", "jobs.txt"], ["-q", "-f", "jobs.txt"], [], {}),
    (["-x*y", "--x=2", "--y", "-3e-1"], [], ["-x*y"], {"x": "2", "y": "-3e-1"}),
    (["-q*x", "-qx", "-", "-1"], [], ["-q*x", "-qx", "-", "-1"], {}),
    (["--format=json", "a", "--", "-h", "--format", "2", "--check", "1", "-o"],
     ["--format=json"], ["a", "-h", "-o"], {"format": "2", "check": "1"}),
    (["--help", "2"], ["--help"], ["2"], {}),
])
def test_split_argv(argv, own, expressions, values):
    assert split_argv(argv, TABLE, frozenset({"--help"})) == ([*own, "--", *expressions], values)


@pytest.mark.parametrize("argv,words", [
    (["-qo"], "option -o needs a value"),
    (["--file", "--x", "1"], "option --file needs a value"),
    (["--x"], "--x needs a value"),
    (["--x", "1", "--x", "2"], "--x 1 --x 2: x is given twice"),
    (["--check", "2"], "--check is one of gradcalc's options and takes no value"),
    (["--no-quiet"], "not an option and not a variable name"),
])
def test_split_argv_refuses(argv, words):
    with pytest.raises(UsageError) as raised:
        split_argv(argv, TABLE, frozenset({"--help"}))
    assert words in raised.value.message
