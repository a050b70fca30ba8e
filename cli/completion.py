"""Shell completion of `s3c`: click `shell_complete=` callbacks for activity ids, descriptor ids
and `-p NAME=VALUE`, and the shells `s3c completion SHELL` installs.

Completion reads the exported descriptors (`Registry.installed()`) and loads no command it
does not complete, so it imports neither boto3, botocore, awscrt nor jsonschema (except for
`s3c policy`, `serve`, `new` and `local`, whose modules import them). A completion never
fails: a broken descriptor gives no candidate, not a traceback.
"""

from __future__ import annotations

import os
from typing import Any

import click
from click.shell_completion import (
    BashComplete,
    CompletionItem,
    FishComplete,
    ShellComplete,
    ZshComplete,
    split_arg_string,
)

PARAMETERS_PARAM = "parameters"
"""The name of `s3c run`'s `-p` option, whose values name the fields already given."""


def _descriptors() -> tuple[list[str], Any]:
    from .run_help import installed_registry

    registry = installed_registry()
    return registry.ids, registry


def activity_ids(ctx: click.Context, param: click.Parameter, incomplete: str):
    """The activity ids that start with `incomplete`, each with its name."""
    try:
        ids, registry = _descriptors()
        return [
            CompletionItem(i, help=registry.descriptor(i).get("name"))
            for i in ids
            if i.startswith(incomplete)
        ]
    except Exception:
        return []


def descriptor_ids(ctx: click.Context, param: click.Parameter, incomplete: str):
    """`connection` and the activity ids that start with `incomplete`."""
    found = [CompletionItem("connection", help="The connection's settings")]
    found = [item for item in found if item.value.startswith(incomplete)]
    return found + activity_ids(ctx, param, incomplete)


def paths(ctx: click.Context, param: click.Parameter, incomplete: str):
    """Let the shell complete a file or directory name."""
    return [CompletionItem(incomplete, type="file")]


def run_parameters(ctx: click.Context, param: click.Parameter, incomplete: str):
    """`-p` of `s3c run ACTIVITY`: `NAME=` for the fields of ACTIVITY not given yet, then,
    after `NAME=`, the values of an enum or a boolean field. While `-p` waits for its value,
    click leaves ACTIVITY unparsed, among the context's leftover arguments."""
    activity_id = ctx.params.get("activity") or next(iter(ctx.args), None)
    if not activity_id:
        return []
    try:
        ids, registry = _descriptors()
        fields = registry.descriptor(activity_id)["fields"] if activity_id in ids else []
    except Exception:
        return []
    name, equals, value = incomplete.partition("=")
    if not equals:
        given = {text.partition("=")[0] for text in ctx.params.get(PARAMETERS_PARAM) or ()}
        return [
            CompletionItem(f"{field['name']}=", help=field.get("label"))
            for field in fields
            if field["name"].startswith(name) and field["name"] not in given
        ]
    field = next((field for field in fields if field["name"] == name), None)
    if field is None:
        return []
    if "enum" in field:
        values = [str(choice) for choice in field["enum"]]
    elif field["type"] == "boolean":
        values = ["true", "false"]
    else:
        return []
    return [CompletionItem(f"{name}={choice}") for choice in values if choice.startswith(value)]


def commands(group: click.Group, ctx: click.Context, incomplete: str):
    """The commands of the top-level group that start with `incomplete`, each with its line,
    loading none of the lazy ones."""
    lazy = getattr(group, "lazy_help", dict)()
    found = []
    for name in group.list_commands(ctx):
        if not name.startswith(incomplete):
            continue
        if name in lazy and name not in group.commands:
            found.append(CompletionItem(name, help=lazy[name]))
            continue
        command = group.get_command(ctx, name)
        if command is not None and not command.hidden:
            found.append(CompletionItem(name, help=command.get_short_help_str()))
    return found


class _Commands(ShellComplete):
    """Completes the first word, a command, without loading every command."""

    def get_completions(self, args: list[str], incomplete: str) -> list[CompletionItem]:
        first = all(arg.startswith("-") for arg in args) and not incomplete.startswith("-")
        if first and isinstance(self.cli, click.Group):
            return commands(self.cli, click.Context(self.cli), incomplete)
        return super().get_completions(args, incomplete)


BASH_SCRIPT = """\
%(complete_func)s() {
    local IFS=$'\\n'
    local response completion type value
    response=$(env COMP_LINE="$COMP_LINE" COMP_POINT="$COMP_POINT" \\
COMP_WORDBREAKS="$COMP_WORDBREAKS" "$1" completion --complete bash 2>/dev/null)
    COMPREPLY=()
    for completion in $response; do
        IFS=',' read -r type value <<< "$completion"
        if [[ $type == 'dir' ]]; then
            compopt -o dirnames
        elif [[ $type == 'file' ]]; then
            compopt -o default
        elif [[ $type == 'plain' ]]; then
            COMPREPLY+=("$value")
            [[ $value == *= ]] && compopt -o nospace
        fi
    done
    return 0
}

complete -o nosort -F %(complete_func)s %(prog_name)s
"""


class Bash(_Commands, BashComplete):
    """Bash, from the whole line: bash splits `-p NAME=VALUE` into three words at `=` (see
    COMP_WORDBREAKS), so the line is split here as the shell splits arguments, and each
    candidate is given back from where bash's current word starts."""

    source_template = BASH_SCRIPT

    def get_completion_args(self) -> tuple[list[str], str]:
        line = os.environ.get("COMP_LINE", "")
        line = line[: int(os.environ.get("COMP_POINT", len(line)))]
        words = split_arg_string(line)
        if not line or line[-1].isspace() or not words:
            args, incomplete = words[1:], ""
        else:
            args, incomplete = words[1:-1], words[-1]
        breaks = [c for c in "=:" if c in os.environ.get("COMP_WORDBREAKS", "=:")]
        self.cut = max((incomplete.rfind(c) + 1 for c in breaks), default=0)
        self.typed = incomplete
        return args, incomplete

    def format_completion(self, item: CompletionItem) -> str:
        value = item.value
        if item.type == "plain" and value.startswith(self.typed[: self.cut]):
            value = value[self.cut :]
        return f"{item.type},{value}"


ZSH_SCRIPT = """\
#compdef %(prog_name)s

%(complete_func)s() {
    local -a completions completions_with_descriptions fields response
    (( ! $+commands[%(prog_name)s] )) && return 1

    response=("${(@f)$(env COMP_WORDS="${words[*]}" COMP_CWORD=$((CURRENT-1)) \\
%(prog_name)s completion --complete zsh 2>/dev/null)}")

    for type key descr in ${response}; do
        if [[ "$type" == "plain" ]]; then
            if [[ "$key" == *= ]]; then
                fields+=("$key")
            elif [[ "$descr" == "_" ]]; then
                completions+=("$key")
            else
                completions_with_descriptions+=("$key":"$descr")
            fi
        elif [[ "$type" == "dir" ]]; then
            _path_files -/
        elif [[ "$type" == "file" ]]; then
            _path_files -f
        fi
    done

    if [ -n "$completions_with_descriptions" ]; then
        _describe -V unsorted completions_with_descriptions -U
    fi
    if [ -n "$completions" ]; then
        compadd -U -V unsorted -a completions
    fi
    if [ -n "$fields" ]; then
        compadd -U -S '' -V unsorted -a fields
    fi
}

if [[ $zsh_eval_context[-1] == loadautofunc ]]; then
    %(complete_func)s "$@"
else
    compdef %(complete_func)s %(prog_name)s
fi
"""


class Zsh(_Commands, ZshComplete):
    """zsh: click's script, asking `s3c completion --complete zsh`; `NAME=` gets no space."""

    source_template = ZSH_SCRIPT


FISH_SCRIPT = """\
function %(complete_func)s;
    set -l response (env COMP_WORDS=(commandline -cp) COMP_CWORD=(commandline -t) \\
%(prog_name)s completion --complete fish 2>/dev/null);

    for completion in $response;
        set -l metadata (string split -m 1 "," $completion);

        if test $metadata[1] = "dir";
            __fish_complete_directories $metadata[2];
        else if test $metadata[1] = "file";
            __fish_complete_path $metadata[2];
        else if test $metadata[1] = "plain";
            echo $metadata[2];
        end;
    end;
end;

complete --no-files --command %(prog_name)s --arguments "(%(complete_func)s)";
"""


class Fish(_Commands, FishComplete):
    """fish: click's script, asking `s3c completion --complete fish`."""

    source_template = FISH_SCRIPT


SHELLS: dict[str, type[ShellComplete]] = {"bash": Bash, "zsh": Zsh, "fish": Fish}
